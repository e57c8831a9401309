/** Test audio for the motion tests: espeak-ng speech at 16 kHz, per-frame envelopes, correlation. */
import { speakWav, SENTENCE } from '../helpers/speech.js';

export { SENTENCE };

/** espeak-ng WAV (44-byte header, s16 mono; its data length field is a placeholder) -> float + rate. */
export function parseEspeakWav(wav: Buffer): { rate: number; samples: Float32Array } {
  if (wav.length < 44 || wav.toString('ascii', 0, 4) !== 'RIFF' || wav.toString('ascii', 8, 12) !== 'WAVE') throw new Error('not a RIFF/WAVE file');
  if (wav.readUInt16LE(20) !== 1 || wav.readUInt16LE(22) !== 1 || wav.readUInt16LE(34) !== 16) throw new Error('expected PCM s16 mono');
  const rate = wav.readUInt32LE(24);
  const n = (wav.length - 44) >> 1;
  const samples = new Float32Array(n);
  for (let i = 0; i < n; i++) samples[i] = wav.readInt16LE(44 + 2 * i) / 32768;
  return { rate, samples };
}

/** Linear-interpolation resampler (good enough for tests). */
export function resampleLinear(x: Float32Array, from: number, to: number): Float32Array {
  const m = Math.floor((x.length * to) / from);
  const y = new Float32Array(m);
  for (let i = 0; i < m; i++) {
    const p = (i * from) / to;
    const j = Math.floor(p);
    const f = p - j;
    y[i] = x[j] * (1 - f) + x[Math.min(j + 1, x.length - 1)] * f;
  }
  return y;
}

/** `text` spoken by espeak-ng, 16 kHz mono float. */
export function speech16k(text: string = SENTENCE): Float32Array {
  const { rate, samples } = parseEspeakWav(speakWav(text));
  return resampleLinear(samples, rate, 16_000);
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
  const out: number[] = [];
  for (let k = 0; ; k++) {
    const a = Math.floor((k * 16_000) / fps), b = Math.floor(((k + 1) * 16_000) / fps);
    if (b > x.length) break;
    let s = 0;
    for (let i = a; i < b; i++) s += x[i] * x[i];
    out.push(Math.sqrt(s / (b - a)));
  }
  return out;
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
