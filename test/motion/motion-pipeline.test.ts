import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MotionPipeline, motionOptionsFromConfig, type MotionFrame } from '../../pipeline/motion/motion-pipeline.js';
import { FrameGrid } from '../../pipeline/motion/frame-grid.js';
import { framePts } from '../../pipeline/records.js';
import { avatarSchema } from '../../config/schema.js';
import { bestLag, padded, rmsPerFrame, speech16k } from './audio.js';

const FPS = 25;
let audio: Float32Array;
let env: number[];
let p: MotionPipeline;

beforeAll(async () => {
  audio = padded(speech16k(), 0.6, 1.0);
  env = rmsPerFrame(audio, FPS);
  p = await MotionPipeline.create(motionOptionsFromConfig(avatarSchema.parse({})));
});
afterAll(async () => { await p.close(); });

async function runAll(pipe: MotionPipeline, x: Float32Array, chunk: number): Promise<MotionFrame[]> {
  const out: MotionFrame[] = [];
  for (let i = 0; i < x.length; i += chunk) {
    pipe.pushAudio(x.subarray(i, i + chunk));
    out.push(...(await pipe.next()));
  }
  pipe.flush();
  out.push(...(await pipe.next()));
  return out;
}

describe('MotionPipeline', () => {
  it('releases frame k once the timeline reaches its end plus lookaheadMs, in order with pts', async () => {
    p.reset();
    const grid = new FrameGrid(16_000, FPS);
    const L = p.lookaheadSamples;
    expect(p.lookaheadMs).toBeCloseTo((L / 16_000) * 1000, 9);
    expect(p.lookaheadMs).toBeLessThanOrEqual(40); // fits the default avatar.lookahead_ms
    let total = 0, emitted = 0;
    for (let i = 0; i < 40_000; i += 333) {
      const n = Math.min(333, 40_000 - i);
      p.pushAudio(audio.subarray(i, i + n));
      total += n;
      let expected = 0;
      while (grid.start(expected + 1) + L <= total) expected++;
      expect(p.framesReady()).toBe(expected - emitted);
      const frames = await p.next(2);
      for (const f of frames) {
        expect(f.index).toBe(emitted);
        expect(f.pts).toBe(framePts(emitted, FPS));
        emitted++;
      }
    }
  });

  it('mouth follows the speech (r >= 0.6 within +-2 frames) after smoothing; still in silence; speaking flag', async () => {
    p.reset();
    const frames = (await runAll(p, audio, 320)).slice(0, env.length);
    const jaw = frames.map((f) => f.params.jawOpen);
    const best = bestLag(jaw, env, 6);
    console.log(`pipeline jawOpen vs RMS: best lag ${best.lag} frames (${best.lag * 40} ms), r=${best.r.toFixed(3)}`);
    expect(best.r).toBeGreaterThanOrEqual(0.6);
    expect(Math.abs(best.lag)).toBeLessThanOrEqual(2);
    // silence: from the third silent frame on (smoothing lets the mouth close over ~2 frames)
    const silent = env.map((_, k) => k).filter((k) => k >= 2 && env[k] === 0 && env[k - 1] === 0 && env[k - 2] === 0);
    expect(silent.length).toBeGreaterThan(20);
    expect(Math.max(...silent.map((k) => jaw[k]))).toBeLessThan(0.05);
    const loud = env.map((r, k) => (r > 0.03 ? k : -1)).filter((k) => k >= 0);
    expect(loud.filter((k) => frames[k].speaking).length / loud.length).toBeGreaterThan(0.9);
    expect(frames.slice(0, 10).every((f) => !f.speaking)).toBe(true);
    expect(frames.slice(-10).every((f) => !f.speaking)).toBe(true);
  });

  it('gives the same motion whatever the chunking, and again after reset()', async () => {
    p.reset();
    const a = await runAll(p, audio, 160);
    p.reset();
    const b = await runAll(p, audio, 5000);
    expect(b.length).toBe(a.length);
    for (let k = 0; k < a.length; k++) {
      for (const key of Object.keys(a[k].params) as (keyof MotionFrame['params'])[]) expect(b[k].params[key]).toBeCloseTo(a[k].params[key], 5);
    }
  });

  it('interrupt(): the next frame has the mouth at rest, the head goes on without a jump', async () => {
    p.reset();
    p.pushAudio(audio); // the whole sentence is queued
    let prev: MotionFrame | undefined;
    // play until the mouth is well open in the middle of speech
    for (;;) {
      const [f] = await p.next(1);
      expect(f).toBeDefined();
      prev = f;
      if (f.index > 20 && f.params.jawOpen > 0.3) break;
    }
    expect(p.framesReady()).toBeGreaterThan(10); // plenty of speech still queued
    p.interrupt();
    const rest = await p.next();
    expect(rest.length).toBeGreaterThan(0); // timeline kept: the dropped audio became silence
    const first = rest[0];
    expect(first.index).toBe(prev.index + 1);
    expect(first.params.jawOpen).toBe(0);
    expect(first.params.lipRound).toBe(0);
    expect(first.params.lipWidth).toBe(0);
    expect(first.speaking).toBe(false);
    expect(Math.abs(first.params.headYaw - prev.params.headYaw)).toBeLessThan(0.3);
    for (const f of rest) expect(f.params.jawOpen).toBeLessThan(0.05);
    // idle motion goes on
    expect(new Set(rest.map((f) => f.params.headYaw.toFixed(4))).size).toBeGreaterThan(Math.min(5, rest.length - 1));
    // and the next utterance moves the mouth again
    const again = await runAll(p, audio, 640);
    expect(Math.max(...again.map((f) => f.params.jawOpen))).toBeGreaterThan(0.3);
  });

  it('motion_scale 0 keeps the head still; per-frame cost is small (best of 3 runs)', async () => {
    const still = await MotionPipeline.create({ fps: FPS, motionScale: 0 });
    try {
      const frames = await runAll(still, audio, 320);
      expect(frames.every((f) => f.params.headYaw === 0 && f.params.headPitch === 0 && f.params.headRoll === 0 && f.params.blinkLeft === 0)).toBe(true);
      expect(Math.max(...frames.map((f) => f.params.jawOpen))).toBeGreaterThan(0.3);
      let best = Infinity, bestF = 0, bestM = 0;
      for (let run = 0; run < 3; run++) {
        still.reset();
        await runAll(still, audio, 640);
        const s = still.stats();
        const per = (s.features.totalMs + s.motion.totalMs) / s.features.count;
        if (per < best) { best = per; bestF = s.features.totalMs / s.features.count; bestM = s.motion.totalMs / s.motion.count; }
        expect(s.motion.count).toBe(s.features.count);
      }
      console.log(`per frame: features ${bestF.toFixed(3)} ms + motion ${bestM.toFixed(4)} ms = ${best.toFixed(3)} ms (budget 40 ms); lookahead ${still.lookaheadMs.toFixed(2)} ms`);
      expect(best).toBeLessThan(10);
    } finally {
      await still.close();
    }
  });

  it('a pause in the phones rests the lips together; where the phones end, the press lets go over frames, not at once', async () => {
    // the recogniser off: the frames after the phones would otherwise take what it hears
    const q = await MotionPipeline.create({ ...motionOptionsFromConfig(avatarSchema.parse({})), recogniser: false });
    // 0.7 s of speech with its phones: a vowel, a pause, a vowel, then a pause the phones end on
    const phones = [{ phone: 'a', start: 0, end: 0.2 }, { phone: '_', start: 0.2, end: 0.45 }, { phone: 'a', start: 0.45, end: 0.6 }, { phone: '_:', start: 0.6, end: 0.7 }];
    q.pushPhones(phones);
    q.pushAudio(audio.subarray(Math.round(0.6 * 16_000), Math.round(1.3 * 16_000)));
    q.pushSilence(16_000);
    q.flush();
    const frames = await q.next();
    await q.close();
    const press = frames.map((f) => f.params.lipPress);
    expect(press[8]).toBe(1); // 0.32-0.36 s: inside the first pause
    expect(press[2]).toBe(0); // 0.08-0.12 s: the vowel
    expect(press[16]).toBe(1); // 0.64-0.68 s: the last pause
    // after 0.7 s (frame 17 on) no phone covers the frames: 1 -> 0 over a few frames, each lower
    const after = press.slice(18, 26);
    console.log(`lipPress after the phones end: ${after.map((x) => x.toFixed(2)).join(' ')}`);
    expect(after[0]).toBeGreaterThan(0.2);
    expect(after[0]).toBeLessThan(1);
    for (let k = 1; k < after.length; k++) expect(after[k]).toBeLessThanOrEqual(after[k - 1]!);
    expect(after[after.length - 1]).toBe(0);
  });

  it('rejects bad input with clear errors', async () => {
    expect(() => p.pushAudio(new Float64Array(10) as unknown as Float32Array)).toThrow(/Float32Array/);
    expect(() => p.pushAudio(new Float32Array([0, Number.NaN]))).toThrow(/sample 1/);
    expect(() => p.pushSilence(-1)).toThrow(/count/);
    await expect(MotionPipeline.create({ lipSyncOffsetMs: 500 })).rejects.toThrow(/lipSyncOffsetMs/);
    await expect(MotionPipeline.create({ fps: 0 })).rejects.toThrow(/fps/);
    const closed = await MotionPipeline.create();
    await closed.close();
    expect(() => closed.pushAudio(new Float32Array(1))).toThrow(/closed/);
  });
});
