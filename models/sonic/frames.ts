/**
 * Pixels out of Sonic's graphs (pure): decoded frames to I420 (BT.601 limited range, as the rest
 * of the pipeline). The portrait's way in is preprocess.ts; frames between generated ones come
 * from RIFE (the runner's interpolate()).
 */

/** Decoded planes in [-1, 1] -> [0, 1], clamped (what RIFE takes and gives: Sonic's video * 0.5 + 0.5). */
export function toUnit(planes: Float32Array): Float32Array {
  const out = new Float32Array(planes.length);
  for (let i = 0; i < planes.length; i++) {
    const v = planes[i]! * 0.5 + 0.5;
    out[i] = v < 0 ? 0 : v > 1 ? 1 : v;
  }
  return out;
}

/**
 * Planes [3, h, w] in [-1, 1] (`range` 'signed', the VAE's) or [0, 1] ('unit', RIFE's) -> I420
 * (w, h even): BT.601 limited range, the coefficients of colour.ts's rgbToYuv written out (this
 * runs on every generated pixel).
 */
export function planesToI420(planes: Float32Array, w: number, h: number, out = new Uint8Array((w * h * 3) / 2), range: 'signed' | 'unit' = 'signed'): Uint8Array {
  const n = w * h;
  const offset = range === 'unit' ? 0 : 1;
  const scale = range === 'unit' ? 255 : 127.5;
  const cw = w >> 1;
  const q = n / 4;
  const u = new Float32Array(q);
  const v = new Float32Array(q);
  for (let y = 0; y < h; y++) {
    const crow = (y >> 1) * cw;
    for (let x = 0; x < w; x++) {
      const i = y * w + x;
      const r = Math.max(0, Math.min(255, (planes[i]! + offset) * scale));
      const g = Math.max(0, Math.min(255, (planes[n + i]! + offset) * scale));
      const b = Math.max(0, Math.min(255, (planes[2 * n + i]! + offset) * scale));
      out[i] = Math.round(16 + 0.256788 * r + 0.504129 * g + 0.097906 * b);
      const c = crow + (x >> 1);
      u[c]! += 128 - 0.148223 * r - 0.290993 * g + 0.439216 * b;
      v[c]! += 128 + 0.439216 * r - 0.367788 * g - 0.071427 * b;
    }
  }
  for (let c = 0; c < q; c++) {
    out[n + c] = Math.round(u[c]! / 4);
    out[n + q + c] = Math.round(v[c]! / 4);
  }
  return out;
}
