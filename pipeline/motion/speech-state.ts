/**
 * Idle / speaking state from per-frame voice probability, with hysteresis: speech starts after
 * `onsetFrames` consecutive voiced frames and ends after `hangoverMs` of unvoiced frames, so a
 * short pause between words does not drop the face back to idle.
 */
export interface SpeechStateOptions {
  /** frames per second of the probability stream */
  fps: number;
  /** probability at or above which a frame counts as voiced (0..1) */
  onThreshold: number;
  /** probability below which a frame counts as unvoiced while speaking (0..1, <= onThreshold) */
  offThreshold: number;
  /** consecutive voiced frames needed to start speaking */
  onsetFrames: number;
  /** milliseconds of unvoiced frames before speaking ends */
  hangoverMs: number;
}

export const SPEECH_STATE_DEFAULTS: Readonly<SpeechStateOptions> = Object.freeze({
  fps: 25, onThreshold: 0.5, offThreshold: 0.35, onsetFrames: 2, hangoverMs: 200,
});

export class SpeechState {
  readonly options: Readonly<SpeechStateOptions>;
  private readonly hangoverFrames: number;
  private voicedRun = 0;
  private unvoicedRun = 0;
  private on = false;

  constructor(options: Partial<SpeechStateOptions> = {}) {
    const o = { ...SPEECH_STATE_DEFAULTS, ...options };
    if (!(o.fps > 0)) throw new RangeError(`SpeechState: fps must be > 0, got ${o.fps}`);
    if (!(o.onThreshold >= 0 && o.onThreshold <= 1)) throw new RangeError(`SpeechState: onThreshold must be in [0, 1], got ${o.onThreshold}`);
    if (!(o.offThreshold >= 0 && o.offThreshold <= o.onThreshold)) throw new RangeError(`SpeechState: offThreshold must be in [0, onThreshold], got ${o.offThreshold}`);
    if (!Number.isInteger(o.onsetFrames) || o.onsetFrames < 1) throw new RangeError(`SpeechState: onsetFrames must be an integer >= 1, got ${o.onsetFrames}`);
    if (!(o.hangoverMs >= 0)) throw new RangeError(`SpeechState: hangoverMs must be >= 0, got ${o.hangoverMs}`);
    this.options = Object.freeze(o);
    this.hangoverFrames = Math.max(1, Math.round((o.hangoverMs * o.fps) / 1000));
  }

  get speaking(): boolean { return this.on; }

  /** Feeds one frame's voice probability; returns whether the face is speaking at this frame. */
  process(vad: number): boolean {
    if (!Number.isFinite(vad)) throw new TypeError(`SpeechState.process: probability must be finite, got ${vad}`);
    const o = this.options;
    if (this.on) {
      if (vad < o.offThreshold) {
        this.unvoicedRun += 1;
        if (this.unvoicedRun >= this.hangoverFrames) { this.on = false; this.voicedRun = 0; }
      } else {
        this.unvoicedRun = 0;
      }
    } else {
      this.voicedRun = vad >= o.onThreshold ? this.voicedRun + 1 : 0;
      if (this.voicedRun >= o.onsetFrames) { this.on = true; this.unvoicedRun = 0; }
    }
    return this.on;
  }

  reset(): void {
    this.on = false;
    this.voicedRun = 0;
    this.unvoicedRun = 0;
  }
}
