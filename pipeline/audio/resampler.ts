/**
 * Streaming sample-rate conversion by a rational factor L/M (out/in reduced by their gcd), with a
 * polyphase bank of Kaiser-windowed sinc filters. Output sample k sits at input time k*M/L; it is
 * a weighted sum of the input samples within half a filter width of that time, so the output has
 * no delay, does not depend on how the input was chunked, and a whole stream yields
 * round(inLength * L / M) samples once flushed (input beyond its end counts as silence).
 *
 * The cutoff is set so the stopband begins at the lower rate's Nyquist frequency: downsampling
 * cannot alias, upsampling leaves no images. Stopband attenuation ~80 dB.
 */
import { AudioFormatError } from './errors.js';

export interface ResamplerOptions {
  /**
   * Filter length, counted in samples at the lower of the two rates (even, 16..256). Longer gives a
   * narrower transition band (about 10/taps of the lower Nyquist frequency) at proportional cost.
   * Default 48: flat to ~0.79 of the lower Nyquist frequency (6.3 kHz when the lower rate is 16 kHz).
   */
  taps?: number;
}

/** Hz: the rates the resampler accepts (files may be 96 or 192 kHz; live PCM is 8..48 kHz). */
export const RESAMPLER_MIN_RATE = 4_000;
export const RESAMPLER_MAX_RATE = 384_000;
const DEFAULT_TAPS = 48;
/** Kaiser beta for ~80 dB stopband (0.1102 * (A - 8.7)). */
const BETA = 7.857;
/** Transition width factor of a Kaiser filter at 80 dB: (A - 8) / (2.285 * 2 pi). */
const KAISER_D = 5.015;
/** Above this many phases the table is sampled at this many and interpolated linearly between rows. */
const MAX_PHASES = 1024;

export class Resampler {
  /** Hz */
  readonly inRate: number;
  /** Hz */
  readonly outRate: number;
  /** the reduced ratio: L output samples for every M input samples */
  readonly up: number;
  readonly down: number;
  /** filter taps per output sample, in input samples */
  readonly width: number;

  private readonly half: number;
  /** rows in `table`: `up` exact phases, or MAX_PHASES + 1 rows to interpolate between */
  private readonly rows: number;
  private readonly exact: boolean;
  private readonly table: Float32Array;
  private readonly stepInt: number;
  private readonly stepFrac: number;
  /** input history; buf[0] is input sample number `bufStart` (negative: leading silence) */
  private buf: Float32Array;
  private bufStart = 0;
  private bufLen = 0;
  /** input samples received since the last reset */
  private inCount = 0;
  private outCount = 0;
  /** the next output sits at input time n + p / up */
  private n = 0;
  private p = 0;

  constructor(inRate: number, outRate: number, opts: ResamplerOptions = {}) {
    checkRate('input', inRate);
    checkRate('output', outRate);
    const taps = opts.taps ?? DEFAULT_TAPS;
    if (!Number.isInteger(taps) || taps < 16 || taps > 256 || taps % 2 !== 0) {
      throw new RangeError(`Resampler: taps must be an even integer in 16..256, got ${taps}`);
    }
    this.inRate = inRate;
    this.outRate = outRate;
    const g = gcd(inRate, outRate);
    this.up = outRate / g;
    this.down = inRate / g;
    this.stepInt = Math.floor(this.down / this.up);
    this.stepFrac = this.down % this.up;
    // Downsampling: the filter must be longer in input samples to stay as sharp at the lower rate.
    this.width = this.up >= this.down ? taps : 2 * Math.ceil((taps * this.down) / this.up / 2);
    this.half = this.width / 2;
    this.exact = this.up <= MAX_PHASES;
    this.rows = this.exact ? this.up : MAX_PHASES + 1;
    const rolloff = Math.max(0.5, 1 - KAISER_D / taps);
    const cutoff = (rolloff * Math.min(inRate, outRate)) / inRate; // of the input Nyquist
    this.table = this.identity ? new Float32Array(0) : buildTable(this.rows, this.exact ? this.up : MAX_PHASES, this.width, cutoff);
    this.buf = new Float32Array(Math.max(4096, 4 * this.width));
    this.reset();
  }

