import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FeatureExtractor } from '../../pipeline/motion/features.js';
import { MouthMapper } from '../../pipeline/motion/mouth-map.js';
import { VISEME_COUNT, VISEME_INDEX, type VisemeName } from '../../pipeline/motion/visemes.js';
import type { FeatureFrame } from '../../pipeline/records.js';
import { bestLag, padded, rmsPerFrame, speech16k } from './audio.js';

const FPS = 25;
let frames: FeatureFrame[];
let env: number[];

beforeAll(async () => {
  const audio = padded(speech16k(), 0.6, 1.0);
  env = rmsPerFrame(audio, FPS);
  const fx = await FeatureExtractor.create({ fps: FPS });
  for (let i = 0; i < audio.length; i += 320) fx.push(audio.subarray(i, i + 320));
  fx.flush();
  frames = (await fx.next()).slice(0, env.length);
  await fx.close();
});

function frame(vis: Partial<Record<VisemeName, number>>, rms: number, vad: number): FeatureFrame {
  const v = new Float32Array(VISEME_COUNT);
  for (const [k, w] of Object.entries(vis)) v[VISEME_INDEX[k as VisemeName]] = w;
  return { kind: 'features', pts: 0, index: 0, visemes: v, vad, rms };
}

describe('MouthMapper', () => {
  it('jawOpen follows the speech envelope of the espeak sentence: r >= 0.6 within +-2 frames', () => {
    expect(frames.length).toBe(env.length);
    const m = new MouthMapper({ fps: FPS });
    const jaw = frames.map((f) => m.process(f).jawOpen);
    const best = bestLag(jaw, env, 6);
    console.log(`mouth map: jawOpen vs RMS best lag ${best.lag} frames, r=${best.r.toFixed(3)}`);
    expect(best.r).toBeGreaterThanOrEqual(0.6);
    expect(Math.abs(best.lag)).toBeLessThanOrEqual(2);
    // it moves: a real range of opening during speech
    expect(Math.max(...jaw)).toBeGreaterThan(0.5);
  });

  it('keeps the mouth closed (jawOpen < 0.05) in silence', () => {
    const m = new MouthMapper({ fps: FPS });
    const jaw = frames.map((f) => m.process(f).jawOpen);
    const silent = env.map((r, k) => (r === 0 ? k : -1)).filter((k) => k >= 0);
    expect(silent.length).toBeGreaterThan(20);
    for (const k of silent) expect(jaw[k]).toBeLessThan(0.05);
    // also for quiet noise without voice
    const noise = new MouthMapper({ fps: FPS }).process(frame({ SS: 0.6, sil: 0.4 }, 0.003, 0.05));
    expect(noise.jawOpen).toBeLessThan(0.05);
  });

  it('opens for open vowels, nearly closes for bilabials, rounds for U/O, spreads for I/E', () => {
    const at = (vis: Partial<Record<VisemeName, number>>) => {
      const m = new MouthMapper({ fps: FPS });
      m.process(frame({ aa: 1 }, 0.3, 1)); // sets the loudness peak
      return m.process(frame(vis, 0.2, 1));
    };
    const aa = at({ aa: 1 }), pp = at({ PP: 1 }), u = at({ U: 1 }), i = at({ I: 1 });
    expect(aa.jawOpen).toBeGreaterThan(2.5 * pp.jawOpen);
    expect(u.lipRound).toBeGreaterThan(0.5);
    expect(i.lipRound).toBe(0);
    expect(i.lipWidth).toBeGreaterThan(0.3);
    expect(u.lipWidth).toBeLessThan(0);
  });

  it('scales with dynamic_scale, clamps, and rejects bad input', () => {
    const f = frame({ aa: 1 }, 0.5, 1);
    const one = new MouthMapper({ dynamicScale: 1 }).process(f);
    const half = new MouthMapper({ dynamicScale: 0.5 }).process(f);
    const big = new MouthMapper({ dynamicScale: 3 }).process(f);
    const zero = new MouthMapper({ dynamicScale: 0 }).process(f);
    expect(half.jawOpen).toBeCloseTo(one.jawOpen / 2, 6);
    expect(big.jawOpen).toBe(1);
    expect(zero.jawOpen).toBe(0);
    expect(zero.lipRound).toBe(0);
    expect(() => new MouthMapper({ dynamicScale: -1 })).toThrow(/dynamicScale/);
    expect(() => new MouthMapper().process({ ...f, visemes: new Float32Array(3) })).toThrow(/15 viseme/);
    expect(() => new MouthMapper().process({ ...f, rms: Number.NaN })).toThrow(/rms/);
  });
});
