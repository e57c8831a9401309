/**
 * Voice activity with Silero VAD v5 (the ONNX file shipped in @ricky0123/vad-web, ISC) on
 * onnxruntime-node, CPU.
 *
 * Model I/O (v5): `input` [1, 576] = the last 64 samples of the previous frame (context) followed by
 * a 512-sample frame at 16 kHz; `state` [2, 1, 128] recurrent state; `sr` int64 scalar (16000);
 * outputs `output` [1, 1] speech probability and `stateN` the next state.
 *
 * `SileroVad` is the per-512-sample core; `VadTracker` turns it into one probability per video
 * frame: the mean over the VAD frames whose centre lies in the video frame. A VAD frame's centre is
 * 256.5 samples before the end of its last sample, so a video frame is complete at most 256 samples
 * (16 ms) after its end (depending on where the 512-sample grid falls).
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { existsSync } from 'node:fs';
import * as ort from 'onnxruntime-node';
import { ANALYSIS_RATE } from '../records.js';
import { FrameGrid, HopAverager, RecordQueue } from './frame-grid.js';

export const VAD_FRAME = 512;
export const VAD_CONTEXT = 64;
const STATE_SIZE = 2 * 1 * 128;

export interface SileroVadOptions {
  /** path of silero_vad_v5.onnx (default: the one in @ricky0123/vad-web/dist) */
  modelPath: string;
  /** ONNX Runtime intra-op threads */
  intraOpNumThreads: number;
  /**
   * use the process's one shared session of the default model (its recurrent state is an input,
   * so every gate keeps its own): many microphones cost one model, not one each
   */
  shared?: boolean;
}

/** ONNX sessions of the Silero model this process has loaded (the shared one counts once). */
let sessionsLoaded = 0;
export function vadSessionsLoaded(): number {
  return sessionsLoaded;
}
let sharedSession: Promise<ort.InferenceSession> | undefined;

export function defaultVadModelPath(): string {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve('@ricky0123/vad-web/package.json')), 'dist', 'silero_vad_v5.onnx');
}

/** One ONNX session; process 512-sample frames in order; the recurrent state and context carry over. */
export class SileroVad {
  private readonly input = new Float32Array(VAD_CONTEXT + VAD_FRAME);
  private readonly state = new Float32Array(STATE_SIZE);
  private readonly feeds: Record<string, ort.Tensor>;
  private busy = false;
  private closed = false;
  /** frames run since the last reset */
  frames = 0;

  private constructor(
    private readonly session: ort.InferenceSession,
    /** the process's shared session: close() leaves it to the others */
    private readonly shared = false,
  ) {
    this.feeds = {
      input: new ort.Tensor('float32', this.input, [1, VAD_CONTEXT + VAD_FRAME]),
      state: new ort.Tensor('float32', this.state, [2, 1, 128]),
      sr: new ort.Tensor('int64', BigInt64Array.from([BigInt(ANALYSIS_RATE)]), []),
    };
  }

  static async create(options: Partial<SileroVadOptions> = {}): Promise<SileroVad> {
    const o: SileroVadOptions = { modelPath: '', intraOpNumThreads: 1, ...options };
    if (o.shared && !o.modelPath) {
      sharedSession ??= SileroVad.load({ ...o, modelPath: defaultVadModelPath() }).catch((e: unknown) => {
        sharedSession = undefined;
        throw e;
      });
      return new SileroVad(await sharedSession, true);
    }
    return new SileroVad(await SileroVad.load(o));
  }

  private static async load(o: SileroVadOptions): Promise<ort.InferenceSession> {
    const path = o.modelPath || defaultVadModelPath();
    if (!existsSync(path)) throw new Error(`Silero VAD model not found at ${path}`);
    if (!Number.isInteger(o.intraOpNumThreads) || o.intraOpNumThreads < 1) throw new RangeError(`SileroVad: intraOpNumThreads must be an integer >= 1, got ${o.intraOpNumThreads}`);
    const session = await ort.InferenceSession.create(path, {
      intraOpNumThreads: o.intraOpNumThreads, interOpNumThreads: 1, executionProviders: ['cpu'],
    });
    const need = ['input', 'state', 'sr'];
    if (!need.every((n) => session.inputNames.includes(n)) || !session.outputNames.includes('output') || !session.outputNames.includes('stateN')) {
      await session.release();
      throw new Error(`${path} is not a Silero VAD v5 model (inputs ${session.inputNames.join(',')}, outputs ${session.outputNames.join(',')})`);
    }
    sessionsLoaded += 1;
    return session;
  }

