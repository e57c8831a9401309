import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FeatureExtractor } from '../../pipeline/motion/features.js';
import { VISEME_INDEX } from '../../pipeline/motion/visemes.js';
import { framePts, type FeatureFrame } from '../../pipeline/records.js';
import { padded, rmsPerFrame, speech16k } from './audio.js';

const FPS = 25;
let fx: FeatureExtractor;
let audio: Float32Array;
let env: number[];

beforeAll(async () => {
  fx = await FeatureExtractor.create({ fps: FPS });
  audio = padded(speech16k(), 0.6, 1.0);
  env = rmsPerFrame(audio, FPS);
});
afterAll(async () => { await fx.close(); });

describe('FeatureExtractor', () => {
  it('returns one FeatureFrame per whole frame with exact RMS, pts, visemes and VAD; says its lookahead', async () => {
    fx.reset();
    expect(fx.lookaheadSamples).toBe(271);
    expect(fx.lookaheadMs).toBeCloseTo(16.9375, 9);
    const frames: FeatureFrame[] = [];
    for (let i = 0; i < audio.length; i += 1234) {
      fx.push(audio.subarray(i, i + 1234));
      frames.push(...(await fx.next(3)));
    }
    expect(frames.length).toBe(Math.floor((audio.length - 271) / 640));
    fx.flush();
    frames.push(...(await fx.next()));
    expect(frames.length).toBe(Math.ceil(audio.length / 640));
    for (let k = 0; k < env.length; k++) {
      const f = frames[k];
      expect(f.index).toBe(k);
      expect(f.pts).toBe(framePts(k, FPS));
      expect(f.rms).toBeCloseTo(env[k], 6);
      expect(f.visemes.length).toBe(15);
    }
    const loud = frames.filter((f) => f.rms > 0.05);
    expect(loud.filter((f) => f.vad > 0.5 && f.visemes[VISEME_INDEX.sil] < 0.1).length / loud.length).toBeGreaterThan(0.9);
  });

  it('interrupt() turns the audio not yet returned into silence and keeps the timeline', async () => {
    fx.reset();
    fx.push(audio);
    const before = await fx.next(40);
    expect(before.some((f) => f.rms > 0.05)).toBe(true);
    const ready = fx.framesReady();
    fx.interrupt();
    expect(fx.length).toBe(audio.length);
    expect(fx.framesReady()).toBe(ready);
    const after = await fx.next();
    expect(after[0].index).toBe(40);
    for (const f of after) {
      expect(f.rms).toBe(0);
      expect(f.visemes[VISEME_INDEX.sil]).toBe(1);
      expect(f.vad).toBeLessThan(0.2);
    }
    // new speech after the interrupt is analysed normally
    fx.push(audio);
    fx.flush();
    const next = await fx.next();
    expect(Math.max(...next.map((f) => f.vad))).toBeGreaterThan(0.9);
  });

  it('pushSilence() is silence; bad input and overlapping calls are refused', async () => {
    fx.reset();
    fx.pushSilence(16_000);
    const s = await fx.next();
    expect(s.length).toBe(Math.floor((16_000 - 271) / 640));
    expect(s.every((f) => f.rms === 0 && f.visemes[0] === 1)).toBe(true);
    expect(() => fx.push([0.1] as unknown as Float32Array)).toThrow(/Float32Array/);
    expect(() => fx.pushSilence(1.5)).toThrow(/count/);
    fx.push(audio.subarray(0, 16_000));
    const a = fx.next();
    await expect(fx.next()).rejects.toThrow(/already running/);
    await a;
    await expect(FeatureExtractor.create({ fps: 0 })).rejects.toThrow(/fps/);
  });
});
