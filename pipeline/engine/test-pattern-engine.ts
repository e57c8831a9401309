/**
 * A real TalkingHeadEngine that needs no models: it renders a test card, like a TV test card, for
 * exercising transports (the inference worker, WebRTC) apart from the portrait engine.
 *
 * The card (I420, uniform planes so it survives lossy codecs):
 * - Y: one level for the whole frame, REST_Y (16) in silence up to 235 at `rmsFullScale` RMS.
 * - U: eight horizontal bands, each one base-4 digit of the frame index (most significant first),
 *      digit d drawn as 32 + 64 d; so the index (mod 65536) is read back with +-31 of tolerance.
 * - V: 192 while the frame's audio is speech-loud (RMS above SPEAKING_RMS), 128 otherwise.
 * Time model as in EngineTypes: frame k shows audio [k/fps, (k+1)/fps) and is ready once the
 * timeline reaches its end plus lookahead. interrupt() silences the audio not yet shown and draws
 * the next frame at rest.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { ANALYSIS_RATE, REST_POSE, framePts, i420Size, type AvatarFrame } from '../records.js';
import { emptyStageStats, recordStage, type EngineInfo, type EngineStats, type StageStats, type TalkingHeadEngine } from './EngineTypes.js';

export interface TestPatternOptions {
  /** pixels, even (default 64) */
  width: number;
  /** pixels, even (default 64) */
  height: number;
  /** frames per second (default 25) */
  fps: number;
  /** milliseconds of audio past a frame's end needed before it renders (default 0) */
  lookaheadMs: number;
  /** RMS (linear, 0..1) drawn as full white (default 0.5) */
  rmsFullScale: number;
  /** milliseconds each frame's render waits, standing in for a model's cost (default 0) */
  renderDelayMs: number;
}

/** Y level of a silent frame. */
export const REST_Y = 16;
/** Y level at (or above) rmsFullScale. */
export const FULL_Y = 235;
/** RMS above which a frame counts as speaking (about -40 dBFS). */
export const SPEAKING_RMS = 0.01;
const INDEX_BANDS = 8;

const DEFAULTS: TestPatternOptions = { width: 64, height: 64, fps: 25, lookaheadMs: 0, rmsFullScale: 0.5, renderDelayMs: 0 };

/** Y level the card shows for a frame whose audio has this RMS. */
export function testCardLevel(rms: number, rmsFullScale = DEFAULTS.rmsFullScale): number {
  return REST_Y + Math.round((FULL_Y - REST_Y) * Math.min(1, rms / rmsFullScale));
}

/** Reads a (possibly lossy-coded) test card back: mean Y level, frame index (mod 65536), speaking. */
export function readTestCard(i420: Uint8Array, width: number, height: number): { level: number; index: number; speaking: boolean } {
  if (i420.length !== i420Size(width, height)) throw new TypeError(`readTestCard: expected ${i420Size(width, height)} bytes for ${width}x${height}, got ${i420.length}`);
  const cw = width >> 1;
  const ch = height >> 1;
  const mean = (offset: number, stride: number, y0: number, y1: number, x0: number, x1: number): number => {
    let s = 0;
    for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) s += i420[offset + y * stride + x];
    return s / ((y1 - y0) * (x1 - x0));
  };
  const level = mean(0, width, height >> 2, (height * 3) >> 2, width >> 2, (width * 3) >> 2);
  let index = 0;
  for (let b = 0; b < INDEX_BANDS; b++) {
    const y = Math.floor(((b + 0.5) * ch) / INDEX_BANDS);
    const u = mean(width * height, cw, y, y + 1, cw >> 2, (cw * 3) >> 2);
    index = index * 4 + Math.max(0, Math.min(3, Math.round((u - 32) / 64)));
  }
  const v = mean(width * height + cw * ch, cw, ch >> 2, (ch * 3) >> 2, cw >> 2, (cw * 3) >> 2);
  return { level, index, speaking: v > 160 };
}

export class TestPatternEngine implements TalkingHeadEngine {
  readonly info: EngineInfo;
  private readonly opts: TestPatternOptions;
  private readonly lookahead: number;
  /** timeline samples from the start of the next frame to render onward */
  private buf = new Float32Array(ANALYSIS_RATE);
  private bufLen = 0;
  /** timeline position of buf[0], samples */
  private bufStart = 0;
  private next = 0;
  private restNext = false;
  private closed = false;
  private readonly render: StageStats = emptyStageStats();

  constructor(options: Partial<TestPatternOptions> = {}) {
    const o = { ...DEFAULTS, ...options };
    for (const k of ['width', 'height'] as const) {
      if (!Number.isInteger(o[k]) || o[k] < 16 || o[k] > 4096 || o[k] % 2 !== 0) {
        throw new TypeError(`TestPatternEngine: ${k} must be an even integer of pixels in [16, 4096], got ${o[k]}`);
      }
    }
    if (!Number.isInteger(o.fps) || o.fps < 1 || o.fps > 120) throw new TypeError(`TestPatternEngine: fps must be an integer in [1, 120], got ${o.fps}`);
    for (const k of ['lookaheadMs', 'renderDelayMs'] as const) {
      if (!Number.isFinite(o[k]) || o[k] < 0 || o[k] > 10_000) throw new TypeError(`TestPatternEngine: ${k} must be milliseconds in [0, 10000], got ${o[k]}`);
    }
    if (!(o.rmsFullScale > 0 && o.rmsFullScale <= 1)) throw new TypeError(`TestPatternEngine: rmsFullScale must be in (0, 1], got ${o.rmsFullScale}`);
    this.opts = o;
    this.lookahead = Math.round((o.lookaheadMs * ANALYSIS_RATE) / 1000);
    this.info = Object.freeze({
      name: 'test-pattern',
      fps: o.fps,
      width: o.width,
      height: o.height,
      analysisRate: ANALYSIS_RATE,
      windowMs: 1000 / o.fps,
      hopMs: 1000 / o.fps,
      lookaheadMs: o.lookaheadMs,
    });
  }

