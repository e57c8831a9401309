/**
 * The Sonic engine (runtime.engine "sonic"): the TalkingHeadEngine over models/sonic's runner.
 *
 * Streaming (the live server; also `sonic.render_mode: streaming`): causal windows of
 * `stream_window_frames` generated frames (12.5 fps) that overlap by `stream_overlap_frames`.
 * Window j starts at generated frame j * stride (stride = window - overlap) and runs once the
 * audio reaches its end plus the token lookahead; its first `overlap` frames continue the
 * previous window (pinned during sampling, then cross-faded), and frames [j * stride,
 * (j + 1) * stride) are final after it. Output frames (avatar.fps) interpolate between generated
 * frames. Latency: info.lookaheadMs (a window, plus the reference's 0.52 s of bucket lookahead)
 * + one window's compute.
 *
 * Offline (renderClip, used by the renderer): the whole clip at once, windows shifted every
 * sampler step as the reference does; frames come out after the whole clip is sampled.
 *
 * Barge-in: audio from the next frame to show becomes silence and the windows not yet shown are
 * generated again from it; the face calms as soon as the next window is computed (one window's
 * compute time, not one frame: Sonic has no faster path back to rest).
 */
import type { Config } from '../../config/schema.js';
import type { EnrolledPortrait } from '../../models/face/PortraitTypes.js';
import { MEL, MelTimeline } from '../../models/sonic/mel.js';
import { GENERATED_FPS, windowAudioEnd } from '../../models/sonic/audio-track.js';
import { lerpI420, planesToI420 } from '../../models/sonic/frames.js';
import { runnerOptionsFromConfig, SonicRunner, type SonicRunnerOptions } from '../../models/sonic/runner.js';
import { ANALYSIS_RATE, framePts, REST_POSE, type AvatarFrame } from '../records.js';
import { emptyStageStats, recordStage, type EngineInfo, type EngineStats, type StageStats, type TalkingHeadEngine } from './EngineTypes.js';
import { InvalidStateError } from './portrait-engine.js';

/** RMS above which a frame counts as speech (about -40 dBFS). */
const SPEAKING_RMS = 0.01;

export interface SonicEngineOptions {
  runner: SonicRunnerOptions;
  fps: number;
  window: number;
  overlap: number;
  offline: { window: number; overlap: number; shiftOffset: number };
}

export function sonicEngineOptions(config: Config): SonicEngineOptions {
  const s = config.sonic;
  return {
    runner: runnerOptionsFromConfig(config),
    fps: config.avatar.fps,
    window: s.stream_window_frames,
    overlap: s.stream_overlap_frames,
    offline: { window: s.window_frames, overlap: s.overlap_frames, shiftOffset: s.shift_offset },
  };
}

export class SonicEngine implements TalkingHeadEngine {
  readonly info: EngineInfo;
  private readonly mel = new MelTimeline();
  private readonly stride: number;
  /** generated frames per output frame */
  private readonly ratio: number;
  /** windows run (window j covers generated frames [j * stride, j * stride + window)) */
  private windowsRun = 0;
  /** I420 of final generated frames */
  private readonly generated = new Map<number, Uint8Array>();
  /** latents of each recent window's last `overlap` frames (the next window continues them) */
  private readonly tails = new Map<number, Float32Array>();
  private nextOut = 0;
  private framesRendered = 0;
  private readonly windowStage: StageStats = emptyStageStats();
  private readonly outputStage: StageStats = emptyStageStats();
  private busy = false;
  private closed = false;

  private constructor(
    readonly runner: SonicRunner,
    private readonly o: SonicEngineOptions,
    width: number,
    height: number,
  ) {
    this.stride = o.window - o.overlap;
    this.ratio = GENERATED_FPS / o.fps;
    // Worst frame: the output frame just before generated frame `stride` (the first one window 1
    // makes final) waits for window 1's audio: its frames, the bucket lookahead of its last frame
    // (26 whisper frames past its start, as the reference) and the mel window.
    const frameEndMs = ((this.stride - 1) / GENERATED_FPS) * 1000 + 1000 / o.fps;
    const lookaheadMs = (this.neededSamples(1) * 1000) / ANALYSIS_RATE - frameEndMs;
    this.info = Object.freeze({
      name: 'sonic',
      fps: o.fps,
      width,
      height,
      analysisRate: ANALYSIS_RATE,
      windowMs: (o.window / GENERATED_FPS) * 1000,
      hopMs: (this.stride / GENERATED_FPS) * 1000,
      lookaheadMs,
    });
  }