  /** Speech probability (0..1) of the next 512-sample frame. */
  async process(frame: Float32Array): Promise<number> {
    if (this.closed) throw new Error('SileroVad.process: closed');
    if (!(frame instanceof Float32Array) || frame.length !== VAD_FRAME) throw new TypeError(`SileroVad.process: frame must be a Float32Array of ${VAD_FRAME} samples at 16 kHz`);
    if (this.busy) throw new Error('SileroVad.process: a frame is already running (await it first; frames must go in order)');
    this.busy = true;
    try {
      this.input.set(frame, VAD_CONTEXT);
      const out = await this.session.run(this.feeds);
      const p = (out.output.data as Float32Array)[0];
      this.state.set(out.stateN.data as Float32Array);
      // the next frame's context is this frame's tail
      this.input.copyWithin(0, VAD_FRAME, VAD_FRAME + VAD_CONTEXT);
      this.frames += 1;
      return p;
    } finally {
      this.busy = false;
    }
  }

  reset(): void {
    this.state.fill(0);
    this.input.fill(0);
    this.frames = 0;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (!this.shared) await this.session.release();
  }
}

/** Streaming per-video-frame voice probability. */
export class VadTracker {
  readonly grid: FrameGrid;
  /** audio past a frame's end needed before the frame is complete, samples at 16 kHz */
  readonly lookaheadSamples = VAD_FRAME / 2;
  private pending = new Float32Array(VAD_FRAME * 8);
  private pendingLen = 0;
  private readonly frame = new Float32Array(VAD_FRAME);
  private readonly value = new Float32Array(1);
  private readonly queue = new RecordQueue(1);
  private readonly averager: HopAverager;
  private origin = 0;
  private ran = 0;
  private firstFrame = 0;
  private emitted = 0;
  private running = false;

  constructor(readonly vad: SileroVad, fps = 25) {
    this.grid = new FrameGrid(ANALYSIS_RATE, fps);
    this.averager = new HopAverager(this.grid, 1, [0], this.queue);
  }

  get nextFrame(): number { return this.firstFrame + this.emitted; }

  /** Buffers audio; run() analyses it. */
  push(samples: Float32Array): void {
    if (!(samples instanceof Float32Array)) throw new TypeError('VadTracker.push: samples must be a Float32Array');
    const need = this.pendingLen + samples.length;
    if (need > this.pending.length) {
      const grown = new Float32Array(Math.max(need, this.pending.length * 2));
      grown.set(this.pending.subarray(0, this.pendingLen));
      this.pending = grown;
    }
    this.pending.set(samples, this.pendingLen);
    this.pendingLen = need;
  }

  /** Runs the model over every whole 512-sample frame buffered so far. */
  async run(): Promise<void> {
    if (this.running) throw new Error('VadTracker.run: already running');
    this.running = true;
    try {
      let off = 0;
      while (this.pendingLen - off >= VAD_FRAME) {
        this.frame.set(this.pending.subarray(off, off + VAD_FRAME));
        off += VAD_FRAME;
        this.value[0] = await this.vad.process(this.frame);
        // centre of the VAD frame: (first + last sample) / 2
        this.averager.add(this.origin + this.ran + (VAD_FRAME - 1) / 2, this.value);
        this.ran += VAD_FRAME;
      }
      this.pending.copyWithin(0, off, this.pendingLen);
      this.pendingLen -= off;
      // Every VAD frame not yet run is centred at or after the next one's centre: frames ending
      // there are complete.
      this.averager.completeUpTo(this.origin + this.ran + (VAD_FRAME - 1) / 2);
    } finally {
      this.running = false;
    }
  }

  framesReady(): number { return this.queue.length; }

  /** The next complete frame's probability and index. */
  read(): { index: number; vad: number } {
    if (this.queue.length === 0) throw new Error('VadTracker.read: no complete frame (await run() and check framesReady())');
    this.queue.shift(this.value);
    return { index: this.firstFrame + this.emitted++, vad: this.value[0] };
  }

  /** Starts again at frame `firstFrame`, with a fresh model state and nothing buffered. */
  reset(firstFrame = 0): void {
    if (this.running) throw new Error('VadTracker.reset: run() in progress');
    this.vad.reset();
    this.firstFrame = firstFrame;
    this.origin = this.grid.start(firstFrame);
    this.ran = 0;
    this.emitted = 0;
    this.pendingLen = 0;
    this.queue.clear();
    this.averager.reset(firstFrame);
  }
}

/** Offline helper: voice probability of every whole video frame of `audio` (16 kHz). */
export async function vadPerFrame(vad: SileroVad, audio: Float32Array, fps = 25): Promise<Float32Array> {
  const t = new VadTracker(vad, fps);
  t.reset(0);
  t.push(audio);
  t.push(new Float32Array(t.lookaheadSamples + VAD_FRAME));
  await t.run();
  const n = t.grid.framesIn(audio.length);
  const out = new Float32Array(n);
  for (let i = 0; i < n && t.framesReady() > 0; i++) out[i] = t.read().vad;
  return out;
}