  pushAudio(samples: Float32Array): void {
    this.assertOpen('pushAudio');
    if (!(samples instanceof Float32Array)) throw new TypeError('TestPatternEngine.pushAudio: expected a Float32Array of mono samples');
    this.reserve(samples.length).set(samples);
  }

  pushSilence(count: number): void {
    this.assertOpen('pushSilence');
    if (!Number.isInteger(count) || count < 0) throw new TypeError(`TestPatternEngine.pushSilence: count must be a non-negative integer of samples, got ${count}`);
    this.reserve(count).fill(0);
  }

  framesReady(): number {
    const end = this.bufStart + this.bufLen;
    let k = this.next;
    while (this.frameStart(k + 1) + this.lookahead <= end) k += 1;
    return k - this.next;
  }

  async renderReady(max = Infinity): Promise<AvatarFrame[]> {
    this.assertOpen('renderReady');
    const count = Math.min(max, this.framesReady());
    const frames: AvatarFrame[] = [];
    for (let i = 0; i < count; i++) {
      const t0 = performance.now();
      if (this.opts.renderDelayMs > 0) await sleep(this.opts.renderDelayMs);
      frames.push(this.renderOne());
      recordStage(this.render, performance.now() - t0);
    }
    return frames;
  }

  /** Passes over ready frames without drawing them (no render delay either). */
  async skipReady(max = Infinity): Promise<number> {
    this.assertOpen('skipReady');
    const count = Math.min(max, this.framesReady());
    for (let i = 0; i < count; i++) {
      this.consume(this.frameStart(this.next + 1) - this.bufStart);
      this.next += 1;
      this.restNext = false;
    }
    return count;
  }

  interrupt(): void {
    this.assertOpen('interrupt');
    // Everything buffered is not yet shown: it becomes silence, and the timeline keeps its length.
    this.buf.fill(0, 0, this.bufLen);
    this.restNext = true;
  }

  reset(): void {
    this.assertOpen('reset');
    this.bufLen = 0;
    this.bufStart = 0;
    this.next = 0;
    this.restNext = false;
  }

  stats(): EngineStats {
    return { framesRendered: this.render.count, budgetMs: 1000 / this.opts.fps, stages: { render: { ...this.render } } };
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  private renderOne(): AvatarFrame {
    const k = this.next;
    const from = this.frameStart(k) - this.bufStart;
    const to = this.frameStart(k + 1) - this.bufStart;
    let sum = 0;
    for (let i = from; i < to; i++) sum += this.buf[i] * this.buf[i];
    const rms = this.restNext ? 0 : Math.sqrt(sum / Math.max(1, to - from));
    this.restNext = false;
    this.consume(to);
    this.next = k + 1;
    const { width, height, rmsFullScale } = this.opts;
    const speaking = rms > SPEAKING_RMS;
    return {
      kind: 'frame',
      pts: framePts(k, this.opts.fps),
      index: k,
      width,
      height,
      i420: drawCard(width, height, testCardLevel(rms, rmsFullScale), k, speaking),
      params: { ...REST_POSE, jawOpen: Math.min(1, rms / rmsFullScale) },
      speaking,
    };
  }

  /** Timeline sample where frame k starts. */
  private frameStart(k: number): number {
    return Math.round((k * ANALYSIS_RATE) / this.opts.fps);
  }

  /** Grows the buffer by n samples and returns the new tail to fill. */
  private reserve(n: number): Float32Array {
    if (this.bufLen + n > this.buf.length) {
      const grown = new Float32Array(Math.max(this.buf.length * 2, this.bufLen + n));
      grown.set(this.buf.subarray(0, this.bufLen));
      this.buf = grown;
    }
    this.bufLen += n;
    return this.buf.subarray(this.bufLen - n, this.bufLen);
  }

  private consume(n: number): void {
    this.buf.copyWithin(0, n, this.bufLen);
    this.bufLen -= n;
    this.bufStart += n;
  }

  private assertOpen(op: string): void {
    if (this.closed) throw new Error(`TestPatternEngine.${op}: the engine is closed`);
  }
}

function drawCard(width: number, height: number, level: number, index: number, speaking: boolean): Uint8Array {
  const out = new Uint8Array(i420Size(width, height));
  const cw = width >> 1;
  const ch = height >> 1;
  out.fill(level, 0, width * height);
  const uStart = width * height;
  for (let y = 0; y < ch; y++) {
    const band = Math.min(INDEX_BANDS - 1, Math.floor((y * INDEX_BANDS) / ch));
    const digit = (index >> (2 * (INDEX_BANDS - 1 - band))) & 3;
    out.fill(32 + 64 * digit, uStart + y * cw, uStart + (y + 1) * cw);
  }
  out.fill(speaking ? 192 : 128, uStart + cw * ch);
  return out;
}

/** Module entry for the inference worker: `engineModule` may point here. */
export function createEngine(options?: Partial<TestPatternOptions>): TestPatternEngine {
  return new TestPatternEngine(options ?? {});
}