  /** true when the rates are equal: samples pass through unchanged */
  get identity(): boolean {
    return this.up === this.down;
  }

  /** Resamples the next piece of the stream. The result is a new array of the outputs now complete. */
  process(input: Float32Array): Float32Array {
    if (!(input instanceof Float32Array)) {
      throw new TypeError(`Resampler.process expects a Float32Array, got ${input === null ? 'null' : typeof input}`);
    }
    if (this.identity) {
      this.inCount += input.length;
      return input.slice();
    }
    this.append(input, input.length);
    this.inCount += input.length;
    // output k is complete once input sample floor(k*M/L) + half has arrived
    const avail = this.inCount - this.half;
    const end = avail > 0 ? Math.ceil((avail * this.up) / this.down) : 0;
    return this.produce(Math.max(0, end - this.outCount));
  }

  /** Ends the stream: pads it with silence, returns the last outputs and resets for a new stream. */
  flush(): Float32Array {
    if (this.identity) {
      this.reset();
      return new Float32Array(0);
    }
    const total = Math.round((this.inCount * this.up) / this.down);
    let out: Float32Array = new Float32Array(0);
    if (total > this.outCount) {
      const lastN = Math.floor(((total - 1) * this.down) / this.up);
      const zeros = lastN + this.half + 1 - (this.bufStart + this.bufLen);
      if (zeros > 0) this.append(null, zeros);
      out = this.produce(total - this.outCount);
    }
    this.reset();
    return out;
  }

  /** Forgets the stream (history, position); the next process() starts a new one. */
  reset(): void {
    this.inCount = 0;
    this.outCount = 0;
    this.n = 0;
    this.p = 0;
    // the first outputs read half - 1 samples before the stream starts: silence
    this.bufStart = 1 - this.half;
    this.bufLen = Math.max(0, this.half - 1);
    this.buf.fill(0, 0, this.bufLen);
  }

  /** For stats: input and output samples since the last reset. */
  toJSON(): { inRate: number; outRate: number; taps: number; inSamples: number; outSamples: number } {
    return { inRate: this.inRate, outRate: this.outRate, taps: this.width, inSamples: this.inCount, outSamples: this.outCount };
  }

  /** Appends `count` samples of `input` (or silence when null), dropping history no output needs. */
  private append(input: Float32Array | null, count: number): void {
    const keepFrom = this.n - this.half + 1;
    const drop = keepFrom - this.bufStart;
    if (drop > 0) {
      this.buf.copyWithin(0, drop, this.bufLen);
      this.bufLen -= drop;
      this.bufStart = keepFrom;
    }
    const need = this.bufLen + count;
    if (need > this.buf.length) {
      const grown = new Float32Array(Math.max(need, 2 * this.buf.length));
      grown.set(this.buf.subarray(0, this.bufLen));
      this.buf = grown;
    }
    if (input) this.buf.set(input.subarray(0, count), this.bufLen);
    else this.buf.fill(0, this.bufLen, need);
    this.bufLen = need;
  }

  private produce(count: number): Float32Array {
    const out = new Float32Array(count);
    if (this.exact) this.produceExact(out);
    else this.produceInterpolated(out);
    this.outCount += count;
    return out;
  }

  private produceExact(out: Float32Array): void {
    const { buf, table, width, up, stepInt, stepFrac } = this;
    const first = 1 - this.half - this.bufStart;
    let n = this.n;
    let p = this.p;
    for (let k = 0; k < out.length; k++) {
      const s = n + first;
      const r = p * width;
      // four independent sums: the adds pipeline instead of waiting on each other
      let a0 = 0;
      let a1 = 0;
      let a2 = 0;
      let a3 = 0;
      let j = 0;
      for (; j + 3 < width; j += 4) {
        a0 += buf[s + j] * table[r + j];
        a1 += buf[s + j + 1] * table[r + j + 1];
        a2 += buf[s + j + 2] * table[r + j + 2];
        a3 += buf[s + j + 3] * table[r + j + 3];
      }
      for (; j < width; j++) a0 += buf[s + j] * table[r + j];
      out[k] = a0 + a1 + (a2 + a3);
      n += stepInt;
      p += stepFrac;
      if (p >= up) {
        p -= up;
        n += 1;
      }
    }
    this.n = n;
    this.p = p;
  }

