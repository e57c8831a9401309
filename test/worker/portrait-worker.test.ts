/**
 * The real portrait engine (pipeline/engine/portrait-engine-module.ts) in the real inference
 * worker thread, fed as a live client would feed it: espeak-ng speech at 16 kHz in 20 ms chunks.
 * - frames: 512x512 I420, pts step 1920 (48 kHz clock, 25 fps), one frame per 40 ms of audio;
 * - the mouth region is darker during speech than in the leading silence;
 * - interrupt mid-sentence: the next frame is at rest (jawOpen 0), the dropped speech never shows;
 * - a portrait without a face / a bad config reject ready() with the original message;
 * - close() ends the thread;
 * - round trip (pushAudio of the samples that complete a frame -> that frame here), printed.
 */
import { PortraitError } from '../../models/face/errors.js';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Worker } from 'node:worker_threads';
import { PNG } from 'pngjs';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../config/load.js';
import { enrolPortrait } from '../../models/face/enrol.js';
import type { EnrolledPortrait } from '../../models/face/PortraitTypes.js';
import { resample } from '../../pipeline/audio/resampler.js';
import type { EngineInfo } from '../../pipeline/engine/EngineTypes.js';
import { ANALYSIS_RATE, framePts, i420Size, type AvatarFrame } from '../../pipeline/records.js';
import { InferenceWorker, InvalidStateError } from '../../pipeline/worker/inference-worker.js';
import { ASTRONAUT, speakWav, wavSamples } from '../helpers/speech.js';
import { frameRms, meanLuma, mouthBox } from '../helpers/video-measures.js';

const ENGINE = new URL('../../pipeline/engine/portrait-engine-module.ts', import.meta.url).href;
const HOP = 640; // samples per frame at 16 kHz, 25 fps
const CHUNK = 320; // 20 ms
const PTS_STEP = 1920; // 48 kHz clock / 25 fps
const LEAD_FRAMES = 25; // 1 s of silence before the sentence
const TAIL_FRAMES = 25;
/** jawOpen below this is a closed mouth */
const CLOSED = 0.05;

const dir = mkdtempSync(join(tmpdir(), 'portrait-worker-'));
const rawConfig = { avatar: { width: null, height: null }, runtime: { cache_dir: join(dir, 'cache') } };
const config = parseConfig(rawConfig);

let speech: Float32Array; // the sentence at 16 kHz
let portrait: EnrolledPortrait;

beforeAll(async () => {
  const { samples, sampleRate } = wavSamples(speakWav());
  speech = resample(samples, sampleRate, ANALYSIS_RATE);
  // enrolled here too (for mouthBox); fills the cache the worker's enrolment reads
  portrait = await enrolPortrait(ASTRONAUT, {
    minResolution: config.avatar.min_resolution,
    expandRatio: config.avatar.expand_ratio,
    cacheDir: config.runtime.cache_dir,
  });
}, 60_000);

const open: InferenceWorker[] = [];
async function start(engineOptions: unknown): Promise<InferenceWorker> {
  const w = await InferenceWorker.start({ engineModule: ENGINE, engineOptions, ringSeconds: 4 });
  open.push(w);
  return w;
}
afterEach(async () => {
  await Promise.all(open.splice(0).map((w) => w.close()));
});

function collect(w: InferenceWorker): AvatarFrame[] {
  const frames: AvatarFrame[] = [];
  w.onFrame((f) => frames.push(f));
  return frames;
}

/** Pushes `audio` in 20 ms chunks, all at once (no pacing). */
function pushChunks(w: InferenceWorker, audio: Float32Array): void {
  for (let i = 0; i < audio.length; i += CHUNK) w.pushAudio(audio.subarray(i, i + CHUNK));
}

function expectFrameSequence(frames: AvatarFrame[], info: EngineInfo): void {
  expect(frames.map((f) => f.index)).toEqual(frames.map((_, k) => k));
  for (let k = 0; k < frames.length; k++) {
    const f = frames[k]!;
    expect(f.width).toBe(512);
    expect(f.height).toBe(512);
    expect(f.i420.length).toBe(i420Size(512, 512));
    expect(f.pts).toBe(framePts(k, info.fps));
    if (k > 0) expect(f.pts - frames[k - 1]!.pts).toBe(PTS_STEP);
  }
}

const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
const quantile = (xs: number[], q: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
};

