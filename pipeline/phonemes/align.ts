/**
 * Phone timings for audio whose text is known but whose voice gave none (an upstream TTS): the
 * same text spoken by espeak-ng (whose phones are known) is aligned to the audio by dynamic time
 * warping of their cepstra, and each phone boundary is carried across the warping path.
 *
 * Features: MFCC c1..c12 of 25 ms Hann windows every 10 ms (26 mel bands, 100-7600 Hz, 16 kHz),
 * each coefficient's mean over the utterance removed (voices differ in timbre; the warp follows
 * the sequence of sounds). DTW: steps (1,0), (0,1), (1,1), within a band around the diagonal.
 */
import { resample } from '../audio/resampler.js';
import { CEPS, HOP, mfccFrame, newScratch, RATE, WIN } from './mfcc.js';
import type { TimedPhone } from './phones.js';

/** seconds per feature frame */
export const ALIGN_FRAME_SECONDS = HOP / RATE;

/** MFCC frames (CEPS per frame, mean-normalised) of mono audio at any rate. */
export function cepstra(samples: Float32Array, sampleRate: number): { frames: number; data: Float64Array } {
  const x = sampleRate === RATE ? samples : resample(samples, sampleRate, RATE);
  const frames = Math.max(1, Math.floor((x.length - WIN) / HOP) + 1);
  const data = new Float64Array(frames * CEPS);
  const scratch = newScratch();
  for (let f = 0; f < frames; f++) mfccFrame(x, f * HOP, data.subarray(f * CEPS, (f + 1) * CEPS), scratch);
  for (let c = 0; c < CEPS; c++) {
    let m = 0;
    for (let f = 0; f < frames; f++) m += data[f * CEPS + c]!;
    m /= frames;
    for (let f = 0; f < frames; f++) data[f * CEPS + c] -= m;
  }
  return { frames, data };
}

/**
 * DTW between two cepstra sequences; for each frame of `a`, the frame of `b` it maps to (the mean
 * of the path's b frames at it), and the path's mean frame distance. Only the band is stored (row
 * i holds columns lo[i]..lo[i] + width - 1, float32): a 20 s sentence takes about 4 MB, not n x m
 * doubles (32 MB).
 */
export function warp(a: { frames: number; data: Float64Array }, b: { frames: number; data: Float64Array }): { map: Float64Array; cost: number } {
  const n = a.frames, m = b.frames;
  const band = Math.max(Math.abs(n - m) + 10, Math.round(0.25 * Math.max(n, m)));
  const width = Math.min(m, 2 * band + 3);
  const lo = new Int32Array(n), hi = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const centre = (i * (m - 1)) / Math.max(1, n - 1);
    lo[i] = Math.max(0, Math.floor(centre - band));
    hi[i] = Math.min(m - 1, Math.ceil(centre + band), lo[i]! + width - 1);
  }
  const D = new Float32Array(n * width).fill(Infinity);
  const at = (i: number, j: number) => (j < lo[i]! || j > hi[i]! ? Infinity : D[i * width + j - lo[i]!]!);
  const dist = (i: number, j: number) => {
    let s = 0;
    for (let c = 0; c < CEPS; c++) {
      const d = a.data[i * CEPS + c]! - b.data[j * CEPS + c]!;
      s += d * d;
    }
    return Math.sqrt(s);
  };
  for (let i = 0; i < n; i++) {
    for (let j = lo[i]!; j <= hi[i]!; j++) {
      const d = dist(i, j);
      if (i === 0 && j === 0) { D[0] = d; continue; }
      let best = Infinity;
      if (i > 0) best = Math.min(best, at(i - 1, j));
      if (j > 0) best = Math.min(best, at(i, j - 1));
      if (i > 0 && j > 0) best = Math.min(best, at(i - 1, j - 1));
      D[i * width + j - lo[i]!] = best + d;
    }
  }
  // back along the cheapest path
  const sum = new Float64Array(n), count = new Float64Array(n);
  let i = n - 1, j = m - 1, steps = 0;
  const total = at(n - 1, m - 1);
  for (;;) {
    sum[i] += j;
    count[i] += 1;
    steps += 1;
    if (i === 0 && j === 0) break;
    const diag = i > 0 && j > 0 ? at(i - 1, j - 1) : Infinity;
    const up = i > 0 ? at(i - 1, j) : Infinity;
    const left = j > 0 ? at(i, j - 1) : Infinity;
    if (diag <= up && diag <= left) { i -= 1; j -= 1; } else if (up <= left) i -= 1; else j -= 1;
  }
  const map = new Float64Array(n);
  for (let k = 0; k < n; k++) map[k] = sum[k]! / Math.max(1, count[k]!);
  return { map, cost: total / steps };
}

/**
 * The phones of `reference` (audio + phones, e.g. espeak-ng speaking the text) carried onto
 * `target` (the same text in another voice). Returns the phones on the target's clock and the
 * warp's mean frame distance (higher = a worse match; over about 25 the texts likely differ).
 */
export function alignPhones(
  reference: { samples: Float32Array; sampleRate: number; phones: readonly TimedPhone[] },
  target: { samples: Float32Array; sampleRate: number },
): { phones: TimedPhone[]; cost: number } {
  const a = cepstra(reference.samples, reference.sampleRate);
  const b = cepstra(target.samples, target.sampleRate);
  const { map, cost } = warp(a, b);
  const toTarget = (t: number) => {
    // frame centre times: frame k covers [k * hop, k * hop + win)
    const x = (t - (WIN / 2) / RATE) / ALIGN_FRAME_SECONDS;
    const k = Math.max(0, Math.min(a.frames - 1, x));
    const k0 = Math.floor(k), k1 = Math.min(a.frames - 1, k0 + 1);
    const j = map[k0]! + (map[k1]! - map[k0]!) * (k - k0);
    return Math.max(0, j * ALIGN_FRAME_SECONDS + (WIN / 2) / RATE);
  };
  const end = target.samples.length / target.sampleRate;
  const phones: TimedPhone[] = [];
  for (const p of reference.phones) {
    const start = Math.min(end, toTarget(p.start)), stop = Math.min(end, toTarget(p.end));
    if (stop > start) phones.push({ phone: p.phone, start, end: stop });
  }
  return { phones, cost };
}
