/**
 * Writes docs/mouth-shapes.png (the embedded portrait) and .cache/docs/mouth-shapes-closed-lips.png
 * (Grace Hopper's official photograph, lips closed: matplotlib's sample data, Debian
 * python-matplotlib-data; another project's example media, so the strip stays out of the repository):
 * each portrait's lower face at a closure (the b of "boot"), an open vowel (the a of
 * "father"), a rounded vowel (the oo of "boot"), a spread vowel (the ee of "see") and a labiodental
 * (the f of "father"), rendered by the portrait engine from espeak-ng's phones (issue 18).
 * Run: npx tsx docs/mouth-shapes.ts
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { parseConfig } from '../config/load.js';
import { DEFAULT_PORTRAIT } from '../config/schema.js';
import { enrolOptions, enrolPortrait } from '../models/face/enrol.js';
import { encodePng, resizeRgba } from '../models/face/image.js';
import { i420ToRgba } from '../models/portrait-renderer/colour.js';
import { resample } from '../pipeline/audio/resampler.js';
import { PortraitEngine } from '../pipeline/engine/portrait-engine.js';
import { espeakSpeak } from '../pipeline/phonemes/espeak-phones.js';
import { ANALYSIS_RATE, type AvatarFrame } from '../pipeline/records.js';
import { hopperPortrait } from '../test/helpers/speech.js';

const config = parseConfig({ avatar: { width: null, height: null }, runtime: { cache_dir: '.cache/portraits' } });
const speech = espeakSpeak('My father wore a boot, see?', 'en-us', 140);

async function strip(photo: Uint8Array | string, out: string): Promise<void> {
  const portrait = await enrolPortrait(photo, enrolOptions(config.avatar, config.runtime.cache_dir));
  const engine = await PortraitEngine.create(portrait, config);
  engine.pushPhones(speech.phones);
  engine.pushAudio(resample(speech.samples, speech.sampleRate, ANALYSIS_RATE));
  engine.pushSilence(ANALYSIS_RATE);
  const frames: AvatarFrame[] = [];
  while (engine.framesReady() > 0) frames.push(...(await engine.renderReady()));
  await engine.close();

  const mid = (i: number) => Math.floor(((speech.phones[i]!.start + speech.phones[i]!.end) / 2) * 25);
  const find = (name: string, after = 0) => speech.phones.findIndex((p, i) => i >= after && p.phone === name);
  const boot = find('b');
  const picks = [['closure (b)', mid(boot)], ['open vowel (A: of father)', mid(find('A:'))], ['rounded vowel (u: of boot)', mid(find('u:', boot))], ['spread vowel (i: of see)', mid(find('i:', boot))], ['labiodental (f of father)', mid(find('f'))]] as const;
  const { mouth } = portrait.landmarks;
  const cx = (mouth.left.x + mouth.right.x) / 2, cy = (mouth.left.y + mouth.right.y) / 2;
  const w = Math.round(2.6 * Math.abs(mouth.right.x - mouth.left.x)), h = Math.round(0.75 * w);
  const box = { x: Math.round(cx - w / 2), y: Math.round(cy - 0.4 * h), width: w, height: h };
  const S = 240, H = Math.round((S * h) / w), gap = 8;
  const outImage = { width: picks.length * S + (picks.length - 1) * gap, height: H, rgba: new Uint8Array((picks.length * S + (picks.length - 1) * gap) * H * 4).fill(255) };
  picks.forEach(([label, k], n) => {
    const f = frames[k]!;
    const crop = resizeRgba({ width: f.width, height: f.height, rgba: i420ToRgba(f.i420, f.width, f.height) }, box, S, H);
    for (let y = 0; y < H; y++) outImage.rgba.set(crop.rgba.subarray(y * S * 4, (y + 1) * S * 4), (y * outImage.width + n * (S + gap)) * 4);
    console.log(`${label}: frame ${k}, jawOpen ${f.params.jawOpen.toFixed(2)}, lipRound ${f.params.lipRound.toFixed(2)}, lipPress ${f.params.lipPress}, lipBite ${f.params.lipBite}`);
  });
  writeFileSync(out, encodePng(outImage));
}

console.log('the embedded portrait:');
await strip(DEFAULT_PORTRAIT, new URL('./mouth-shapes.png', import.meta.url).pathname);
console.log('Grace Hopper (lips closed):');
const local = new URL('../.cache/docs/', import.meta.url).pathname;
mkdirSync(local, { recursive: true });
await strip(hopperPortrait(), `${local}mouth-shapes-closed-lips.png`);