describe('the portrait engine in the inference worker', () => {
  it('renders live 20 ms chunks into 512x512 frames that follow the speech; round trip measured', async () => {
    const w = await start({ portrait: ASTRONAUT, config: rawConfig });
    const info = await w.ready();
    expect(info.name).toBe('portrait');
    expect(info.fps).toBe(25);
    const lookahead = Math.round((info.lookaheadMs * ANALYSIS_RATE) / 1000);

    const audio = new Float32Array((LEAD_FRAMES + TAIL_FRAMES) * HOP + speech.length);
    audio.set(speech, LEAD_FRAMES * HOP);

    // Paced on the wall clock like a live source: one 20 ms chunk every 20 ms.
    const pushedAt: number[] = []; // per chunk
    const frames: AvatarFrame[] = [];
    const arrivedAt: number[] = [];
    w.onFrame((f) => {
      arrivedAt.push(performance.now());
      frames.push(f);
    });
    const t0 = performance.now();
    for (let c = 0; c * CHUNK < audio.length; c++) {
      const due = t0 + c * 20;
      const wait = due - performance.now();
      if (wait > 0) await sleep(wait);
      pushedAt.push(performance.now());
      w.pushAudio(audio.subarray(c * CHUNK, (c + 1) * CHUNK));
    }
    w.endSegment();
    await w.flush();

    expect(frames.length).toBe(Math.ceil(audio.length / HOP));
    expectFrameSequence(frames, info);
    expect(w.stats().workerPosition).toBe(audio.length);

    // Round trip: frame k is complete once the timeline reaches (k+1)*HOP + lookahead; the chunk
    // holding that sample is the push that completes it. (Frames completed by endSegment are left out.)
    const rtt: number[] = [];
    frames.forEach((f, k) => {
      const c = Math.ceil(((k + 1) * HOP + lookahead) / CHUNK) - 1;
      if (c < pushedAt.length && (c + 1) * CHUNK <= audio.length) rtt.push(arrivedAt[k]! - pushedAt[c]!);
    });
    // RTT_DUMP=1 prints every frame's round trip, ms
    if (process.env.RTT_DUMP) console.log(rtt.map((r) => r.toFixed(0)).join(' '));
    const s = [...rtt].sort((a, b) => a - b);
    const stats = w.stats();
    console.log(
      `round trip pushAudio -> frame (real engine, worker thread, live 20 ms chunks, n=${s.length}): ` +
        `median ${quantile(s, 0.5).toFixed(1)} ms, p90 ${quantile(s, 0.9).toFixed(1)} ms, max ${s[s.length - 1]!.toFixed(1)} ms; ` +
        `engine lookahead ${info.lookaheadMs.toFixed(1)} ms; worker render avg ${stats.renderMsAvg.toFixed(1)} ms/frame`,
    );
    expect(s.length).toBeGreaterThan(frames.length - 5);
    expect(quantile(s, 0.5)).toBeLessThan(40); // inside one frame's budget

    // The mouth: darker (the open cavity) while speaking than in the leading silence.
    const box = mouthBox(portrait);
    const luma = frames.map((f) => meanLuma(f.i420, 512, box));
    const rest = mean(luma.slice(2, LEAD_FRAMES - 3));
    const env = frameRms(audio, ANALYSIS_RATE, info.fps, frames.length);
    const speaking = luma.filter((_, k) => env[k]! > 0.05);
    const opening = speaking.map((l) => rest - l);
    console.log(
      `mouth luma: rest ${rest.toFixed(1)}, speaking mean ${mean(speaking).toFixed(1)} (${speaking.length} frames), ` +
        `opening p90 ${quantile(opening, 0.9).toFixed(1)} levels`,
    );
    expect(speaking.length).toBeGreaterThan(60);
    expect(mean(opening)).toBeGreaterThan(3);
    expect(quantile(opening, 0.9)).toBeGreaterThan(8);
    const lead = luma.slice(2, LEAD_FRAMES - 3).map((l) => Math.abs(l - rest));
    expect(Math.max(...lead)).toBeLessThan(quantile(opening, 0.9) * 0.25);
    expect(frames.slice(0, LEAD_FRAMES - 3).every((f) => f.params.jawOpen < CLOSED)).toBe(true);
  }, 30_000);

  it('interrupt mid-sentence: the next frame is at rest and the dropped speech never shows', async () => {
    const w = await start({ portrait: ASTRONAUT, config: rawConfig });
    const info = await w.ready();
    const frames = collect(w);
    const part = (fromFrame: number, toFrame: number): Float32Array => speech.subarray(fromFrame * HOP, toFrame * HOP);
    const jaw = (from: number, to = frames.length): number[] => frames.slice(from, to).map((f) => f.params.jawOpen);

    // 1. Mid-word, with the worker idle (flush): the interrupt lands before any later frame.
    pushChunks(w, part(0, 30));
    await w.flush();
    const n1 = frames.length;
    expect(Math.max(...jaw(n1 - 5))).toBeGreaterThan(0.2); // the mouth is open: mid-sentence
    w.interrupt();
    w.pushSilence(10 * HOP);
    await w.flush();
    const after1 = jaw(n1);
    console.log(`interrupt (worker idle): jawOpen before ${jaw(n1 - 3, n1).map((j) => j.toFixed(2))}, after ${after1.map((j) => j.toFixed(3))}`);
    expect(after1.length).toBeGreaterThanOrEqual(10);
    expect(after1[0]).toBe(0); // at rest within one frame
    expect(Math.max(...after1)).toBeLessThan(CLOSED);

    // 2. New speech after the interrupt renders.
    pushChunks(w, part(30, 45));
    await w.flush();
    const n2 = frames.length;
    expect(Math.max(...jaw(n1 + after1.length, n2))).toBeGreaterThan(0.2);

    // 3. Barge-in with 2.4 s of speech queued behind the worker: it is dropped, not rendered.
    pushChunks(w, part(45, 105));
    w.interrupt();
    w.pushSilence(10 * HOP);
    await w.flush();
    const after3 = jaw(n2);
    const firstRest = after3.indexOf(0);
    console.log(
      `interrupt (60 frames of speech queued): ${after3.length} frames after it, ${firstRest} rendered before it landed, ` +
        `then jawOpen max ${Math.max(...after3.slice(Math.max(0, firstRest))).toFixed(3)}`,
    );
    expect(firstRest).toBeGreaterThanOrEqual(0);
    expect(firstRest).toBeLessThanOrEqual(5); // frames already under way when it landed (1 here; slack for a loaded host)
    expect(Math.max(...after3.slice(firstRest))).toBeLessThan(CLOSED);
    // the 60 queued frames never appear: only those under way plus the silence (and its partial frame)
    expect(after3.length).toBeLessThanOrEqual(firstRest + 11);
    expect(after3.length).toBeGreaterThanOrEqual(10);

    // 4. ...until new audio comes: the sentence's start opens the mouth again.
    const n4 = frames.length;
    pushChunks(w, part(0, 25));
    w.endSegment();
    await w.flush();
    expect(Math.max(...jaw(n4))).toBeGreaterThan(0.2);

    expectFrameSequence(frames, info);
    expect(frames.filter((f) => f.speaking).length).toBeGreaterThan(10);
  }, 30_000);

  it('a portrait without a face rejects ready() with the PortraitError message', async () => {
    const png = new PNG({ width: 256, height: 256 });
    png.data.fill(128);
    for (let i = 3; i < png.data.length; i += 4) png.data[i] = 255;
    const path = join(dir, 'uniform.png');
    writeFileSync(path, PNG.sync.write(png));
    const w = await start({ portrait: path, config: rawConfig });
    const error = new Promise<Error>((resolve) => w.on('error', resolve));
    // a PortraitError again on this side of the thread (the caller's input: HTTP 422, exit code 2), with its code
    const refused = await w.ready().then(() => undefined, (e: unknown) => e);
    expect(refused).toBeInstanceOf(PortraitError);
    expect(refused).toMatchObject({ code: 'no-face', message: 'no face found in the image' });
    expect((await error).message).toMatch(/no face found in the image/);
    expect(() => w.pushAudio(new Float32Array(HOP))).toThrow(InvalidStateError);
  }, 20_000);

  it('a bad config rejects ready() with the ConfigError message, naming the key', async () => {
    const w = await start({ portrait: ASTRONAUT, config: { avatar: { fps: 1000 } } });
    w.on('error', () => undefined);
    await expect(w.ready()).rejects.toThrow(/engine failed to start: engine options config: avatar\.fps: .*\(got 1000\)/);
    const v = await start({ portrait: ASTRONAUT, config: { runtime: { engine: 'warp-drive' } } });
    v.on('error', () => undefined);
    await expect(v.ready()).rejects.toThrow(/runtime\.engine/);
  }, 20_000);

  it('close() ends the worker thread', async () => {
    const w = await start({ portrait: ASTRONAUT, config: rawConfig });
    await w.ready();
    pushChunks(w, speech.subarray(0, 10 * HOP));
    let closed = 0;
    w.on('close', () => (closed += 1));
    const thread = (w as unknown as { worker: Worker }).worker; // white box: the thread itself
    expect(thread.threadId).toBeGreaterThan(0);
    await w.close();
    await w.close();
    expect(closed).toBe(1);
    expect(thread.threadId).toBe(-1); // Node sets -1 once the thread has stopped
    expect(() => w.pushAudio(new Float32Array(HOP))).toThrow(InvalidStateError);
  }, 20_000);
});
