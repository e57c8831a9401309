/**
 * The contract every streaming talking-head engine implements (the embedded `portrait` engine now,
 * Sonic and other ONNX engines later).
 *
 * Time model: the engine consumes ONE continuous mono audio timeline at `info.analysisRate`.
 * Whoever drives it (the offline renderer, or a live session ticking on the wall clock) appends
 * speech with `pushAudio` and fills pauses with `pushSilence`, so the timeline never has holes.
 * Video frame k shows the audio at [k/fps, (k+1)/fps); it can be rendered once the timeline
 * reaches (k+1)/fps + lookahead. `framesReady()` says how many frames that allows now.
 */
import type { TimedPhone } from '../phonemes/phones.js';
import type { AvatarFrame, MotionParams } from '../records.js';

export interface EngineInfo {
  readonly name: string;
  /** frames per second of the output */
  readonly fps: number;
  /** output frame size in pixels (even numbers) */
  readonly width: number;
  readonly height: number;
  /** Hz of the audio the engine consumes */
  readonly analysisRate: number;
  /** milliseconds of audio one analysis window spans */
  readonly windowMs: number;
  /** milliseconds between windows (one video frame for per-frame engines) */
  readonly hopMs: number;
  /** milliseconds of audio past a frame's end the engine needs before it renders that frame */
  readonly lookaheadMs: number;
  /** where the face (forehead to chin) and the mouth are in the output frame, when the engine knows (kiosk layout) */
  readonly face?: NormBox;
  readonly mouth?: NormBox;
  /** how much the photo was enlarged for the frame (output px per photo px), when the engine enrols one */
  readonly portraitScale?: number;
}

/** A box in a frame as fractions of its width and height (0..1). */
export interface NormBox {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** Time spent in one stage, in milliseconds. */
export interface StageStats {
  count: number;
  totalMs: number;
  lastMs: number;
  maxMs: number;
}

export interface EngineStats {
  framesRendered: number;
  /** per-frame budget, ms (1000 / fps) */
  budgetMs: number;
  /** stage name -> time spent; stages are in pipeline order */
  stages: Record<string, StageStats>;
}

export interface TalkingHeadEngine {
  readonly info: EngineInfo;
  /** Append mono speech audio at info.analysisRate to the timeline. */
  pushAudio(samples: Float32Array): void;
  /** Append `count` samples of silence (at info.analysisRate). */
  pushSilence(count: number): void;
  /**
   * Optional: the phones of the speech pushed next (times in seconds from its start; a TTS that
   * knows them: pipeline/phonemes/). An engine that shapes the mouth from phones uses them; call it
   * just before that speech's pushAudio.
   */
  pushPhones?(phones: readonly TimedPhone[]): void;
  /** Frames that can be rendered now without waiting for more audio. */
  framesReady(): number;
  /**
   * Render up to `max` ready frames (all ready ones by default), in order. The caller owns each
   * frame's i420 (the engine does not write into it again): the inference thread transfers it to
   * the main thread without a copy.
   */
  renderReady(max?: number): Promise<AvatarFrame[]>;
  /**
   * Optional: pass over up to `max` ready frames without drawing them (the motion still advances:
   * smoothing and idle motion stay continuous). A live worker that has fallen behind uses it to
   * spend no time on frames that would be dropped as late. Returns how many were passed over.
   */
  skipReady?(max?: number): Promise<number>;
  /**
   * Barge-in: discard audio not yet shown and return the face to rest by the next frame.
   * The timeline position is kept (the dropped audio is treated as silence), so pts stay monotonic.
   */
  interrupt(): void;
  /** Back to frame 0 and an empty timeline. */
  reset(): void;
  stats(): EngineStats;
  close(): Promise<void>;
}

/** A renderer turns one set of motion parameters into one I420 frame. */
export interface FrameRenderer {
  readonly width: number;
  readonly height: number;
  render(params: Readonly<MotionParams>): Promise<Uint8Array>;
  close(): Promise<void>;
}

export function emptyStageStats(): StageStats {
  return { count: 0, totalMs: 0, lastMs: 0, maxMs: 0 };
}

export function recordStage(s: StageStats, ms: number): void {
  s.count += 1;
  s.totalMs += ms;
  s.lastMs = ms;
  if (ms > s.maxMs) s.maxMs = ms;
}
