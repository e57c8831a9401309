/**
 * End to end, offline: espeak-ng speech (with silence before and after) + the astronaut portrait
 * → the render pipeline → an MP4, decoded back and measured:
 * - the mouth region opens during speech and rests in silence (opening vs speech envelope:
 *   Pearson r >= 0.5 at the best lag, that lag within 80 ms);
 * - frames outside the face are stable (no drift of the background);
 * - the video lasts as long as the audio, within one frame.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../config/load.js';
import { renderToMp4, type RenderResult } from '../../pipeline/render/render-file.js';
import { readMp4, type DecodedMp4 } from '../../pipeline/encode/mp4-reader.js';
import { enrolPortrait } from '../../models/face/enrol.js';
import type { EnrolledPortrait } from '../../models/face/PortraitTypes.js';
import { ASTRONAUT, paddedSpeechWav, wavSamples } from '../helpers/speech.js';
import { estimateLipSyncOffset } from '../../pipeline/motion/lip-sync.js';
import { frameRms, meanAbsDiff, meanLuma, mouthBox, type Rect } from '../helpers/video-measures.js';

const PAD_SEC = 1.2;
const dir = mkdtempSync(join(tmpdir(), 'render-it-'));
const wavPath = join(dir, 'speech.wav');
const outPath = join(dir, 'out.mp4');
// the square Sonic crop (render-tall.test.ts renders the kiosk-shaped pictures)
const config = parseConfig({ avatar: { width: null, height: null }, runtime: { cache_dir: join(dir, 'cache') } });
const fps = config.avatar.fps;

let result: RenderResult;
let video: DecodedMp4;
let portrait: EnrolledPortrait;
let envelope: number[];

beforeAll(async () => {
  const wav = paddedSpeechWav(undefined, PAD_SEC);
  writeFileSync(wavPath, wav);
  result = await renderToMp4({ audio: wavPath, portrait: ASTRONAUT, out: outPath, config });
  video = await readMp4(outPath);
  portrait = await enrolPortrait(ASTRONAUT, {
    minResolution: config.avatar.min_resolution,
    expandRatio: config.avatar.expand_ratio,
    cacheDir: config.runtime.cache_dir,
  });
  const { samples, sampleRate } = wavSamples(wav);
  envelope = frameRms(samples, sampleRate, fps, video.video.frames.length);
}, 240_000);

describe('rendering the astronaut speaking a sentence', () => {
  it('writes H.264 + AAC at the configured size and rate, as long as the audio within one frame', () => {
    expect(video.video.codec).toBe('h264');
    expect(video.audio.codec).toBe('aac');
    expect(video.video.width).toBe(config.avatar.min_resolution);
    expect(video.video.height).toBe(config.avatar.min_resolution);
    expect(video.video.fps).toBeCloseTo(fps, 3);
    const videoSec = video.video.frames.length / fps;
    expect(Math.abs(videoSec - result.durationSec)).toBeLessThanOrEqual(1 / fps);
    expect(Math.abs(video.audio.samples.length / video.audio.sampleRate - result.durationSec)).toBeLessThanOrEqual(1 / fps);
  });

  it('opens the mouth with the speech: r >= 0.5 at the best lag, lag within 80 ms', () => {
    const box = mouthBox(portrait);
    const frames = video.video.frames;
    const w = video.video.width;
    const restFrames = Math.floor(PAD_SEC * fps) - 3;
    const rest = mean(frames.slice(2, restFrames).map((f) => meanLuma(f, w, box)));
    // opening = how much darker the mouth is than at rest (the open mouth shows a dark cavity)
    const opening = frames.map((f) => rest - meanLuma(f, w, box));
    // the lip-sync calibration measures it: best lag searched over +-200 ms
    const { r, lagMs, refinedLagMs } = estimateLipSyncOffset(opening, envelope, fps, 5);
    console.log(`mouth opening vs speech envelope: r=${r.toFixed(3)} at lag ${lagMs} ms (refined ${refinedLagMs.toFixed(1)} ms)`);
    expect(r).toBeGreaterThanOrEqual(0.5);
    expect(Math.abs(lagMs)).toBeLessThanOrEqual(80);

    // rests in silence: leading and trailing silence show the closed mouth
    const speaking = opening.filter((_, i) => envelope[i]! > 0.05);
    const peak = quantile(speaking, 0.9);
    expect(peak).toBeGreaterThan(8); // a visible opening, in luma levels
    const lead = opening.slice(2, restFrames);
    const tail = opening.slice(opening.length - restFrames + 5);
    expect(Math.max(...lead.map(Math.abs))).toBeLessThan(peak * 0.25);
    expect(Math.max(...tail.map(Math.abs))).toBeLessThan(peak * 0.25);
  });

  it('keeps the background outside the face still (no drift)', () => {
    const frames = video.video.frames;
    const w = video.video.width;
    const h = video.video.height;
    const s = Math.round(w / 8);
    const corners: Rect[] = [
      { x: 0, y: 0, width: s, height: s },
      { x: w - s, y: 0, width: s, height: s },
      { x: 0, y: h - s, width: s, height: s },
      { x: w - s, y: h - s, width: s, height: s },
    ];
    const first = frames[0]!;
    let worst = 0;
    for (const f of frames) for (const c of corners) worst = Math.max(worst, meanAbsDiff(f, first, w, c));
    console.log(`background: worst mean |diff| against frame 0 in the corners = ${worst.toFixed(2)} levels`);
    expect(worst).toBeLessThan(2.5);
  });

  it('reports the time of every stage', () => {
    expect(result.engine.framesRendered).toBeGreaterThanOrEqual(video.video.frames.length);
    for (const stage of ['features', 'motion', 'render']) {
      expect(result.engine.stages[stage]?.count ?? 0).toBeGreaterThan(0);
    }
  });
});

function mean(xs: number[]): number {
  return xs.reduce((a, b) => a + b, 0) / xs.length;
}

function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
}
