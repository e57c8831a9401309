import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LipSyncShift, estimateLipSyncOffset } from '../../pipeline/motion/lip-sync.js';
import { MotionPipeline } from '../../pipeline/motion/motion-pipeline.js';
import { padded, rmsPerFrame, speech16k } from './audio.js';

const FPS = 25;

describe('LipSyncShift', () => {
  it('positive offset: a delay line of exactly offset samples, whatever the chunking', () => {
    const s = new LipSyncShift({ offsetMs: 10, sampleRate: 16_000 });
    expect(s.offsetSamples).toBe(160);
    expect(s.lookaheadSamples).toBe(0);
    const x = Float32Array.from({ length: 2000 }, (_, i) => i + 1);
    const out: number[] = [];
    for (let i = 0; i < x.length; i += 37) out.push(...s.process(x.subarray(i, i + 37)));
    expect(out.length).toBe(2000);
    for (let i = 0; i < 160; i++) expect(out[i]).toBe(0);
    for (let i = 160; i < 2000; i++) expect(out[i]).toBe(x[i - 160]);
  });

  it('negative offset: skips |offset| samples and says it needs that much lookahead', () => {
    const s = new LipSyncShift({ offsetMs: -5, sampleRate: 16_000 });
    expect(s.lookaheadSamples).toBe(80);
    expect(s.lookaheadMs).toBe(5);
    const x = Float32Array.from({ length: 500 }, (_, i) => i);
    const a = Array.from(s.process(x.subarray(0, 50)));
    const b = Array.from(s.process(x.subarray(50)));
    expect(a.length).toBe(0);
    expect([...a, ...b]).toEqual(Array.from(x.subarray(80)));
  });

  it('silence() empties the delay line; reset() starts over', () => {
    const s = new LipSyncShift({ offsetMs: 1, sampleRate: 16_000 });
    s.process(new Float32Array(16).fill(1));
    s.silence();
    expect(Array.from(s.process(new Float32Array(16)))).toEqual(new Array(16).fill(0));
    const n = new LipSyncShift({ offsetMs: -1, sampleRate: 16_000 });
    n.process(new Float32Array(16));
    n.reset();
    expect(n.process(new Float32Array(16)).length).toBe(0);
  });
});

describe('estimateLipSyncOffset', () => {
  it('finds a known shift of a series and its sign', () => {
    const env = Array.from({ length: 200 }, (_, k) => Math.max(0, Math.sin(k / 3) + 0.3 * Math.sin(k / 1.7)));
    const later = env.map((_, k) => (k >= 3 ? env[k - 3] : 0));
    const earlier = env.map((_, k) => env[k + 2] ?? 0);
    expect(estimateLipSyncOffset(later, env, 25).lagMs).toBe(120);
    expect(estimateLipSyncOffset(earlier, env, 25).lagMs).toBe(-80);
    const same = estimateLipSyncOffset(env, env, 25);
    expect(same.lagFrames).toBe(0);
    expect(same.r).toBeCloseTo(1, 9);
    expect(() => estimateLipSyncOffset(new Array(50).fill(1), env, 25)).toThrow(/constant/);
    expect(() => estimateLipSyncOffset([1, 2], [1, 2], 25)).toThrow(/at least/);
  });
});

describe('lip_sync_offset_ms in the MotionPipeline', () => {
  let audio: Float32Array;
  let env: number[];
  beforeAll(() => {
    audio = padded(speech16k(), 0.6, 1.0);
    env = rmsPerFrame(audio, FPS);
  });

  async function jaw(offsetMs: number): Promise<{ jaw: number[]; lookaheadMs: number }> {
    const p = await MotionPipeline.create({ fps: FPS, lipSyncOffsetMs: offsetMs });
    try {
      for (let i = 0; i < audio.length; i += 640) p.pushAudio(audio.subarray(i, i + 640));
      p.flush();
      const frames = await p.next();
      return { jaw: frames.map((f) => f.params.jawOpen), lookaheadMs: p.lookaheadMs };
    } finally {
      await p.close();
    }
  }

  it('+80 ms shifts the jaw series by 2 frames; -80 ms by -2 frames and adds 80 ms of lookahead', async () => {
    const base = await jaw(0);
    const later = await jaw(80);
    const earlier = await jaw(-80);
    const e0 = estimateLipSyncOffset(base.jaw, env, FPS);
    const e1 = estimateLipSyncOffset(later.jaw, env, FPS);
    const e2 = estimateLipSyncOffset(earlier.jaw, env, FPS);
    console.log(`jaw vs RMS: offset 0 -> ${e0.lagMs} ms (r ${e0.r.toFixed(2)}), +80 -> ${e1.lagMs} ms, -80 -> ${e2.lagMs} ms`);
    expect(e1.lagFrames - e0.lagFrames).toBe(2);
    expect(e2.lagFrames - e0.lagFrames).toBe(-2);
    // and directly: the +80 ms series is the base series two frames later
    expect(estimateLipSyncOffset(later.jaw, base.jaw, FPS).lagFrames).toBe(2);
    expect(later.lookaheadMs).toBe(base.lookaheadMs);
    expect(earlier.lookaheadMs).toBeCloseTo(base.lookaheadMs + 80, 9);
  });
});
