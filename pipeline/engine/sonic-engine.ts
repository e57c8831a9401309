/**
 * The Sonic engine (runtime.engine "sonic"): the TalkingHeadEngine over models/sonic's runner.
 *
 * Streaming (the live server; also `sonic.render_mode: streaming`): causal windows of
 * `stream_window_frames` generated frames (12.5 fps; 25 by default, the length Sonic runs) that
 * overlap by `stream_overlap_frames`. Window j starts at generated frame j * stride (stride =
 * window - overlap) and runs once the audio reaches its end plus the bucket lookahead; its first
 * `overlap` frames continue the previous window (pinned during sampling, then cross-faded), and
 * frames [j * stride, (j + 1) * stride) are final after it. Output frames (avatar.fps) come from
 * the generated frames and RIFE's middle frames between them (25 fps = all of them).
 * Latency: streamingLatency() (models/sonic/windows.ts): info.lookaheadMs (a window, plus the
 * reference's 0.52 s of bucket lookahead) + one window's compute while that compute takes less
 * than a hop (stride / 12.5 s); beyond, it grows every window and the engine cannot stream.
 *
 * Offline (renderClip, used by the renderer): sonic.py's clip (frames from the audio length),
 * every window at every step, shifted as SonicPipeline shifts them; then RIFE.
 *
 * Barge-in: audio from the next frame to show becomes silence and the windows not yet shown are
 * generated again from it; the face calms as soon as the next window is computed (one window's
 * compute time, not one frame: Sonic has no faster path back to rest).
 *
 * Frame: Sonic's own size (its export's) for the square Sonic crop; for a framed portrait
 * (avatar.width x avatar.height) each frame is pasted back onto the crop Sonic was conditioned on,
 * over the still picture (models/sonic/paste-back.ts), and the kiosk gets the whole frame.
 */
