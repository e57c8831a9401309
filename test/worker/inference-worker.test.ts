import { afterEach, describe, expect, it } from 'vitest';
import { REST_Y, readTestCard } from '../../pipeline/engine/test-pattern-engine.js';
import { InferenceWorker, InvalidStateError, QueueFullError } from '../../pipeline/worker/inference-worker.js';
import { framePts, type AvatarFrame } from '../../pipeline/records.js';

const ENGINE = new URL('../../pipeline/engine/test-pattern-engine.ts', import.meta.url).href;
const FAULTY = new URL('./fixtures/faulty-engine.ts', import.meta.url).href;
const HOP = 640; // samples per frame at 16 kHz, 25 fps

const open: InferenceWorker[] = [];
async function start(options: Parameters<typeof InferenceWorker.start>[0]): Promise<InferenceWorker> {
  const w = await InferenceWorker.start(options);
  open.push(w);
  return w;
}
afterEach(async () => {
  await Promise.all(open.splice(0).map((w) => w.close()));
});

/** Vowel-like burst: a 150 Hz buzz with a smooth envelope, `frames` frames long. */
function burst(frames: number, amplitude: number): Float32Array {
  const n = frames * HOP;
  return Float32Array.from({ length: n }, (_, i) => {
    const env = Math.min(1, i / 80, (n - i) / 80);
    return amplitude * env * (0.7 * Math.sin((2 * Math.PI * 150 * i) / 16000) + 0.3 * Math.sin((2 * Math.PI * 450 * i) / 16000));
  });
}

function collect(w: InferenceWorker): AvatarFrame[] {
  const frames: AvatarFrame[] = [];
  w.onFrame((f) => frames.push(f));
  return frames;
}

const levelOf = (f: AvatarFrame): number => readTestCard(f.i420, f.width, f.height).level;

