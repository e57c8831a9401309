/**
 * The mouth recogniser's input, streamed: every 10 ms of 16 kHz audio, 13 numbers — the cepstra
 * c1..c12 of a 25 ms window (mfcc.ts) and its log mel energy, each less its running mean over
 * speech (voices and microphones differ in timbre and level; the recogniser should hear the
 * sequence of sounds). The running mean is the plain mean of the first 150 speech frames, then an
 * exponential one (1.5 s); a frame counts as speech when its energy is within 26 dB of the
 * tracked peak. The energy feature is clipped to [-8, 4] (silence is all alike).
 *
 * The trainer's data (models/mouth-classes/make-data.ts) goes through this very class, so the
 * model sees in training what it sees live.
 */
import { CEPS, HOP, mfccFrame, newScratch, RATE, WIN } from './mfcc.js';

export const MOUTH_FEATURE_DIM = CEPS + 1;
/** seconds between feature frames */
export const MOUTH_FEATURE_STEP = HOP / RATE;

const SPEECH_WITHIN = 6; // nats of energy below the peak (about 26 dB)
const PEAK_FALL = 0.005; // nats per frame (about 2 dB/s)
const SETTLED = 150; // frames of speech before the mean turns exponential

export class MouthFeatures {
  /** samples not yet consumed; frame j starts at sample j * HOP of the stream */
  private buf = new Float32Array(4096);
  private len = 0;
  private readonly mean = new Float64Array(MOUTH_FEATURE_DIM);
  private speechFrames = 0;
  private peak = -Infinity;
  private readonly raw = new Float64Array(CEPS);
  private readonly scratch = newScratch();
  /** frames computed since the start (the index of the next one) */
  framesOut = 0;

  /** Appends 16 kHz samples; returns the feature frames they complete (each MOUTH_FEATURE_DIM long). */
  push(samples: Float32Array): Float32Array[] {
    if (this.len + samples.length > this.buf.length) {
      const b = new Float32Array(Math.max(2 * this.buf.length, this.len + samples.length));
      b.set(this.buf.subarray(0, this.len));
      this.buf = b;
    }
    this.buf.set(samples, this.len);
    this.len += samples.length;
    const out: Float32Array[] = [];
    let off = 0;
    while (off + WIN <= this.len) {
      out.push(this.frame(off));
      off += HOP;
    }
    this.buf.copyWithin(0, off, this.len);
    this.len -= off;
    return out;
  }

  reset(): void {
    this.len = 0;
    this.mean.fill(0);
    this.speechFrames = 0;
    this.peak = -Infinity;
    this.framesOut = 0;
  }

  private frame(off: number): Float32Array {
    const e = mfccFrame(this.buf, off, this.raw, this.scratch);
    this.peak = Math.max(e, this.peak - PEAK_FALL);
    if (e > this.peak - SPEECH_WITHIN) {
      this.speechFrames += 1;
      const a = 1 / Math.min(this.speechFrames, SETTLED);
      for (let c = 0; c < CEPS; c++) this.mean[c] += a * (this.raw[c]! - this.mean[c]!);
      this.mean[CEPS] += a * (e - this.mean[CEPS]!);
    }
    const f = new Float32Array(MOUTH_FEATURE_DIM);
    for (let c = 0; c < CEPS; c++) f[c] = this.raw[c]! - this.mean[c]!;
    const rel = this.speechFrames > 0 ? e - this.mean[CEPS]! : -8;
    f[CEPS] = rel < -8 ? -8 : rel > 4 ? 4 : rel;
    this.framesOut += 1;
    return f;
  }
}
