/**
 * FeatureExtractor: 16 kHz mono in, one FeatureFrame per whole video frame out (viseme weights,
 * Silero voice probability, RMS), in frame order, on the EngineTypes time model: frame k covers
 * samples [start(k), start(k+1)) and is ready once the timeline holds `lookaheadSamples` past its end.
 *
 * push() only buffers; next() analyses as much audio as the frames it returns need, so the cost is
 * paid per frame, and interrupt() can still discard audio nobody has looked at.
 */
import { ANALYSIS_RATE, framePts, type FeatureFrame } from '../records.js';
import { emptyStageStats, recordStage, type StageStats } from '../engine/EngineTypes.js';
import { FrameGrid, RecordQueue } from './frame-grid.js';
import { VISEME_COUNT, VisemeTracker, type VisemeOptions } from './visemes.js';
import { SileroVad, VadTracker, type SileroVadOptions } from './vad.js';

export interface FeatureExtractorOptions {
  /** video frames per second */
  fps: number;
  visemes: Partial<Omit<VisemeOptions, 'fps'>>;
  vad: Partial<SileroVadOptions>;
}

/** Exact per-frame RMS of the audio (no lookahead). */
class RmsTracker {
  private readonly queue = new RecordQueue(1);
  private readonly one = new Float32Array(1);
  private frame = 0;
  private pos = 0;
  private sumSq = 0;
  constructor(private readonly grid: FrameGrid) {}

  push(x: Float32Array): void {
    let i = 0;
    while (i < x.length) {
      const end = this.grid.end(this.frame);
      const take = Math.min(x.length - i, end - this.pos);
      for (let j = i; j < i + take; j++) this.sumSq += x[j] * x[j];
      i += take;
      this.pos += take;
      if (this.pos === end) {
        this.queue.push()[0] = Math.sqrt(this.sumSq / (end - this.grid.start(this.frame)));
        this.sumSq = 0;
        this.frame += 1;
      }
    }
  }
  framesReady(): number { return this.queue.length; }
  read(): number { this.queue.shift(this.one); return this.one[0]; }
  reset(firstFrame: number): void {
    this.queue.clear();
    this.frame = firstFrame;
    this.pos = this.grid.start(firstFrame);
    this.sumSq = 0;
  }
}

export interface FeatureStats {
  visemes: StageStats;
  vad: StageStats;
}

export class FeatureExtractor {
  readonly fps: number;
  readonly grid: FrameGrid;
  /** audio past a frame's end needed before the frame is ready, samples at 16 kHz */
  readonly lookaheadSamples: number;
  private readonly visemes: VisemeTracker;
  private readonly vadTracker: VadTracker;
  private readonly rms: RmsTracker;
  private pending = new Float32Array(ANALYSIS_RATE);
  private pendingLen = 0;
  /** timeline length (samples pushed, silence included) */
  private total = 0;
  /** next frame next() returns */
  private emitted = 0;
  private busy = false;
  private readonly w = new Float32Array(VISEME_COUNT);
  private readonly st: FeatureStats = { visemes: emptyStageStats(), vad: emptyStageStats() };

  private constructor(vad: SileroVad, o: FeatureExtractorOptions) {
    this.fps = o.fps;
    this.grid = new FrameGrid(ANALYSIS_RATE, o.fps);
    this.visemes = new VisemeTracker({ ...o.visemes, fps: o.fps });
    this.vadTracker = new VadTracker(vad, o.fps);
    this.rms = new RmsTracker(this.grid);
    this.lookaheadSamples = Math.max(this.visemes.lookaheadSamples, this.vadTracker.lookaheadSamples);
    this.reset();
  }

  static async create(options: Partial<FeatureExtractorOptions> = {}): Promise<FeatureExtractor> {
    const o: FeatureExtractorOptions = { fps: 25, visemes: {}, vad: {}, ...options };
    if (!Number.isInteger(o.fps) || o.fps < 1 || o.fps > 120) throw new RangeError(`FeatureExtractor: fps must be an integer in [1, 120], got ${o.fps}`);
    const vad = await SileroVad.create(o.vad);
    return new FeatureExtractor(vad, o);
  }

  get lookaheadMs(): number { return (this.lookaheadSamples * 1000) / ANALYSIS_RATE; }
  /** Samples on the timeline so far. */
  get length(): number { return this.total; }
  /** Index of the next frame next() returns. */
  get nextFrame(): number { return this.emitted; }

