/**
 * The embedded "portrait" engine: real time on one CPU thread, offline, with models that ship in
 * npm packages. Audio → MotionPipeline (visemes + Silero VAD → mouth, idle motion, lip-sync
 * offset, One-Euro smoothing) → PortraitRenderer (ONNX warp graph) → I420 frames.
 */
import { ANALYSIS_RATE, type AvatarFrame } from '../records.js';
import type { Config } from '../../config/schema.js';
import type { EnrolledPortrait } from '../../models/face/PortraitTypes.js';
import { createPortraitRenderer, type PortraitRenderer } from '../../models/portrait-renderer/renderer.js';
import { MotionPipeline, motionOptionsFromConfig } from '../motion/motion-pipeline.js';
import { emptyStageStats, recordStage, type EngineInfo, type EngineStats, type NormBox, type StageStats, type TalkingHeadEngine } from './EngineTypes.js';
import type { TimedPhone } from '../phonemes/phones.js';

export class InvalidStateError extends Error {
  override name = 'InvalidStateError';
}

export class PortraitEngine implements TalkingHeadEngine {
  readonly info: EngineInfo;
  private renderStats: StageStats = emptyStageStats();
  private framesRendered = 0;
  private busy = false;
  private closed = false;
  /** the configured lookahead in samples, when it exceeds what the analysis needs (else 0) */
  private readonly extraLookahead: number;
  /** index of the next frame to render */
  private nextIndex = 0;

  private constructor(
    private readonly motion: MotionPipeline,
    private readonly renderer: PortraitRenderer,
    fps: number,
    lookaheadMs: number,
    layout?: Pick<EngineInfo, 'face' | 'mouth' | 'portraitScale'>,
  ) {
    this.extraLookahead = lookaheadMs > motion.lookaheadMs ? Math.round((lookaheadMs * ANALYSIS_RATE) / 1000) : 0;
    this.info = Object.freeze({
      name: 'portrait',
      fps,
      width: renderer.width,
      height: renderer.height,
      analysisRate: ANALYSIS_RATE,
      // one analysis window per video frame; the features look at most `lookaheadMs` further
      windowMs: 1000 / fps,
      hopMs: 1000 / fps,
      lookaheadMs: Math.max(lookaheadMs, motion.lookaheadMs),
      ...(layout ?? {}),
    });
  }

  static async create(portrait: EnrolledPortrait, config: Config): Promise<PortraitEngine> {
    const motion = await MotionPipeline.create(motionOptionsFromConfig(config.avatar));
    try {
      const renderer = await createPortraitRenderer(portrait);
      return new PortraitEngine(motion, renderer, config.avatar.fps, config.avatar.lookahead_ms, portraitLayout(portrait));
    } catch (e) {
      await motion.close();
      throw e;
    }
  }

  pushAudio(samples: Float32Array): void {
    this.checkOpen();
    this.motion.pushAudio(samples);
  }

  /** Phones of the speech pushed next (or from `atSample`), from a TTS that knows them: see MotionPipeline.pushPhones. */
  pushPhones(phones: readonly TimedPhone[], atSample?: number): void {
    this.checkOpen();
    this.motion.pushPhones(phones, atSample);
  }

  pushSilence(count: number): void {
    this.checkOpen();
    this.motion.pushSilence(count);
  }

  /**
   * Frames ready now. A configured lookahead longer than the analysis needs holds frames back
   * by the difference (frame k waits for the timeline to reach its end + info.lookaheadMs).
   */
  framesReady(): number {
    if (this.closed) return 0;
    const n = this.motion.framesReady();
    if (this.extraLookahead === 0) return n;
    // frame k is complete at sample (k+1)*RATE/fps; it may render once the timeline is extraLookahead past that
    const complete = Math.floor(((this.motion.timelineSamples - this.extraLookahead) * this.info.fps) / ANALYSIS_RATE + 1e-9);
    return Math.max(0, Math.min(n, complete - this.nextIndex));
  }

  async renderReady(max = Infinity): Promise<AvatarFrame[]> {
    this.checkOpen();
    if (this.busy) throw new InvalidStateError('PortraitEngine: renderReady() called while a render is in progress');
    const n = Math.min(max, this.framesReady());
    if (n <= 0) return [];
    this.busy = true;
    try {
      const motion = await this.motion.next(n);
      const out: AvatarFrame[] = [];
      for (const m of motion) {
        const t0 = performance.now();
        const i420 = await this.renderer.render(m.params);
        recordStage(this.renderStats, performance.now() - t0);
        out.push({
          kind: 'frame',
          pts: m.pts,
          index: m.index,
          width: this.info.width,
          height: this.info.height,
          i420,
          params: m.params,
          speaking: m.speaking,
        });
      }
      this.framesRendered += out.length;
      if (out.length > 0) this.nextIndex = out[out.length - 1]!.index + 1;
      return out;
    } finally {
      this.busy = false;
    }
  }

  async skipReady(max = Infinity): Promise<number> {
    this.checkOpen();
    if (this.busy) throw new InvalidStateError('PortraitEngine: skipReady() called while a render is in progress');
    const n = Math.min(max, this.framesReady());
    if (n <= 0) return 0;
    this.busy = true;
    try {
      const motion = await this.motion.next(n);
      if (motion.length > 0) this.nextIndex = motion[motion.length - 1]!.index + 1;
      return motion.length;
    } finally {
      this.busy = false;
    }
  }

  interrupt(): void {
    this.checkOpen();
    this.motion.interrupt();
  }

  reset(): void {
    this.checkOpen();
    this.motion.reset();
    this.nextIndex = 0;
    this.renderStats = emptyStageStats();
    this.framesRendered = 0;
  }

  stats(): EngineStats {
    return {
      framesRendered: this.framesRendered,
      budgetMs: 1000 / this.info.fps,
      stages: { ...this.motion.stats(), render: { ...this.renderStats } },
    };
  }

  /** The renderer's region of interest (where pixels can change), portrait pixels. */
  get roi() {
    return this.renderer.roi;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([this.motion.close(), this.renderer.close()]);
  }

  private checkOpen(): void {
    if (this.closed) throw new InvalidStateError('PortraitEngine: closed');
  }
}

/** The face box and the mouth's outer contour of an enrolled portrait, as fractions of its size. */
export function portraitLayout(p: EnrolledPortrait): { face: NormBox; mouth: NormBox; portraitScale: number } {
  const norm = (x0: number, y0: number, x1: number, y1: number): NormBox => ({ x: x0 / p.width, y: y0 / p.height, width: (x1 - x0) / p.width, height: (y1 - y0) / p.height });
  const f = p.landmarks.faceBox;
  const xs = p.landmarks.mouth.outerContour.map((q) => q.x);
  const ys = p.landmarks.mouth.outerContour.map((q) => q.y);
  return { face: norm(f.x, f.y, f.x + f.width, f.y + f.height), mouth: norm(Math.min(...xs), Math.min(...ys), Math.max(...xs), Math.max(...ys)), portraitScale: p.width / p.source.crop.width };
}