  private produceInterpolated(out: Float32Array): void {
    const { buf, table, width, up, stepInt, stepFrac } = this;
    const first = 1 - this.half - this.bufStart;
    let n = this.n;
    let p = this.p;
    for (let k = 0; k < out.length; k++) {
      const s = n + first;
      const t = (p * MAX_PHASES) / up;
      const row = Math.floor(t);
      const a = t - row;
      const r0 = row * width;
      const r1 = r0 + width;
      let acc0 = 0;
      let acc1 = 0;
      for (let j = 0; j < width; j++) {
        const x = buf[s + j];
        acc0 += x * table[r0 + j];
        acc1 += x * table[r1 + j];
      }
      out[k] = acc0 + a * (acc1 - acc0);
      n += stepInt;
      p += stepFrac;
      if (p >= up) {
        p -= up;
        n += 1;
      }
    }
    this.n = n;
    this.p = p;
  }
}

/** Resamples a whole signal at once (process + flush). Equal rates return a copy. */
export function resample(samples: Float32Array, inRate: number, outRate: number, opts?: ResamplerOptions): Float32Array {
  const r = new Resampler(inRate, outRate, opts);
  const body = r.process(samples);
  const tail = r.flush();
  if (tail.length === 0) return body;
  const out = new Float32Array(body.length + tail.length);
  out.set(body);
  out.set(tail, body.length);
  return out;
}

/**
 * rows x width taps: row r holds the filter for an output at fraction r / phases of an input
 * sample past input n; tap j weighs input n - half + 1 + j. Each row sums to 1 (unit DC gain
 * whatever the phase, so no ripple on a constant signal).
 */
function buildTable(rows: number, phases: number, width: number, cutoff: number): Float32Array {
  const half = width / 2;
  const table = new Float32Array(rows * width);
  const i0Beta = besselI0(BETA);
  for (let r = 0; r < rows; r++) {
    const frac = r / phases;
    let sum = 0;
    for (let j = 0; j < width; j++) {
      const x = frac + half - 1 - j;
      const q = x / half;
      const window = q * q >= 1 ? 0 : besselI0(BETA * Math.sqrt(1 - q * q)) / i0Beta;
      const v = cutoff * sinc(cutoff * x) * window;
      table[r * width + j] = v;
      sum += v;
    }
    for (let j = 0; j < width; j++) table[r * width + j] /= sum;
  }
  return table;
}

function sinc(x: number): number {
  if (x === 0) return 1;
  const px = Math.PI * x;
  return Math.sin(px) / px;
}

/** Modified Bessel function of the first kind, order 0 (power series; converges fast for x < 20). */
function besselI0(x: number): number {
  let sum = 1;
  let term = 1;
  const q = (x * x) / 4;
  for (let k = 1; k < 50; k++) {
    term *= q / (k * k);
    sum += term;
    if (term < sum * 1e-12) break;
  }
  return sum;
}

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}

function checkRate(which: string, rate: unknown): void {
  if (typeof rate !== 'number' || !Number.isInteger(rate) || rate < RESAMPLER_MIN_RATE || rate > RESAMPLER_MAX_RATE) {
    throw new AudioFormatError(
      `Resampler: ${which} sample rate ${typeof rate === 'number' ? `${rate} Hz` : JSON.stringify(rate)} must be an integer in ${RESAMPLER_MIN_RATE}..${RESAMPLER_MAX_RATE} Hz`,
    );
  }
}