describe('InferenceWorker with the test-pattern engine', () => {
  it('live (dropLateAfterMs): a worker behind the clock passes over frames, at most two in a row, and catches up; without it every frame is drawn', async () => {
    const run = async (dropLateAfterMs?: number) => {
      const w = await start({ engineModule: ENGINE, engineOptions: { renderDelayMs: 30 }, ...(dropLateAfterMs ? { dropLateAfterMs } : {}) });
      const frames = collect(w);
      await w.ready();
      const t0 = performance.now();
      w.pushAudio(burst(40, 0.5)); // 1.6 s arriving at once: the worker is behind at once
      w.endSegment();
      await w.flush();
      return { indices: frames.map((f) => f.index), ms: performance.now() - t0, skipped: w.stats().framesSkipped };
    };
    const all = await run();
    expect(all.indices).toEqual(Array.from({ length: 40 }, (_, k) => k));
    expect(all.skipped).toBe(0);
    const live = await run(80);
    const gaps = live.indices.slice(1).map((k, i) => k - live.indices[i]!);
    console.log(`[worker] behind by 1.6 s: ${live.indices.length} of 40 frames drawn in ${live.ms.toFixed(0)} ms (all drawn: ${all.ms.toFixed(0)} ms)`);
    expect(live.indices.length).toBeLessThan(30);
    // the frames passed over before each one drawn are counted (those after the last drawn one are not)
    expect(live.skipped).toBe(live.indices.at(-1)! + 1 - live.indices.length);
    expect(Math.max(...gaps)).toBeLessThanOrEqual(3); // never more than two passed over in a row
    expect(gaps.every((g) => g >= 1)).toBe(true); // in order
    expect(live.indices.at(-1)).toBeGreaterThanOrEqual(37); // the last frames (caught up) are drawn
    expect(live.ms).toBeLessThan(all.ms);
  });

  it('after reset() no frame of the old timeline is emitted, even one the worker rendered before it took the reset', async () => {
    const w = await start({ engineModule: ENGINE, engineOptions: { lookaheadMs: 40 } });
    const frames = collect(w);
    // 2 s of audio: the worker is still rendering it when the reset is sent
    w.pushAudio(burst(50, 0.5));
    await new Promise<void>((r) => w.onFrame(() => r()));
    w.reset();
    w.pushAudio(burst(10, 0.5));
    w.endSegment();
    await w.flush();
    const afterReset = frames.findIndex((f, k) => k > 0 && f.index === 0);
    // after the first frame, only the new timeline: numbered from 0 again, in order, all of it
    const tail = frames.slice(afterReset);
    expect(tail.map((f) => f.index)).toEqual(tail.map((_, k) => k));
    expect(tail.length).toBeGreaterThanOrEqual(10);
    expect(afterReset).toBeLessThan(50); // the old timeline was cut short: stale frames were dropped
  });

  it('turns speech-like bursts into frames that follow them, in pts order, none missing', async () => {
    const w = await start({ engineModule: ENGINE, engineOptions: { lookaheadMs: 40 } });
    const frames = collect(w);
    const pattern = [true, false, true, true, false, false, true, false]; // 5 frames each
    const audio = new Float32Array(pattern.length * 5 * HOP);
    pattern.forEach((loud, b) => {
      if (loud) audio.set(burst(5, 0.5), b * 5 * HOP);
    });
    // Fed as a live source would: 20 ms chunks.
    for (let i = 0; i < audio.length; i += 320) w.pushAudio(audio.subarray(i, i + 320));
    w.endSegment();
    await w.flush();

    expect(frames.map((f) => f.index)).toEqual(Array.from({ length: pattern.length * 5 }, (_, k) => k));
    expect(frames.map((f) => f.pts)).toEqual(frames.map((_, k) => framePts(k, 25)));
    expect(frames.map((f) => readTestCard(f.i420, 64, 64).index)).toEqual(frames.map((f) => f.index));
    frames.forEach((f, k) => {
      const loud = pattern[Math.floor(k / 5)];
      if (loud) expect(levelOf(f), `frame ${k}`).toBeGreaterThan(80);
      else expect(levelOf(f), `frame ${k}`).toBe(REST_Y);
      expect(f.speaking).toBe(loud);
    });
    const s = w.stats();
    expect(s.framesOut).toBe(frames.length);
    expect(s.position).toBe(audio.length);
    expect(s.workerPosition).toBe(audio.length);
    expect(s.queueDepth).toBe(0);
  });

  it('interrupt: audio queued before it is never rendered, the next frame is at rest, audio after it is', async () => {
    // 10 ms per frame: the worker is still busy with the first burst when the interrupt comes.
    const w = await start({ engineModule: ENGINE, engineOptions: { renderDelayMs: 10 } });
    const frames = collect(w);
    await w.ready();
    const firstFrame = new Promise((r) => w.once('frame', r));
    w.pushAudio(burst(50, 0.9)); // 2 s, loud
    await firstFrame; // the worker is busy with it; most of it still waits in the ring
    expect(w.stats().ringSamples).toBeGreaterThan(40 * HOP);
    w.interrupt();
    w.pushAudio(burst(10, 0.3)); // 0.4 s, quieter
    w.endSegment();
    await w.flush();

    const levels = frames.map(levelOf);
    const loud = levels.filter((l) => l > 180).length;
    const lastLoud = levels.length - 1 - [...levels].reverse().findIndex((l) => l > 180);
    expect(loud).toBeGreaterThanOrEqual(1);
    expect(loud).toBeLessThan(25); // most of the 50 loud frames were dropped
    expect(levels[lastLoud + 1]).toBe(REST_Y);
    const quiet = levels.slice(lastLoud + 1).filter((l) => l > 60 && l < 140).length;
    expect(quiet).toBeGreaterThanOrEqual(9); // the first may be drawn at rest
    expect(quiet).toBeLessThanOrEqual(10);
    expect(frames.map((f) => f.index)).toEqual(frames.map((_, k) => k));
  });

  it('audio that waits in the pending queue reaches the engine in order', async () => {
    const w = await start({ engineModule: ENGINE, ringSeconds: 0.1 });
    const frames = collect(w);
    const audio = new Float32Array(50 * HOP);
    for (let b = 0; b < 10; b += 2) audio.set(burst(5, 0.5), b * 5 * HOP);
    w.pushAudio(audio); // 2 s into a 0.1 s ring: most of it waits on this thread
    expect(w.stats().queueDepth).toBeGreaterThan(30 * HOP);
    await w.flush();
    expect(w.stats().queueDepth).toBe(0);
    expect(frames.map((f) => f.index)).toEqual(Array.from({ length: 50 }, (_, k) => k));
    expect(frames.map((f) => levelOf(f) > 80)).toEqual(frames.map((_, k) => Math.floor(k / 5) % 2 === 0));
  });

  it('pads silence on request, in order with the audio', async () => {
    const w = await start({ engineModule: ENGINE });
    const frames = collect(w);
    w.pushAudio(burst(2, 0.5));
    w.pushSilence(3 * HOP);
    w.pushAudio(burst(2, 0.5));
    await w.flush();
    expect(frames.map((f) => levelOf(f) > 80)).toEqual([true, true, false, false, false, true, true]);
  });

  it('throws QueueFullError, taking none of the chunk, when a slow worker falls behind', async () => {
    const w = await start({ engineModule: ENGINE, engineOptions: { renderDelayMs: 200 }, ringSeconds: 0.5, pendingSeconds: 0.5 });
    await w.ready();
    const chunk = new Float32Array(1600); // 100 ms
    let accepted = 0;
    let error: unknown;
    for (let i = 0; i < 40 && !error; i++) {
      try {
        w.pushAudio(chunk);
        accepted += 1;
      } catch (e) {
        error = e;
      }
    }
    expect(error).toBeInstanceOf(QueueFullError);
    expect((error as Error).message).toMatch(/audio queue full, chunk of 1600 samples refused/);
    // 1 s of room (ring + pending) plus what the worker took meanwhile: about 10 chunks
    expect(accepted).toBeGreaterThanOrEqual(10);
    expect(accepted).toBeLessThan(14);
    const s = w.stats();
    expect(s.position).toBe(accepted * 1600);
    expect(s.queueDepth).toBeGreaterThan(0);
    expect(s.ringFill).toBeGreaterThan(0.9);
  });

  it('delivers each frame soon after the audio that completes it', async () => {
    const w = await start({ engineModule: ENGINE });
    await w.ready();
    const latencies: number[] = [];
    let sentAt = 0;
    let got: () => void = () => undefined;
    w.onFrame(() => {
      latencies.push(performance.now() - sentAt);
      got();
    });
    const hop = burst(1, 0.4);
    for (let k = 0; k < 25; k++) {
      const arrived = new Promise<void>((r) => (got = r));
      sentAt = performance.now();
      w.pushAudio(hop);
      await arrived;
    }
    latencies.sort((a, b) => a - b);
    expect(latencies).toHaveLength(25);
    expect(latencies[12]).toBeLessThan(20); // median, ms: far inside the 40 ms frame budget
  });
});

