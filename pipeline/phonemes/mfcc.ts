/**
 * Mel-frequency cepstra of 16 kHz speech, one frame at a time: c1..c12 of a 25 ms Hann window
 * (26 mel bands, 100-7600 Hz) and the log of the frame's mel energy. Shared by the text-to-audio
 * alignment (align.ts) and the mouth recogniser's features (mouth-features.ts).
 */
export const RATE = 16_000;
export const WIN = 400;
export const HOP = 160;
const NFFT = 512;
const BANDS = 26;
export const CEPS = 12;

let tables: { window: Float64Array; filters: { from: number; w: Float64Array }[]; dct: Float64Array } | undefined;

function setup() {
  if (tables) return tables;
  const window = Float64Array.from({ length: WIN }, (_, n) => 0.5 - 0.5 * Math.cos((2 * Math.PI * n) / WIN));
  const mel = (f: number) => 2595 * Math.log10(1 + f / 700);
  const hz = (m: number) => 700 * (10 ** (m / 2595) - 1);
  const lo = mel(100), hi = mel(7600);
  const edges = Array.from({ length: BANDS + 2 }, (_, i) => hz(lo + ((hi - lo) * i) / (BANDS + 1)));
  const bin = (f: number) => (f * NFFT) / RATE;
  // each band's triangle over the bins it covers
  const filters = Array.from({ length: BANDS }, (_, b) => {
    const [a, c, d] = [bin(edges[b]!), bin(edges[b + 1]!), bin(edges[b + 2]!)];
    const from = Math.ceil(a), to = Math.min(NFFT / 2, Math.floor(d));
    const w = Float64Array.from({ length: Math.max(0, to - from + 1) }, (_, i) => {
      const k = from + i;
      return k <= c ? (k - a) / (c - a) : (d - k) / (d - c);
    });
    return { from, w };
  });
  const dct = new Float64Array(CEPS * BANDS);
  for (let c = 0; c < CEPS; c++) for (let b = 0; b < BANDS; b++) dct[c * BANDS + b] = Math.cos((Math.PI * (c + 1) * (b + 0.5)) / BANDS);
  tables = { window, filters, dct };
  return tables;
}

/** In-place radix-2 FFT of (re, im), length a power of two. */
function fft(re: Float64Array, im: Float64Array): void {
  const n = re.length;
  for (let i = 1, j = 0; i < n; i++) {
    let bit = n >> 1;
    for (; j & bit; bit >>= 1) j ^= bit;
    j ^= bit;
    if (i < j) {
      const r = re[i]!, q = im[i]!;
      re[i] = re[j]!; im[i] = im[j]!;
      re[j] = r; im[j] = q;
    }
  }
  for (let len = 2; len <= n; len <<= 1) {
    const ang = (-2 * Math.PI) / len;
    const wr = Math.cos(ang), wi = Math.sin(ang);
    for (let i = 0; i < n; i += len) {
      let cr = 1, ci = 0;
      for (let k = 0; k < len / 2; k++) {
        const a = i + k, b = a + len / 2;
        const tr = re[b]! * cr - im[b]! * ci, ti = re[b]! * ci + im[b]! * cr;
        re[b] = re[a]! - tr; im[b] = im[a]! - ti;
        re[a] = re[a]! + tr; im[a] = im[a]! + ti;
        const t = cr * wr - ci * wi;
        ci = cr * wi + ci * wr;
        cr = t;
      }
    }
  }
}

/**
 * One frame: the 400 samples of `x` from `offset` (zeros past its end). Writes c1..c12 into
 * `out[0..11]` and returns the log mel energy. `scratch` holds the FFT buffers between calls.
 */
export function mfccFrame(x: Float32Array, offset: number, out: Float64Array | Float32Array, scratch = newScratch()): number {
  const { window, filters, dct } = setup();
  const { re, im, logE } = scratch;
  re.fill(0);
  im.fill(0);
  for (let n = 0; n < WIN; n++) re[n] = (x[offset + n] ?? 0) * window[n]!;
  fft(re, im);
  for (let k = 0; k <= NFFT / 2; k++) re[k] = re[k]! * re[k]! + im[k]! * im[k]!; // power
  let total = 0;
  for (let b = 0; b < BANDS; b++) {
    let e = 0;
    const { from, w } = filters[b]!;
    for (let i = 0; i < w.length; i++) e += w[i]! * re[from + i]!;
    total += e;
    logE[b] = Math.log(e + 1e-8);
  }
  for (let c = 0; c < CEPS; c++) {
    let s = 0;
    for (let b = 0; b < BANDS; b++) s += dct[c * BANDS + b]! * logE[b]!;
    out[c] = s;
  }
  return Math.log(total + 1e-8);
}

export interface MfccScratch {
  re: Float64Array;
  im: Float64Array;
  logE: Float64Array;
}

export function newScratch(): MfccScratch {
  return { re: new Float64Array(NFFT), im: new Float64Array(NFFT), logE: new Float64Array(BANDS) };
}
