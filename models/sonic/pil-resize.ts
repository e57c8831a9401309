/**
 * Pillow's LANCZOS resize of 8-bit images, reproduced exactly (pure): Sonic's preprocessing
 * resizes the portrait, its face mask and the CLIP input with PIL's `Image.resize(size,
 * Image.LANCZOS)`, and the parity harness checks our frames against the official ones bit for bit
 * at this stage (models/sonic/parity/).
 *
 * Pillow's algorithm (src/libImaging/Resample.c): separable, horizontal pass first (into 8-bit),
 * then vertical; per output pixel a Lanczos-3 kernel widened by the downscale factor, normalised,
 * turned into fixed-point coefficients of 22 fraction bits; sums start at half an LSB and are
 * clipped to 0..255. Same size: a copy, as `Image.resize` returns.
 */

const PRECISION_BITS = 32 - 8 - 2;
const LANCZOS_SUPPORT = 3;

function sinc(x: number): number {
  if (x === 0) return 1;
  const px = x * Math.PI;
  return Math.sin(px) / px;
}

function lanczos(x: number): number {
  return x >= -LANCZOS_SUPPORT && x < LANCZOS_SUPPORT ? sinc(x) * sinc(x / LANCZOS_SUPPORT) : 0;
}

interface Coefficients {
  ksize: number;
  /** per output pixel: first input pixel, count */
  bounds: Int32Array;
  /** fixed-point coefficients, ksize per output pixel */
  k: Int32Array;
}

function coefficients(inSize: number, outSize: number): Coefficients {
  const scale = inSize / outSize;
  const filterScale = Math.max(1, scale);
  const support = LANCZOS_SUPPORT * filterScale;
  const ksize = Math.ceil(support) * 2 + 1;
  const bounds = new Int32Array(outSize * 2);
  const k = new Int32Array(outSize * ksize);
  const w = new Float64Array(ksize);
  for (let xx = 0; xx < outSize; xx++) {
    const center = (xx + 0.5) * scale;
    const ss = 1 / filterScale;
    const xmin = Math.max(0, Math.trunc(center - support + 0.5));
    const xmax = Math.min(inSize, Math.trunc(center + support + 0.5)) - xmin;
    let sum = 0;
    for (let x = 0; x < xmax; x++) {
      w[x] = lanczos((x + xmin - center + 0.5) * ss);
      sum += w[x]!;
    }
    for (let x = 0; x < xmax; x++) {
      const v = sum !== 0 ? w[x]! / sum : w[x]!;
      k[xx * ksize + x] = v < 0 ? Math.trunc(-0.5 + v * (1 << PRECISION_BITS)) : Math.trunc(0.5 + v * (1 << PRECISION_BITS));
    }
    bounds[xx * 2] = xmin;
    bounds[xx * 2 + 1] = xmax;
  }
  return { ksize, bounds, k };
}

function clip8(v: number): number {
  const s = v >> PRECISION_BITS;
  return s < 0 ? 0 : s > 255 ? 255 : s;
}

/**
 * Resizes `channels` interleaved 8-bit channels (RGB: 3, RGBA read as 4 independent channels:
 * Pillow premultiplies RGBA first, so give RGB) from w x h to outW x outH.
 */
export function pilLanczos(src: Uint8Array, w: number, h: number, channels: number, outW: number, outH: number): Uint8Array {
  if (src.length !== w * h * channels) throw new RangeError(`pilLanczos: ${src.length} bytes for ${w}x${h}x${channels}`);
  if (!(outW >= 1 && outH >= 1)) throw new RangeError(`pilLanczos: output size ${outW}x${outH}`);
  if (outW === w && outH === h) return src.slice();
  const half = 1 << (PRECISION_BITS - 1);
  let cur = src;
  let cw = w;
  if (outW !== w) {
    const c = coefficients(w, outW);
    const out = new Uint8Array(outW * h * channels);
    for (let y = 0; y < h; y++) {
      for (let xx = 0; xx < outW; xx++) {
        const xmin = c.bounds[xx * 2]!;
        const n = c.bounds[xx * 2 + 1]!;
        const kk = xx * c.ksize;
        for (let ch = 0; ch < channels; ch++) {
          let ss = half;
          for (let x = 0; x < n; x++) ss += cur[(y * w + xmin + x) * channels + ch]! * c.k[kk + x]!;
          out[(y * outW + xx) * channels + ch] = clip8(ss);
        }
      }
    }
    cur = out;
    cw = outW;
  }
  if (outH !== h) {
    const c = coefficients(h, outH);
    const out = new Uint8Array(cw * outH * channels);
    for (let yy = 0; yy < outH; yy++) {
      const ymin = c.bounds[yy * 2]!;
      const n = c.bounds[yy * 2 + 1]!;
      const kk = yy * c.ksize;
      for (let x = 0; x < cw; x++) {
        for (let ch = 0; ch < channels; ch++) {
          let ss = half;
          for (let y = 0; y < n; y++) ss += cur[((ymin + y) * cw + x) * channels + ch]! * c.k[kk + y]!;
          out[(yy * cw + x) * channels + ch] = clip8(ss);
        }
      }
    }
    cur = out;
  }
  return cur;
}
