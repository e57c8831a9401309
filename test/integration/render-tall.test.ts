/**
 * A kiosk-shaped picture (issue 15): `avatar.width` x `avatar.height` 720x1280 from a tall photo
 * (the astronaut photograph cut to 288x512, shoulders included) and from a square one, rendered
 * offline: the video's size, the face where the framing rule puts it (found by the face detector
 * on a decoded frame), audio and video equally long, the mouth following the speech (r >= 0.5),
 * no black band where the photo ends; and a photo whose face is too small for the asked size is
 * refused with a clear error.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../config/load.js';
import { enrolOptions, enrolPortrait } from '../../models/face/enrol.js';
import { PortraitError } from '../../models/face/errors.js';
import { detectFaces } from '../../models/face/face-mesh.js';
import { decodeImage, encodePng, resizeRgba } from '../../models/face/image.js';
import { i420ToRgba } from '../../models/portrait-renderer/colour.js';
import { readMp4 } from '../../pipeline/encode/mp4-reader.js';
import { estimateLipSyncOffset } from '../../pipeline/motion/lip-sync.js';
import { renderToMp4 } from '../../pipeline/render/render-file.js';
import { ASTRONAUT, paddedSpeechWav, wavSamples } from '../helpers/speech.js';
import { frameRms, meanLuma, mouthBox } from '../helpers/video-measures.js';

const PAD_SEC = 1.0;
const dir = mkdtempSync(join(tmpdir(), 'render-tall-'));
const config = parseConfig({ avatar: { width: 720, height: 1280 }, runtime: { cache_dir: join(dir, 'cache') } });
const fps = config.avatar.fps;
const wav = paddedSpeechWav('Good morning. Please take a number and wait until it is called.', PAD_SEC);
const wavPath = join(dir, 'speech.wav');
writeFileSync(wavPath, wav);

/** the astronaut photograph cut to a tall 288x512 picture around her (a real photo, shoulders and all) */
function tallPhoto(): string {
  const src = decodeImage(new Uint8Array(readFileSync(ASTRONAUT)));
  const cut = resizeRgba(src, { x: 90, y: 0, width: 288, height: 512 }, 288, 512);
  const p = join(dir, 'tall.png');
  writeFileSync(p, encodePng(cut));
  return p;
}

describe('a 720x1280 picture', () => {
  for (const [name, photo] of [['a tall photo (288x512)', tallPhoto], ['a square photo (512x512)', () => ASTRONAUT]] as const) {
    it(`from ${name}: 720x1280, the face where the rule puts it, audio and video as long, the mouth with the speech, no black band`, async () => {
      const path = photo();
      const out = join(dir, `${name.length}.mp4`);
      const result = await renderToMp4({ audio: wavPath, portrait: path, out, config });
      const video = await readMp4(out);
      const { width: w, height: h } = video.video;
      expect([w, h]).toEqual([720, 1280]);
      const videoSec = video.video.frames.length / fps;
      expect(Math.abs(videoSec - result.durationSec)).toBeLessThanOrEqual(1 / fps);
      expect(Math.abs(video.audio.samples.length / video.audio.sampleRate - result.durationSec)).toBeLessThanOrEqual(1 / fps);
      // the face, found on the first decoded frame
      const faces = await detectFaces({ width: w, height: h, rgba: i420ToRgba(video.video.frames[0]!, w, h) });
      expect(faces.length).toBeGreaterThanOrEqual(1);
      const f = faces[0]!.box;
      const centreY = (f.y + f.height / 2) / h;
      console.log(`[tall] ${name}: face ${f.width.toFixed(0)}x${f.height.toFixed(0)} at ${f.x.toFixed(0)},${f.y.toFixed(0)}: height ${(f.height / h).toFixed(3)} of the frame (rule ${config.avatar.framing.face_height}), centre at ${centreY.toFixed(3)} (rule ${config.avatar.framing.face_centre_y}), x centre ${((f.x + f.width / 2) / w).toFixed(3)}`);
      expect(Math.abs(f.height / h - config.avatar.framing.face_height)).toBeLessThan(0.05);
      expect(Math.abs(centreY - config.avatar.framing.face_centre_y)).toBeLessThan(0.05);
      expect(Math.abs((f.x + f.width / 2) / w - 0.5)).toBeLessThan(0.05);
      // no black band: every edge row and column of the frame has some light
      const y = video.video.frames[0]!;
      const rowLuma = (r: number) => meanLuma(y, w, { x: 0, y: r, width: w, height: 1 });
      const colLuma = (c: number) => meanLuma(y, w, { x: c, y: 0, width: 1, height: h });
      expect(Math.min(rowLuma(0), rowLuma(h - 1), colLuma(0), colLuma(w - 1))).toBeGreaterThan(24);
      // the mouth follows the speech
      const portrait = await enrolPortrait(path, enrolOptions(config.avatar, config.runtime.cache_dir));
      expect([portrait.width, portrait.height]).toEqual([720, 1280]);
      const box = mouthBox(portrait);
      const frames = video.video.frames;
      const restFrames = Math.floor(PAD_SEC * fps) - 3;
      const rest = frames.slice(2, restFrames).reduce((s, fr) => s + meanLuma(fr, w, box), 0) / (restFrames - 2);
      const opening = frames.map((fr) => rest - meanLuma(fr, w, box));
      const { samples, sampleRate } = wavSamples(wav);
      const { r, lagMs } = estimateLipSyncOffset(opening, frameRms(samples, sampleRate, fps, frames.length), fps, 5);
      console.log(`[tall] ${name}: mouth opening vs speech r=${r.toFixed(3)} at lag ${lagMs} ms; rendered at ${(result.durationSec / result.wallSec).toFixed(2)}x real time`);
      expect(r).toBeGreaterThanOrEqual(0.5);
      expect(Math.abs(lagMs)).toBeLessThanOrEqual(80);
    }, 180_000);
  }

  it('a photo whose face is too small for the asked size is refused, saying why', async () => {
    const small = decodeImage(new Uint8Array(readFileSync(ASTRONAUT)));
    const bytes = encodePng(resizeRgba(small, { x: 0, y: 0, width: 512, height: 512 }, 320, 320));
    const big = parseConfig({ avatar: { width: 1080, height: 1920 } });
    const e = await enrolPortrait(new Uint8Array(bytes), enrolOptions(big.avatar)).then(() => undefined, (x: unknown) => x);
    expect(e).toBeInstanceOf(PortraitError);
    expect((e as PortraitError).code).toBe('face-too-small');
    expect((e as Error).message).toMatch(/1080x1920.*enlarge the photo [\d.]+x \(at most 4x\)/);
  }, 60_000);
});
