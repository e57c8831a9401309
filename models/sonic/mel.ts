/**
 * Whisper's log-mel features, in TypeScript: what the whisper-tiny audio encoder of Sonic takes
 * (openai/whisper `log_mel_spectrogram`, transformers' WhisperFeatureExtractor):
 *
 *   16 kHz mono; STFT with a 400-sample periodic Hann window, hop 160 (100 frames/s), centred
 *   (reflect padding at the start of the audio); power spectrum of 201 bins; 80 Slaney mel
 *   filters (0..8 kHz, Slaney area normalisation); log10 (floor 1e-10); clamped to 8 below the
 *   maximum of the 30 s input; (x + 4) / 4. The encoder takes 3000 frames (30 s), zero padded.
 *
 * `MelTimeline` keeps the power-mel of every 10 ms frame of a growing audio timeline, so streaming
 * computes each frame once; `features()` gives the encoder's [80, 3000] input for any 30 s span.
 */

export const MEL = { sampleRate: 16_000, nFft: 400, hop: 160, bins: 80, frames: 3000 } as const;
const BINS_FFT = MEL.nFft / 2 + 1;

function hzToMel(f: number): number {
  const fSp = 200 / 3;
  const minLogHz = 1000;
  const minLogMel = minLogHz / fSp;
  const logStep = Math.log(6.4) / 27;
  return f < minLogHz ? f / fSp : minLogMel + Math.log(f / minLogHz) / logStep;
}

function melToHz(m: number): number {
  const fSp = 200 / 3;
  const minLogHz = 1000;
  const minLogMel = minLogHz / fSp;
  const logStep = Math.log(6.4) / 27;
  return m < minLogMel ? m * fSp : minLogHz * Math.exp(logStep * (m - minLogMel));
}

/** librosa.filters.mel(sr=16000, n_fft=400, n_mels=80) (Slaney scale and norm): [80, 201] row-major. */
export function melFilters(): Float32Array {
  const out = new Float32Array(MEL.bins * BINS_FFT);
  const lo = hzToMel(0);
  const hi = hzToMel(MEL.sampleRate / 2);
  const hz = Array.from({ length: MEL.bins + 2 }, (_, i) => melToHz(lo + ((hi - lo) * i) / (MEL.bins + 1)));
  for (let m = 0; m < MEL.bins; m++) {
    const enorm = 2 / (hz[m + 2]! - hz[m]!);
    for (let k = 0; k < BINS_FFT; k++) {
      const f = (k * MEL.sampleRate) / MEL.nFft;
      const lower = (f - hz[m]!) / (hz[m + 1]! - hz[m]!);
      const upper = (hz[m + 2]! - f) / (hz[m + 2]! - hz[m + 1]!);
      out[m * BINS_FFT + k] = Math.max(0, Math.min(lower, upper)) * enorm;
    }
  }
  return out;
}

let tables: { cos: Float32Array; sin: Float32Array; window: Float32Array; filters: Float32Array } | undefined;
function dft() {
  if (tables) return tables;
  const cos = new Float32Array(BINS_FFT * MEL.nFft);
  const sin = new Float32Array(BINS_FFT * MEL.nFft);
  for (let k = 0; k < BINS_FFT; k++) {
    for (let n = 0; n < MEL.nFft; n++) {
      const a = (2 * Math.PI * ((k * n) % MEL.nFft)) / MEL.nFft;
      cos[k * MEL.nFft + n] = Math.cos(a);
      sin[k * MEL.nFft + n] = Math.sin(a);
    }
  }
  const window = Float32Array.from({ length: MEL.nFft }, (_, n) => 0.5 - 0.5 * Math.cos((2 * Math.PI * n) / MEL.nFft));
  tables = { cos, sin, window, filters: melFilters() };
  return tables;
}

/** The power-mel frames of a growing 16 kHz timeline (frame i is centred on sample i * 160). */
export class MelTimeline {
  private samples = new Float32Array(MEL.sampleRate * 4);
  private length = 0;
  /** power-mel, 80 per frame, for frames [0, computed) */
  private mel = new Float32Array(MEL.bins * 400);
  private computed = 0;
  private readonly frame = new Float32Array(MEL.nFft);
  private readonly power = new Float32Array(BINS_FFT);

  /** samples on the timeline */
  get sampleCount(): number {
    return this.length;
  }