import type { Config } from '../../config/schema.js';
import type { EnrolledPortrait } from '../../models/face/PortraitTypes.js';
import { MEL, MelTimeline } from '../../models/sonic/mel.js';
import { GENERATED_FPS, windowAudioEnd } from '../../models/sonic/audio-track.js';
import { planesToI420, toUnit } from '../../models/sonic/frames.js';
import { PasteBack } from '../../models/sonic/paste-back.js';
import { runnerOptionsFromConfig, SonicRunner, type SonicPortrait, type SonicRunnerOptions } from '../../models/sonic/runner.js';
import { streamingLatency } from '../../models/sonic/windows.js';
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
  /** final generated frames: planes [3, H, W] in [0, 1] (clamped once, as RIFE takes them) */
  private readonly generated = new Map<number, Float32Array>();
  /** RIFE's middle frame after generated frame g */
  private readonly middles = new Map<number, Float32Array>();
  /** latents of each recent window's last `overlap` frames (the next window continues them) */
  private readonly tails = new Map<number, Float32Array>();
  private nextOut = 0;
  /** the last generated frame of an offline clip (output frames past it repeat it) */
  private lastGenerated = Infinity;
  private framesRendered = 0;
  private readonly windowStage: StageStats = emptyStageStats();
  private readonly outputStage: StageStats = emptyStageStats();
  private busy = false;
  private closed = false;
  /** the generated frames' size (the export's) */
  private readonly generatedSize: { width: number; height: number };

  private constructor(
    readonly runner: SonicRunner,
    private readonly o: SonicEngineOptions,
    generated: { width: number; height: number },
    private readonly pasteBack?: PasteBack,
  ) {
    this.generatedSize = generated;
    const { width, height } = pasteBack ?? generated;
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
    const framed = config.avatar.width !== null;
    return SonicEngine.open({ rgba: portrait.rgba, width: portrait.width, height: portrait.height, faceBox: portrait.landmarks.faceBox }, sonicEngineOptions(config), { wholeFrame: framed });
  }

  /**
   * @param frame.wholeFrame frames of the portrait's own size, Sonic's output pasted back onto its
   *   crop (a framed portrait); otherwise Sonic's own size
   */
  static async open(portrait: SonicPortrait, o: SonicEngineOptions, frame: { wholeFrame?: boolean } = {}): Promise<SonicEngine> {
    if (o.overlap >= o.window) throw new RangeError(`SonicEngine: overlap (${o.overlap}) must be less than the window (${o.window})`);
    const runner = await SonicRunner.open(o.runner);
    try {
      const c = await runner.conditionOn(portrait);
      const generated = { width: c.width, height: c.height };
      const paste = frame.wholeFrame ? new PasteBack(portrait.rgba, portrait.width, portrait.height, c.crop, generated) : undefined;
      return new SonicEngine(runner, o, generated, paste);
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
        out.push(await this.outputFrame(k));
        this.nextOut += 1;
      }
      this.forgetBehind();
      this.framesRendered += out.length;
      return out;
    } finally {
      this.busy = false;
    }
  }

  /**
   * Offline: the whole clip (16 kHz mono) at once as sonic.py makes it (its frame count from the
   * audio length, windows shifted every step); calls onFrame for each of `frames` output frames in
   * order (output frames past the clip's last generated frame repeat it).
   */
  async renderClip(audio: Float32Array, frames: number, onFrame: (f: AvatarFrame) => Promise<void>, signal?: AbortSignal): Promise<void> {
    this.checkOpen();
    this.reset();
    this.mel.push(audio);
    const t0 = performance.now();
    const clip = await this.runner.offlineClip(this.mel, {
      ...this.o.offline,
      onStep: () => {
        if (signal?.aborted) throw new Error('render aborted');
      },
    });
    recordStage(this.windowStage, performance.now() - t0);
    const total = clip.frames;
    this.lastGenerated = total - 1;
    const fs = this.runner.frameSize;
    const chunk = this.o.runner.decodeChunkFrames;
    for (let g = 0; g < total && !signal?.aborted; g += chunk) {
      const n = Math.min(chunk, total - g);
      await this.decodeInto(clip.latents.subarray(g * fs, (g + n) * fs), g, n);
      // output k needs generated frames up to ceil(k * ratio) (clamped to the clip's last)
      while (this.nextOut < frames && (g + n >= total || Math.ceil(this.nextOut * this.ratio - 1e-9) < g + n)) {
        const f = await this.outputFrame(this.nextOut);
        this.nextOut += 1;
        this.framesRendered += 1;
        await onFrame(f);
        this.forgetBehind();
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
    for (const g of this.middles.keys()) if (g + 1 >= firstWindow * this.stride) this.middles.delete(g);
    for (const j of this.tails.keys()) if (j >= firstWindow) this.tails.delete(j);
  }

  reset(): void {
    this.checkOpen();
    this.mel.clear();
    this.windowsRun = 0;
    this.nextOut = 0;
    this.lastGenerated = Infinity;
    this.generated.clear();
    this.middles.clear();
    this.tails.clear();
  }

  /**
   * Streaming latency at a window compute time (default: the mean measured so far), after
   * `windows` windows: see streamingLatency(). realTime false = the engine cannot stream here.
   */
  latency(computeMs = this.windowStage.count ? this.windowStage.totalMs / this.windowStage.count : NaN, windows = 10): ReturnType<typeof streamingLatency> {
    return streamingLatency({ lookaheadMs: this.info.lookaheadMs, hopMs: this.info.hopMs, computeMs, windows });
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
    this.middles.clear();
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
    const timeIds = this.runner.timeIds(await this.runner.frameBuckets(track, first, window), 0, window, window);
    const prev = j > 0 ? this.tails.get(j - 1) : undefined;
    const fs = this.runner.frameSize;
    const lat = await this.runner.sampleWindow({ first, size: window, tokens, timeIds, pinned: prev && overlap > 0 ? { frames: overlap, latents: prev } : undefined });
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
    const { width: w, height: h } = this.generatedSize;
    for (let f = 0; f < n; f++) this.generated.set(first + f, toUnit(planes.subarray(f * 3 * w * h, (f + 1) * 3 * w * h)));
  }

  /** Generated and middle frames behind the next output frame are not needed any more. */
  private forgetBehind(): void {
    // an offline clip's last frame stays: output frames past the clip repeat it
    const g = Math.min(Math.floor(this.nextOut * this.ratio + 1e-9), this.lastGenerated);
    for (const k of this.generated.keys()) if (k < g) this.generated.delete(k);
    for (const k of this.middles.keys()) if (k < g) this.middles.delete(k);
  }

  /**
   * The picture at generated-frame position p: the generated frame nearest on the 25 fps grid
   * Sonic makes (generated frames and RIFE's middles between them).
   */
  private async pictureAt(p: number): Promise<Float32Array> {
    const half = Math.min(Math.round(p * 2), 2 * this.lastGenerated);
    const g0 = Math.floor(half / 2);
    const a = this.generated.get(g0);
    if (!a) throw new Error(`SonicEngine: generated frame ${g0} is missing`);
    if (half % 2 === 0) return a;
    let mid = this.middles.get(g0);
    if (!mid) {
      const b = this.generated.get(g0 + 1);
      if (!b) throw new Error(`SonicEngine: generated frame ${g0 + 1} is missing`);
      mid = await this.runner.interpolate(a, b);
      this.middles.set(g0, mid);
    }
    return mid;
  }

  private async outputFrame(k: number): Promise<AvatarFrame> {
    const t0 = performance.now();
    const generated = await this.pictureAt(k * this.ratio);
    const planes = this.pasteBack ? this.pasteBack.compose(generated) : generated;
    const i420 = planesToI420(planes, this.info.width, this.info.height, undefined, 'unit');
    recordStage(this.outputStage, performance.now() - t0);
    const from = Math.round((k * ANALYSIS_RATE) / this.o.fps);
    const to = Math.round(((k + 1) * ANALYSIS_RATE) / this.o.fps);
    return {
      kind: 'frame',
      pts: framePts(k, this.o.fps),
      index: k,
      width: this.info.width,
      height: this.info.height,
      i420,
      params: REST_POSE,
      speaking: this.mel.rms(from, to) > SPEAKING_RMS,
    };
  }

  private checkOpen(): void {
    if (this.closed) throw new InvalidStateError('SonicEngine: closed');
  }
}

