import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SileroVad, VadTracker, vadPerFrame, VAD_FRAME } from '../../pipeline/motion/vad.js';
import { padded, rmsPerFrame, speech16k } from './audio.js';

const FPS = 25;
let vad: SileroVad;
let audio: Float32Array;
let rms: number[];

beforeAll(async () => {
  vad = await SileroVad.create({ intraOpNumThreads: 1 });
  audio = padded(speech16k(), 0.6, 1.0);
  rms = rmsPerFrame(audio, FPS);
});
afterAll(async () => { await vad.close(); });

/** Frames at least `margin` frames away from any frame with audio above -60 dBFS. */
function silentFrames(margin: number): number[] {
  const loud = rms.map((r) => r > 1e-3);
  return rms.map((_, k) => k).filter((k) => {
    for (let j = Math.max(0, k - margin); j <= Math.min(rms.length - 1, k + margin); j++) if (loud[j]) return false;
    return true;
  });
}

describe('Silero VAD v5 (onnxruntime-node)', () => {
  it('scores voiced frames of the espeak sentence high and silence low', async () => {
    const p = await vadPerFrame(vad, audio, FPS);
    expect(p.length).toBe(rms.length);
    const voiced = rms.map((r, k) => (20 * Math.log10(r + 1e-9) > -30 ? k : -1)).filter((k) => k >= 0);
    expect(voiced.length).toBeGreaterThan(60);
    const high = voiced.filter((k) => p[k] > 0.5).length;
    expect(high / voiced.length).toBeGreaterThan(0.8);
    const quiet = silentFrames(8);
    expect(quiet.length).toBeGreaterThan(20);
    for (const k of quiet) expect(p[k]).toBeLessThan(0.2);
  });

  it('gives the same per-frame probabilities whatever the chunking, and again after reset()', async () => {
    const offline = await vadPerFrame(vad, audio, FPS);
    const t = new VadTracker(vad, FPS);
    t.reset(0);
    const got: number[] = [];
    const sizes = [1, 511, 160, 1000, 333, 4096];
    let i = 0, s = 0;
    while (i < audio.length) {
      const n = Math.min(sizes[s++ % sizes.length], audio.length - i);
      t.push(audio.subarray(i, i + n));
      i += n;
      if (s % 3 === 0) {
        await t.run();
        while (t.framesReady() > 0) got.push(t.read().vad);
      }
    }
    t.push(new Float32Array(t.lookaheadSamples + VAD_FRAME));
    await t.run();
    while (t.framesReady() > 0 && got.length < offline.length) got.push(t.read().vad);
    expect(got.length).toBe(offline.length);
    for (let k = 0; k < offline.length; k++) expect(got[k]).toBeCloseTo(offline[k], 6);
  });

  it('keeps its recurrent state between frames: the same frame scores differently after speech than after reset', async () => {
    const start = Math.round(0.6 * 16_000) + 8 * VAD_FRAME;
    const frame = audio.slice(start, start + VAD_FRAME);
    vad.reset();
    const cold = await vad.process(frame);
    vad.reset();
    for (let j = 0; j < 8; j++) await vad.process(audio.slice(start - (8 - j) * VAD_FRAME, start - (7 - j) * VAD_FRAME));
    const warm = await vad.process(frame);
    expect(Math.abs(warm - cold)).toBeGreaterThan(1e-4);
    vad.reset();
    expect(await vad.process(frame)).toBeCloseTo(cold, 6);
  });

  it('rejects frames of the wrong size and a missing model with clear errors', async () => {
    await expect(vad.process(new Float32Array(480))).rejects.toThrow(/512 samples/);
    await expect(SileroVad.create({ modelPath: '/nonexistent/silero.onnx' })).rejects.toThrow(/not found/);
  });
});