  push(samples: Float32Array): void {
    if (this.length + samples.length > this.samples.length) {
      const grown = new Float32Array(Math.max(this.samples.length * 2, this.length + samples.length));
      grown.set(this.samples.subarray(0, this.length));
      this.samples = grown;
    }
    this.samples.set(samples, this.length);
    this.length += samples.length;
  }

  /** Frames whose whole window lies in the audio pushed so far. */
  framesComplete(): number {
    return Math.max(0, Math.floor((this.length - MEL.nFft / 2) / MEL.hop) + 1);
  }

  /**
   * Whisper's [80, 3000] input for the 30 s from frame `start`: frames past the audio pushed so
   * far are computed as whisper computes its zero padding. Frames once complete are cached.
   */
  features(start: number, out = new Float32Array(MEL.bins * MEL.frames)): Float32Array {
    if (!Number.isInteger(start) || start < 0) throw new RangeError(`MelTimeline.features: start must be an integer >= 0, got ${start}`);
    const complete = this.framesComplete();
    this.ensure(Math.min(complete, start + MEL.frames));
    const tail = new Float32Array(MEL.bins);
    let max = -Infinity;
    for (let j = 0; j < MEL.frames; j++) {
      const i = start + j;
      let src: Float32Array;
      let at = 0;
      if (i < this.computed) {
        src = this.mel;
        at = i * MEL.bins;
      } else {
        this.powerMel(i, tail);
        src = tail;
      }
      for (let m = 0; m < MEL.bins; m++) {
        const v = Math.log10(Math.max(src[at + m]!, 1e-10));
        out[m * MEL.frames + j] = v;
        if (v > max) max = v;
      }
    }
    for (let i = 0; i < out.length; i++) out[i] = (Math.max(out[i]!, max - 8) + 4) / 4;
    return out;
  }

  /** RMS of samples [from, to) (0 outside the audio). */
  rms(from: number, to: number): number {
    const a = Math.max(0, from);
    const b = Math.min(this.length, to);
    if (b <= a) return 0;
    let acc = 0;
    for (let i = a; i < b; i++) acc += this.samples[i]! * this.samples[i]!;
    return Math.sqrt(acc / (to - from));
  }

  /** Barge-in: the audio from sample `from` on becomes silence (the timeline keeps its length). */
  silenceFrom(from: number): void {
    const at = Math.max(0, Math.min(this.length, from));
    this.samples.fill(0, at, this.length);
    // frames whose window reaches past `at` are computed again
    this.computed = Math.min(this.computed, Math.max(0, Math.floor((at - MEL.nFft / 2) / MEL.hop)));
  }

  /** Forget the audio (reset to an empty timeline). */
  clear(): void {
    this.length = 0;
    this.computed = 0;
  }

  private ensure(upTo: number): void {
    if (upTo <= this.computed) return;
    if (upTo * MEL.bins > this.mel.length) {
      const grown = new Float32Array(Math.max(this.mel.length * 2, upTo * MEL.bins));
      grown.set(this.mel.subarray(0, this.computed * MEL.bins));
      this.mel = grown;
    }
    for (let i = this.computed; i < upTo; i++) this.powerMel(i, this.mel.subarray(i * MEL.bins, (i + 1) * MEL.bins));
    this.computed = upTo;
  }

  /** Power-mel of frame i: reflect padding before sample 0, zeros past the end of the audio. */
  private powerMel(i: number, out: Float32Array): void {
    const { cos, sin, window, filters } = dft();
    const first = i * MEL.hop - MEL.nFft / 2;
    if (first >= this.length) {
      out.fill(0); // all zero padding
      return;
    }
    for (let n = 0; n < MEL.nFft; n++) {
      let s = first + n;
      if (s < 0) s = -s; // reflect (numpy 'reflect': x[-1] = x[1])
      this.frame[n] = s < this.length ? this.samples[s]! * window[n]! : 0;
    }
    for (let k = 0; k < BINS_FFT; k++) {
      let re = 0;
      let im = 0;
      const row = k * MEL.nFft;
      for (let n = 0; n < MEL.nFft; n++) {
        const x = this.frame[n]!;
        re += x * cos[row + n]!;
        im += x * sin[row + n]!;
      }
      this.power[k] = re * re + im * im;
    }
    for (let m = 0; m < MEL.bins; m++) {
      let acc = 0;
      const row = m * BINS_FFT;
      for (let k = 0; k < BINS_FFT; k++) acc += filters[row + k]! * this.power[k]!;
      out[m] = acc;
    }
  }
}
