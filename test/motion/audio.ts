/** Test audio for the motion tests: espeak-ng speech at 16 kHz, per-frame envelopes, correlation. */
import { resample } from '../../pipeline/audio/resampler.js';
import { speakWav, SENTENCE, wavSamples } from '../helpers/speech.js';
import { frameRms } from '../helpers/video-measures.js';

export { SENTENCE };

/** `text` spoken by espeak-ng, 16 kHz mono float (the project's WAV parser and resampler). */
export function speech16k(text: string = SENTENCE): Float32Array {
  const { samples, sampleRate } = wavSamples(speakWav(text));
  return resample(samples, sampleRate, 16_000);
}

/** `seconds` of silence before and after `x`. */
export function padded(x: Float32Array, beforeS: number, afterS: number): Float32Array {
  const a = Math.round(beforeS * 16_000);
  const y = new Float32Array(a + x.length + Math.round(afterS * 16_000));
  y.set(x, a);
  return y;
}

/** RMS of each whole 1/fps frame of 16 kHz audio. */
export function rmsPerFrame(x: Float32Array, fps = 25): number[] {
  return frameRms(x, 16_000, fps, Math.floor((x.length * fps) / 16_000));
}

/** Pearson r of (a[k], b[k - lag]) over the k where both exist. */
export function pearsonAtLag(a: number[], b: number[], lag: number): number {
  const xs: number[] = [], ys: number[] = [];
  for (let k = 0; k < a.length; k++) {
    if (k - lag >= 0 && k - lag < b.length) { xs.push(a[k]); ys.push(b[k - lag]); }
  }
  const mx = xs.reduce((s, v) => s + v, 0) / xs.length;
  const my = ys.reduce((s, v) => s + v, 0) / ys.length;
  let c = 0, vx = 0, vy = 0;
  for (let i = 0; i < xs.length; i++) { c += (xs[i] - mx) * (ys[i] - my); vx += (xs[i] - mx) ** 2; vy += (ys[i] - my) ** 2; }
  return c / Math.sqrt(vx * vy);
}

/** Best lag in [-maxLag, maxLag] and its r. */
export function bestLag(a: number[], b: number[], maxLag: number): { lag: number; r: number } {
  let best = { lag: 0, r: -Infinity };
  for (let lag = -maxLag; lag <= maxLag; lag++) {
    const r = pearsonAtLag(a, b, lag);
    if (r > best.r) best = { lag, r };
  }
  return best;
}
