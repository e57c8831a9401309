/**
 * Typed records that flow through the pipeline. Every record carries a presentation timestamp
 * (`pts`) in ONE media clock: audio samples at 48 kHz since the session (or render) started.
 * Video frame k at `fps` has pts = round(k * CLOCK_RATE / fps).
 */

/** The media clock rate: pts units per second. */
export const CLOCK_RATE = 48_000;
/** Rate at which engines analyse audio (features, visemes, VAD). */
export const ANALYSIS_RATE = 16_000;

/** Presentation timestamp in CLOCK_RATE units. */
export type Pts = number;

/** Mono float audio in [-1, 1]. */
export interface AudioChunk {
  readonly kind: 'audio';
  readonly pts: Pts;
  /** Hz */
  readonly sampleRate: number;
  readonly samples: Float32Array;
}

/** Per-video-frame audio features, computed at ANALYSIS_RATE. */
export interface FeatureFrame {
  readonly kind: 'features';
  readonly pts: Pts;
  /** video frame index this belongs to */
  readonly index: number;
  /** 15 Oculus viseme weights (sil, PP, FF, TH, DD, kk, CH, SS, nn, RR, aa, E, I, O, U), sum <= 1 */
  readonly visemes: Float32Array;
  /** Silero voice probability, 0..1 */
  readonly vad: number;
  /** RMS level of the frame's audio (linear, 0..1) */
  readonly rms: number;
}

/**
 * Motion parameters that drive a renderer, one set per video frame. Neutral (rest) is all zero.
 * Mouth values are normalised 0..1 (1 = the widest a believable speaker goes); head angles in degrees.
 */
export interface MotionParams {
  /** jaw / lip opening, 0 (closed) .. 1 (wide open) */
  jawOpen: number;
  /** lip stretch, -1 (narrow, rounded) .. 1 (wide smile-like spread) */
  lipWidth: number;
  /** lip rounding / protrusion, 0..1 ("O", "U") */
  lipRound: number;
  /**
   * lips pressed together, 0..1 (p, b, m): 1 closes a portrait's parted lips (a smile showing
   * teeth); a portrait whose lips already meet does not change
   */
  lipPress: number;
  /**
   * lower lip to the upper teeth, 0..1 (f, v): the upper teeth show, resting on the lower lip
   */
  lipBite: number;
  /** eyelid closure, 0 (open) .. 1 (closed) */
  blinkLeft: number;
  blinkRight: number;
  /** degrees */
  headYaw: number;
  headPitch: number;
  headRoll: number;
  /** breathing phase offset, -1..1 (vertical shoulder/head lift) */
  breath: number;
}

export const REST_POSE: Readonly<MotionParams> = Object.freeze({
  jawOpen: 0, lipWidth: 0, lipRound: 0, lipPress: 0, lipBite: 0, blinkLeft: 0, blinkRight: 0,
  headYaw: 0, headPitch: 0, headRoll: 0, breath: 0,
});

/** One rendered video frame, I420 (Y plane, then U, then V; chroma at half resolution). */
export interface AvatarFrame {
  readonly kind: 'frame';
  readonly pts: Pts;
  readonly index: number;
  readonly width: number;
  readonly height: number;
  readonly i420: Uint8Array;
  readonly params: Readonly<MotionParams>;
  /** true while the frame shows speech (voice active), false for idle motion */
  readonly speaking: boolean;
}

/** The current utterance ended; engines may flush their lookahead with silence. */
export interface SegmentEnd {
  readonly kind: 'segment-end';
  readonly pts: Pts;
}

/** Barge-in: drop every queued audio sample and return the face to rest within one frame. */
export interface Interrupt {
  readonly kind: 'interrupt';
  readonly pts: Pts;
}

export type ControlRecord = SegmentEnd | Interrupt;
export type PipelineRecord = AudioChunk | FeatureFrame | AvatarFrame | ControlRecord;

/** pts of video frame `index` at `fps`. */
export function framePts(index: number, fps: number): Pts {
  return Math.round((index * CLOCK_RATE) / fps);
}

/** Bytes of an I420 frame. Width and height must be even. */
export function i420Size(width: number, height: number): number {
  return width * height + 2 * ((width >> 1) * (height >> 1));
}