  /** Appends speech (16 kHz mono, [-1, 1]) to the timeline. */
  push(samples: Float32Array): void {
    if (!(samples instanceof Float32Array)) throw new TypeError('FeatureExtractor.push: samples must be a Float32Array (16 kHz mono)');
    for (let i = 0; i < samples.length; i++) {
      if (!Number.isFinite(samples[i])) throw new TypeError(`FeatureExtractor.push: sample ${i} is ${samples[i]}`);
    }
    this.append(samples.length, samples);
  }

  /** Appends `count` samples of silence. */
  pushSilence(count: number): void {
    if (!Number.isInteger(count) || count < 0) throw new RangeError(`FeatureExtractor.pushSilence: count must be an integer >= 0, got ${count}`);
    this.append(count, null);
  }

  /** Pads with enough silence that every frame holding pushed audio becomes ready. */
  flush(): void {
    const whole = this.grid.framesIn(this.total);
    const touched = this.grid.start(whole) < this.total ? whole + 1 : whole; // frames holding any audio
    if (touched === 0) return;
    const need = this.grid.end(touched - 1) + this.lookaheadSamples - this.total;
    if (need > 0) this.pushSilence(need);
  }

  private append(n: number, src: Float32Array | null): void {
    const need = this.pendingLen + n;
    if (need > this.pending.length) {
      const grown = new Float32Array(Math.max(need, this.pending.length * 2));
      grown.set(this.pending.subarray(0, this.pendingLen));
      this.pending = grown;
    }
    if (src) this.pending.set(src, this.pendingLen);
    else this.pending.fill(0, this.pendingLen, need);
    this.pendingLen = need;
    this.total += n;
  }

  /** Frames that next() can return now. */
  framesReady(): number {
    return Math.max(0, this.grid.framesIn(this.total - this.lookaheadSamples) - this.emitted);
  }

  /** Analyses and returns up to `max` ready frames (all by default), in order. */
  async next(max = Infinity): Promise<FeatureFrame[]> {
    if (this.busy) throw new Error('FeatureExtractor.next: already running (await the previous call)');
    const n = Math.min(max, this.framesReady());
    if (n <= 0) return [];
    this.busy = true;
    try {
      // Analyse only the audio these n frames need; the rest stays pending.
      const fed = this.total - this.pendingLen;
      const upTo = Math.min(this.total, this.grid.end(this.emitted + n - 1) + this.lookaheadSamples);
      const chunk = this.pending.subarray(0, upTo - fed);
      let t0 = performance.now();
      this.visemes.push(chunk);
      this.rms.push(chunk);
      recordStage(this.st.visemes, performance.now() - t0);
      t0 = performance.now();
      this.vadTracker.push(chunk);
      await this.vadTracker.run();
      recordStage(this.st.vad, performance.now() - t0);
      this.pending.copyWithin(0, upTo - fed, this.pendingLen);
      this.pendingLen -= upTo - fed;

      const out: FeatureFrame[] = [];
      for (let i = 0; i < n; i++) {
        const index = this.emitted;
        const vi = this.visemes.read(this.w);
        const { index: ai, vad } = this.vadTracker.read();
        if (vi !== index || ai !== index) throw new Error(`FeatureExtractor: internal frame mismatch (frame ${index}, visemes ${vi}, vad ${ai})`);
        out.push({ kind: 'features', pts: framePts(index, this.fps), index, visemes: Float32Array.from(this.w), vad, rms: this.rms.read() });
        this.emitted += 1;
      }
      return out;
    } finally {
      this.busy = false;
    }
  }

  /**
   * Barge-in: the audio of frames not yet returned is replaced by silence and the analysis starts
   * afresh at the next frame; the timeline length is kept, so indices and pts stay monotonic.
   */
  interrupt(): void {
    if (this.busy) throw new Error('FeatureExtractor.interrupt: next() in progress');
    const m = this.emitted;
    this.restartAt(m);
    const silent = this.total - this.grid.start(m);
    this.pendingLen = 0;
    this.total -= silent;
    this.pushSilence(silent);
  }

  /** Back to frame 0 and an empty timeline. */
  reset(): void {
    if (this.busy) throw new Error('FeatureExtractor.reset: next() in progress');
    this.restartAt(0);
    this.pendingLen = 0;
    this.total = 0;
    this.emitted = 0;
    this.st.visemes = emptyStageStats();
    this.st.vad = emptyStageStats();
  }

  private restartAt(frame: number): void {
    this.visemes.reset(frame);
    this.vadTracker.reset(frame);
    this.rms.reset(frame);
  }

  stats(): FeatureStats { return { visemes: { ...this.st.visemes }, vad: { ...this.st.vad } }; }

  async close(): Promise<void> { await this.vadTracker.vad.close(); }
}
