/**
 * Pixels in and out of Sonic's graphs (pure): the portrait crop as [-1, 1] planes, the CLIP input,
 * and decoded frames to I420 (BT.601 limited range, as the rest of the pipeline), plus linear
 * interpolation between two I420 frames for the 12.5 -> output fps step.
 */

/** The largest centred crop whose sides are multiples of `multiple` (SVD's UNet needs 64). */
export function cropToMultiple(width: number, height: number, multiple = 64): { x: number; y: number; width: number; height: number } {
  const w = Math.floor(width / multiple) * multiple;
  const h = Math.floor(height / multiple) * multiple;
  if (w < multiple || h < multiple) throw new RangeError(`the portrait (${width}x${height}) is smaller than ${multiple}x${multiple}: Sonic needs sides of at least ${multiple} px (raise avatar.min_resolution)`);
  return { x: (width - w) >> 1, y: (height - h) >> 1, width: w, height: h };
}

/** RGBA crop -> planar RGB in [-1, 1], [3, h, w]. */
export function rgbaToPlanes(rgba: Uint8Array, stride: number, crop: { x: number; y: number; width: number; height: number }): Float32Array {
  const { width: w, height: h } = crop;
  const out = new Float32Array(3 * w * h);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const p = ((crop.y + y) * stride + crop.x + x) * 4;
      for (let c = 0; c < 3; c++) out[c * w * h + y * w + x] = rgba[p + c]! / 127.5 - 1;
    }
  }
  return out;
}

const CLIP_MEAN = [0.48145466, 0.4578275, 0.40821073];
const CLIP_STD = [0.26862954, 0.26130258, 0.27577711];

/** CLIP's input: the centred square of [-1, 1] planes, bilinear to size x size, CLIP-normalised. */
export function clipPixels(planes: Float32Array, w: number, h: number, size: number): Float32Array {
  const side = Math.min(w, h);
  const ox = (w - side) / 2;
  const oy = (h - side) / 2;
  const out = new Float32Array(3 * size * size);
  for (let c = 0; c < 3; c++) {
    const plane = planes.subarray(c * w * h, (c + 1) * w * h);
    for (let y = 0; y < size; y++) {
      const sy = Math.min(h - 1, Math.max(0, oy + ((y + 0.5) * side) / size - 0.5));
      const y0 = Math.floor(sy);
      const y1 = Math.min(h - 1, y0 + 1);
      const fy = sy - y0;
      for (let x = 0; x < size; x++) {
        const sx = Math.min(w - 1, Math.max(0, ox + ((x + 0.5) * side) / size - 0.5));
        const x0 = Math.floor(sx);
        const x1 = Math.min(w - 1, x0 + 1);
        const fx = sx - x0;
        const v =
          (plane[y0 * w + x0]! * (1 - fx) + plane[y0 * w + x1]! * fx) * (1 - fy) + (plane[y1 * w + x0]! * (1 - fx) + plane[y1 * w + x1]! * fx) * fy;
        out[c * size * size + y * size + x] = ((v + 1) / 2 - CLIP_MEAN[c]!) / CLIP_STD[c]!;
      }
    }
  }
  return out;
}

/**
 * Decoded planes [3, h, w] in [-1, 1] -> I420 (w, h even): BT.601 limited range, the
 * coefficients of colour.ts's rgbToYuv written out (this runs on every generated pixel).
 */
export function planesToI420(planes: Float32Array, w: number, h: number, out = new Uint8Array((w * h * 3) / 2)): Uint8Array {
  const n = w * h;
  const cw = w >> 1;
  const q = n / 4;
  const u = new Float32Array(q);
  const v = new Float32Array(q);
  for (let y = 0; y < h; y++) {
    const crow = (y >> 1) * cw;
    for (let x = 0; x < w; x++) {
      const i = y * w + x;
      const r = Math.max(0, Math.min(255, (planes[i]! + 1) * 127.5));
      const g = Math.max(0, Math.min(255, (planes[n + i]! + 1) * 127.5));
      const b = Math.max(0, Math.min(255, (planes[2 * n + i]! + 1) * 127.5));
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

/** (1 - t) * a + t * b, byte-wise (I420 is affine in RGB, so this is the RGB blend). */
export function lerpI420(a: Uint8Array, b: Uint8Array, t: number): Uint8Array {
  if (t <= 0) return a;
  if (t >= 1) return b;
  const out = new Uint8Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = Math.round(a[i]! + (b[i]! - a[i]!) * t);
  return out;
}