  static async create(portrait: EnrolledPortrait, config: Config): Promise<SonicEngine> {
    return SonicEngine.open(portrait, sonicEngineOptions(config));
  }

  static async open(portrait: Pick<EnrolledPortrait, 'rgba' | 'width' | 'height'>, o: SonicEngineOptions): Promise<SonicEngine> {
    if (o.overlap >= o.window) throw new RangeError(`SonicEngine: overlap (${o.overlap}) must be less than the window (${o.window})`);
    const runner = await SonicRunner.open(o.runner);
    try {
      const c = await runner.conditionOn(portrait.rgba, portrait.width, portrait.height);
      return new SonicEngine(runner, o, c.width, c.height);
    } catch (e) {
      await runner.close();
      throw e;
    }
  }

  pushAudio(samples: Float32Array): void {
    this.checkOpen();
    this.mel.push(samples);
  }

  pushSilence(count: number): void {
    this.checkOpen();
    if (count > 0) this.mel.push(new Float32Array(count));
  }

  framesReady(): number {
    if (this.closed) return 0;
    let windows = this.windowsRun;
    while (this.neededSamples(windows) <= this.mel.sampleCount) windows += 1;
    if (windows === 0) return 0;
    // output k needs generated frames floor(k * ratio) and ceil(k * ratio), final below windows * stride
    const last = Math.floor((windows * this.stride - 1) / this.ratio + 1e-9);
    return Math.max(0, last + 1 - this.nextOut);
  }

  async renderReady(max = Infinity): Promise<AvatarFrame[]> {
    this.checkOpen();
    if (this.busy) throw new InvalidStateError('SonicEngine: renderReady() called while a render is in progress');
    const n = Math.min(max, this.framesReady());
    if (n <= 0) return [];
    this.busy = true;
    try {
      const out: AvatarFrame[] = [];
      for (let i = 0; i < n; i++) {
        const k = this.nextOut;
        const p = k * this.ratio;
        while (Math.ceil(p - 1e-9) >= this.windowsRun * this.stride) await this.runWindow(this.windowsRun);
        out.push(this.outputFrame(k));
        this.nextOut += 1;
      }
      // generated frames behind the next output frame are not needed any more
      for (const g of this.generated.keys()) if (g < Math.floor(this.nextOut * this.ratio)) this.generated.delete(g);
      this.framesRendered += out.length;
      return out;
    } finally {
      this.busy = false;
    }
  }

  /**
   * Offline: the whole clip (16 kHz mono) at once, windows shifted every step (the reference's
   * sampler); calls onFrame for each of `frames` output frames in order.
   */
  async renderClip(audio: Float32Array, frames: number, onFrame: (f: AvatarFrame) => Promise<void>, signal?: AbortSignal): Promise<void> {
    this.checkOpen();
    this.reset();
    this.mel.push(audio);
    const total = Math.max(1, Math.ceil((frames - 1) * this.ratio) + 1);
    const t0 = performance.now();
    const whisperFrames = windowAudioEnd(total, this.o.offline.window, this.o.runner.lipSyncOffsetMs) + 1;
    const track = await this.runner.encodeClip(this.mel, whisperFrames);
    const tokenSize = this.runner.dims.T * this.runner.dims.D;
    const tokens = new Float32Array(total * tokenSize);
    for (let g = 0; g < total; g += 64) tokens.set(await this.runner.tokens(track, g, Math.min(64, total - g)), g * tokenSize);
    const buckets = new Map<number, number>();
    const window = Math.min(this.o.offline.window, total);
    const latents = await this.runner.sampleOffline({
      total,
      window: this.o.offline.window,
      overlap: this.o.offline.overlap,
      shiftOffset: this.o.offline.shiftOffset,
      tokens,
      bucketAt: async (first) => {
        let b = buckets.get(first);
        if (b === undefined) buckets.set(first, (b = await this.runner.motionBucket(track, first, window, total)));
        return b;
      },
      onStep: () => {
        if (signal?.aborted) throw new Error('render aborted');
      },
    });
    recordStage(this.windowStage, performance.now() - t0);
    const fs = this.runner.frameSize;
    const chunk = this.o.runner.decodeChunkFrames;
    for (let g = 0; g < total && !signal?.aborted; g += chunk) {
      const n = Math.min(chunk, total - g);
      await this.decodeInto(latents.subarray(g * fs, (g + n) * fs), g, n);
      while (this.nextOut < frames && Math.ceil(this.nextOut * this.ratio - 1e-9) < g + n) {
        const f = this.outputFrame(this.nextOut);
        this.nextOut += 1;
        this.framesRendered += 1;
        await onFrame(f);
        for (const k of this.generated.keys()) if (k < Math.floor(this.nextOut * this.ratio)) this.generated.delete(k);
      }
    }
  }