describe('InferenceWorker failures and closing', () => {
  it('reports an engine that throws on create as an error event with its message; close still resolves', async () => {
    const w = await start({ engineModule: FAULTY, engineOptions: { failOn: 'create', message: 'no weights at /models/x.onnx' } });
    const error = await new Promise<Error>((resolve) => w.on('error', resolve));
    expect(error.message).toMatch(/engine failed to start: no weights at \/models\/x\.onnx/);
    await expect(w.ready()).rejects.toThrow(/no weights/);
    expect(() => w.pushAudio(new Float32Array(10))).toThrow(InvalidStateError);
    await w.close();
    await w.close();
  });

  it('reports an engine that fails while rendering', async () => {
    const w = await start({ engineModule: FAULTY, engineOptions: { failOn: 'render', message: 'GPU fell off the bus' } });
    const error = new Promise<Error>((resolve) => w.on('error', resolve));
    w.pushAudio(new Float32Array(HOP));
    expect((await error).message).toMatch(/engine failed: GPU fell off the bus/);
    await w.close();
  });

  it('reports a worker that exits on its own with its exit code', async () => {
    const w = await start({ engineModule: FAULTY, engineOptions: { failOn: 'exit', message: '' } });
    const error = new Promise<Error>((resolve) => w.on('error', resolve));
    w.pushAudio(new Float32Array(HOP));
    expect((await error).message).toMatch(/exited with code 7/);
    await w.close();
  });

  it('close() twice resolves both times and later calls fail clearly', async () => {
    const w = await start({ engineModule: ENGINE });
    await w.ready();
    let closed = 0;
    w.on('close', () => (closed += 1));
    const flush = w.flush();
    await Promise.all([w.close(), w.close(), flush.catch(() => undefined)]);
    expect(closed).toBe(1);
    expect(() => w.pushAudio(new Float32Array(1))).toThrow(/closed/);
    expect(() => w.interrupt()).toThrow(InvalidStateError);
  });

  it('rejects a missing engine module and bad options before spawning', async () => {
    await expect(InferenceWorker.start({ engineModule: '/nope/engine.ts' })).rejects.toThrow(/engine module not found: \/nope\/engine\.ts/);
    await expect(InferenceWorker.start({ engineModule: ENGINE, ringSeconds: 0 })).rejects.toThrow(/ringSeconds must be in/);
  });
});
