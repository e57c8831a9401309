/**
 * One-Euro filter (Casiez, Roussel, Vogel, CHI 2012): a first-order low-pass whose cutoff rises
 * with the signal's speed, so slow jitter is smoothed hard while fast motion keeps little lag.
 *
 *   alpha(fc, dt) = 1 / (1 + tau / dt),  tau = 1 / (2 pi fc)
 *   dx  = (x - yPrev) / dt;     dxHat = dxHatPrev + alpha(dCutoff, dt) (dx - dxHatPrev)
 *   fc  = minCutoff + beta |dxHat|;  y = yPrev + alpha(fc, dt) (x - yPrev)
 * The first sample passes through unchanged.
 */
import type { MotionParams } from '../records.js';

export interface OneEuroOptions {
  /** Hz: cutoff at rest; lower = smoother, more lag */
  minCutoff: number;
  /** seconds per (unit of the signal): how fast the cutoff rises with speed */
  beta: number;
  /** Hz: cutoff of the speed estimate */
  dCutoff: number;
}

export const ONE_EURO_DEFAULTS: Readonly<OneEuroOptions> = Object.freeze({ minCutoff: 2.0, beta: 0.3, dCutoff: 1.0 });

function checkOptions(o: OneEuroOptions): void {
  if (!(o.minCutoff > 0) || !Number.isFinite(o.minCutoff)) throw new RangeError(`OneEuro: minCutoff must be a positive number of Hz, got ${o.minCutoff}`);
  if (!(o.beta >= 0) || !Number.isFinite(o.beta)) throw new RangeError(`OneEuro: beta must be >= 0, got ${o.beta}`);
  if (!(o.dCutoff > 0) || !Number.isFinite(o.dCutoff)) throw new RangeError(`OneEuro: dCutoff must be a positive number of Hz, got ${o.dCutoff}`);
}

/** Smoothing factor of a first-order low-pass with cutoff `fc` Hz sampled every `dt` seconds. */
export function oneEuroAlpha(fc: number, dt: number): number {
  const tau = 1 / (2 * Math.PI * fc);
  return 1 / (1 + tau / dt);
}

/** One channel. */
export class OneEuroFilter {
  private readonly o: OneEuroOptions;
  private y = 0;
  private dy = 0;
  private primed = false;

  constructor(options: Partial<OneEuroOptions> = {}) {
    this.o = { ...ONE_EURO_DEFAULTS, ...options };
    checkOptions(this.o);
  }

  get options(): Readonly<OneEuroOptions> { return this.o; }
  /** Last output (0 before the first sample). */
  get value(): number { return this.y; }

  /** Filters sample `x` taken `dtSeconds` after the previous one. */
  filter(x: number, dtSeconds: number): number {
    if (!Number.isFinite(x)) throw new TypeError(`OneEuroFilter.filter: sample must be finite, got ${x}`);
    if (!(dtSeconds > 0) || !Number.isFinite(dtSeconds)) throw new RangeError(`OneEuroFilter.filter: dtSeconds must be > 0, got ${dtSeconds}`);
    if (!this.primed) {
      this.primed = true;
      this.y = x;
      this.dy = 0;
      return x;
    }
    const dx = (x - this.y) / dtSeconds;
    this.dy += oneEuroAlpha(this.o.dCutoff, dtSeconds) * (dx - this.dy);
    const fc = this.o.minCutoff + this.o.beta * Math.abs(this.dy);
    this.y += oneEuroAlpha(fc, dtSeconds) * (x - this.y);
    return this.y;
  }

  /** Forget the past; with `value`, the filter holds that value (speed 0) as if it had settled there. */
  reset(value?: number): void {
    this.dy = 0;
    if (value === undefined) {
      this.primed = false;
      this.y = 0;
    } else {
      if (!Number.isFinite(value)) throw new TypeError(`OneEuroFilter.reset: value must be finite, got ${value}`);
      this.primed = true;
      this.y = value;
    }
  }
}

export type MotionChannel = keyof MotionParams;
export const MOUTH_CHANNELS: readonly MotionChannel[] = ['jawOpen', 'lipWidth', 'lipRound'];
export const HEAD_CHANNELS: readonly MotionChannel[] = ['headYaw', 'headPitch', 'headRoll'];

/**
 * One filter per selected MotionParams channel; the others pass through. Blinks are not smoothed by
 * default: a 150 ms blink is a fast event, and a low-pass would turn it into a half-closed squint.
 */
export class MotionSmoother {
  readonly channels: readonly MotionChannel[];
  private readonly filters: Map<MotionChannel, OneEuroFilter>;

  /**
   * `perChannel` overrides the options of single channels (e.g. a higher minCutoff for the mouth).
   */
  constructor(
    options: Partial<OneEuroOptions> = {},
    channels: readonly MotionChannel[] = [...MOUTH_CHANNELS, ...HEAD_CHANNELS],
    perChannel: Partial<Record<MotionChannel, Partial<OneEuroOptions>>> = {},
  ) {
    this.channels = [...channels];
    this.filters = new Map(this.channels.map((c) => [c, new OneEuroFilter({ ...options, ...perChannel[c] })]));
  }

  /** The options in force for `channel` (undefined if it is not smoothed). */
  optionsOf(channel: MotionChannel): Readonly<OneEuroOptions> | undefined { return this.filters.get(channel)?.options; }

  /** Smooths the selected channels of `params` in place and returns it. */
  filter(params: MotionParams, dtSeconds: number): MotionParams {
    for (const [c, f] of this.filters) params[c] = f.filter(params[c], dtSeconds);
    return params;
  }

  /** Resets the given channels (all selected by default) to `value` (or to unprimed). */
  reset(value?: number, channels: readonly MotionChannel[] = this.channels): void {
    for (const c of channels) this.filters.get(c)?.reset(value);
  }

  /** Resets each given channel so that it holds its last output (no jump, no remembered speed). */
  settle(channels: readonly MotionChannel[] = this.channels): void {
    for (const c of channels) {
      const f = this.filters.get(c);
      if (f) f.reset(f.value);
    }
  }
}