  interrupt(): void {
    this.checkOpen();
    const from = Math.round((this.nextOut * ANALYSIS_RATE) / this.o.fps);
    this.mel.silenceFrom(from);
    const firstWindow = Math.min(this.windowsRun, Math.floor(Math.floor(this.nextOut * this.ratio) / this.stride));
    this.windowsRun = firstWindow;
    for (const g of this.generated.keys()) if (g >= firstWindow * this.stride) this.generated.delete(g);
    for (const j of this.tails.keys()) if (j >= firstWindow) this.tails.delete(j);
  }

  reset(): void {
    this.checkOpen();
    this.mel.clear();
    this.windowsRun = 0;
    this.nextOut = 0;
    this.generated.clear();
    this.tails.clear();
  }

  stats(): EngineStats {
    const stages: Record<string, StageStats> = {};
    for (const [k, v] of Object.entries(this.runner.stats)) stages[k] = { ...v };
    stages.window = { ...this.windowStage };
    stages.output = { ...this.outputStage };
    return { framesRendered: this.framesRendered, budgetMs: 1000 / this.info.fps, stages };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.generated.clear();
    await this.runner.close();
  }

  /** Samples the timeline needs before window j can run. */
  private neededSamples(j: number): number {
    const end = windowAudioEnd(j * this.stride, this.o.window, this.o.runner.lipSyncOffsetMs);
    // whisper frame w reads mel frames up to 2w + 1, whose window ends 200 samples past its centre
    return Math.max(1, (2 * end - 1) * MEL.hop + MEL.nFft / 2);
  }

  private async runWindow(j: number): Promise<void> {
    const t0 = performance.now();
    const first = j * this.stride;
    const { window, overlap } = this.o;
    const end = windowAudioEnd(first, window, this.o.runner.lipSyncOffsetMs);
    const startWhisper = Math.max(0, end - 1500);
    const track = await this.runner.encodeAudio(this.mel, startWhisper * 2);
    const tokens = await this.runner.tokens(track, first, window);
    const bucket = await this.runner.motionBucket(track, first, window);
    const prev = j > 0 ? this.tails.get(j - 1) : undefined;
    const fs = this.runner.frameSize;
    const lat = await this.runner.sampleWindow({ first, size: window, tokens, bucket, pinned: prev && overlap > 0 ? { frames: overlap, latents: prev } : undefined });
    if (prev) {
      // cross-fade the shared frames: the previous window's weight falls as this one's rises
      for (let f = 0; f < overlap; f++) {
        const wNew = (f + 1) / (overlap + 1);
        for (let i = f * fs; i < (f + 1) * fs; i++) lat[i] = (1 - wNew) * prev[i]! + wNew * lat[i]!;
      }
    }
    this.tails.set(j, lat.slice(this.stride * fs));
    this.tails.delete(j - 2);
    await this.decodeInto(lat.subarray(0, this.stride * fs), first, this.stride);
    this.windowsRun = j + 1;
    recordStage(this.windowStage, performance.now() - t0);
  }

  private async decodeInto(latents: Float32Array, first: number, n: number): Promise<void> {
    const planes = await this.runner.decode(latents, n);
    const t0 = performance.now();
    const { width: w, height: h } = this.info;
    for (let f = 0; f < n; f++) this.generated.set(first + f, planesToI420(planes.subarray(f * 3 * w * h, (f + 1) * 3 * w * h), w, h));
    recordStage(this.outputStage, performance.now() - t0);
  }

  private outputFrame(k: number): AvatarFrame {
    const p = k * this.ratio;
    const g0 = Math.floor(p + 1e-9);
    const t = p - g0;
    const a = this.generated.get(g0);
    const b = t > 1e-9 ? this.generated.get(g0 + 1) : a;
    if (!a || !b) throw new Error(`SonicEngine: generated frame ${a ? g0 + 1 : g0} is missing for output frame ${k}`);
    const from = Math.round((k * ANALYSIS_RATE) / this.o.fps);
    const to = Math.round(((k + 1) * ANALYSIS_RATE) / this.o.fps);
    return {
      kind: 'frame',
      pts: framePts(k, this.o.fps),
      index: k,
      width: this.info.width,
      height: this.info.height,
      i420: lerpI420(a, b, t),
      params: REST_POSE,
      speaking: this.mel.rms(from, to) > SPEAKING_RMS,
    };
  }

  private checkOpen(): void {
    if (this.closed) throw new InvalidStateError('SonicEngine: closed');
  }
}

