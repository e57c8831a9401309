/**
 * Lip-sync offset and its calibration.
 *
 * The offset is applied by shifting the ANALYSIS timeline against the video timeline, so the mouth,
 * the voice probability and the speaking state all move together and sub-frame offsets are exact:
 * - positive (mouth later): a delay line of `offset` samples in front of the analysis;
 * - negative (mouth earlier): the analysis skips the first |offset| samples, so it runs ahead and
 *   a frame needs |offset| more audio past its end: the stage's `lookaheadSamples`.
 */
export interface LipSyncOptions {
  /** milliseconds; positive = the mouth moves later than the audio */
  offsetMs: number;
  /** Hz of the audio */
  sampleRate: number;
}

export class LipSyncShift {
  readonly offsetSamples: number;
  readonly sampleRate: number;
  /** extra audio past a frame's end this stage needs, samples (0 for positive offsets) */
  readonly lookaheadSamples: number;
  private delay: Float32Array;
  /** samples still to skip (negative offset) */
  private toSkip: number;
  /** write position in the circular delay line */
  private pos = 0;
  private out: Float32Array = new Float32Array(0);

  constructor(options: Partial<LipSyncOptions> = {}) {
    const o: LipSyncOptions = { offsetMs: 0, sampleRate: 16_000, ...options };
    if (!Number.isFinite(o.offsetMs)) throw new RangeError(`LipSyncShift: offsetMs must be finite, got ${o.offsetMs}`);
    if (!(o.sampleRate > 0)) throw new RangeError(`LipSyncShift: sampleRate must be > 0, got ${o.sampleRate}`);
    this.sampleRate = o.sampleRate;
    this.offsetSamples = Math.round((o.offsetMs * o.sampleRate) / 1000);
    this.lookaheadSamples = Math.max(0, -this.offsetSamples);
    this.delay = new Float32Array(Math.max(0, this.offsetSamples));
    this.toSkip = this.lookaheadSamples;
  }

  get offsetMs(): number { return (this.offsetSamples * 1000) / this.sampleRate; }
  get lookaheadMs(): number { return (this.lookaheadSamples * 1000) / this.sampleRate; }

  /**
   * Shifts `input`; returns the samples for the analysis (a view into a reused buffer, valid until
   * the next call). Positive offsets return as many samples as given; negative ones fewer at first.
   */
  process(input: Float32Array): Float32Array {
    if (!(input instanceof Float32Array)) throw new TypeError('LipSyncShift.process: input must be a Float32Array');
    let src = input;
    if (this.toSkip > 0) {
      const skip = Math.min(this.toSkip, src.length);
      this.toSkip -= skip;
      src = src.subarray(skip);
    }
    const n = src.length;
    if (this.out.length < n) this.out = new Float32Array(Math.max(n, this.out.length * 2));
    const out = this.out.subarray(0, n);
    const d = this.delay;
    const D = d.length;
    if (D === 0) {
      out.set(src);
      return out;
    }
    // Circular delay line: emit the sample written D samples ago, then store the new one.
    for (let i = 0; i < n; i++) {
      out[i] = d[this.pos];
      d[this.pos] = src[i];
      this.pos = this.pos + 1 === D ? 0 : this.pos + 1;
    }
    return out;
  }

  /** Replaces the audio held in the delay line by silence (barge-in: it was never shown). */
  silence(): void { this.delay.fill(0); }

  reset(): void {
    this.delay.fill(0);
    this.pos = 0;
    this.toSkip = this.lookaheadSamples;
  }
}

/**
 * Pearson correlation of the pairs (a[k], b[k - lag]) for the k < n where both exist; NaN when
 * fewer than 3 pairs or either side is constant. (Also the echo guard's, server/voice/echo-guard.ts.)
 */
export function pearsonAtLag(a: ArrayLike<number>, b: ArrayLike<number>, lag: number, n: number): number {
  const k0 = Math.max(0, lag);
  const k1 = Math.min(n, b.length + lag);
  const m = k1 - k0;
  if (m < 3) return Number.NaN;
  let sa = 0, sb = 0;
  for (let k = k0; k < k1; k++) { sa += a[k]; sb += b[k - lag]; }
  const ma = sa / m, mb = sb / m;
  let cov = 0, va = 0, vb = 0;
  for (let k = k0; k < k1; k++) {
    const da = a[k] - ma, db = b[k - lag] - mb;
    cov += da * db; va += da * da; vb += db * db;
  }
  return va > 0 && vb > 0 ? cov / Math.sqrt(va * vb) : Number.NaN;
}

export interface LipSyncEstimate {
  /** best lag, ms; positive = the mouth moves later than the envelope */
  lagMs: number;
  /** best lag, whole frames */
  lagFrames: number;
  /** Pearson correlation at the best lag */
  r: number;
  /** lag refined to a fraction of a frame by a parabola through the peak, ms */
  refinedLagMs: number;
}

/**
 * Measures the lip-sync offset of rendered output: the lag of `mouthOpening` (per frame, e.g. the
 * mouth's open area measured from video) against the speech `envelope` (per frame, e.g. RMS) with
 * the highest Pearson correlation, searched within +-`maxLagFrames`.
 */
export function estimateLipSyncOffset(
  mouthOpening: ArrayLike<number>, envelope: ArrayLike<number>, fps: number, maxLagFrames = 10,
): LipSyncEstimate {
  if (!(fps > 0)) throw new RangeError(`estimateLipSyncOffset: fps must be > 0, got ${fps}`);
  if (!Number.isInteger(maxLagFrames) || maxLagFrames < 0) throw new RangeError(`estimateLipSyncOffset: maxLagFrames must be an integer >= 0, got ${maxLagFrames}`);
  const n = Math.min(mouthOpening.length, envelope.length);
  if (n < maxLagFrames + 3) throw new RangeError(`estimateLipSyncOffset: need at least ${maxLagFrames + 3} frames of both series, got ${n}`);
  const rs: number[] = [];
  let best = Number.NaN, bestLag = 0;
  for (let lag = -maxLagFrames; lag <= maxLagFrames; lag++) {
    const r = pearsonAtLag(mouthOpening, envelope, lag, n);
    rs.push(r);
    if (!Number.isNaN(r) && (Number.isNaN(best) || r > best)) { best = r; bestLag = lag; }
  }
  if (Number.isNaN(best)) throw new Error('estimateLipSyncOffset: a series is constant, no correlation can be measured');
  let refined = bestLag;
  const i = bestLag + maxLagFrames;
  if (i > 0 && i < rs.length - 1 && !Number.isNaN(rs[i - 1]) && !Number.isNaN(rs[i + 1])) {
    const den = rs[i - 1] - 2 * rs[i] + rs[i + 1];
    if (den < 0) refined = bestLag + (0.5 * (rs[i - 1] - rs[i + 1])) / den;
  }
  return { lagMs: (bestLag * 1000) / fps, lagFrames: bestLag, r: best, refinedLagMs: (refined * 1000) / fps };
}
