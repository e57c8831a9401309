/**
 * Colour conversion for the portrait renderer: RGB -> Y'CbCr BT.601 limited range (Y 16..235,
 * Cb/Cr 16..240), the full-frame I420 background, and the float planes the graph samples from.
 */

/** BT.601 limited-range Y, Cb, Cr of one RGB triple (0..255), unrounded. */
export function rgbToYuv(r: number, g: number, b: number): [number, number, number] {
  return [
    16 + 0.256788 * r + 0.504129 * g + 0.097906 * b,
    128 - 0.148223 * r - 0.290993 * g + 0.439216 * b,
    128 + 0.439216 * r - 0.367788 * g - 0.071427 * b,
  ];
}

/** Inverse of rgbToYuv, clamped to 0..255 (for debugging PNGs). */
export function yuvToRgb(y: number, u: number, v: number): [number, number, number] {
  const c = 1.164383 * (y - 16);
  const d = u - 128;
  const e = v - 128;
  const cl = (x: number) => Math.max(0, Math.min(255, Math.round(x)));
  return [cl(c + 1.596027 * e), cl(c - 0.391762 * d - 0.812968 * e), cl(c + 2.017232 * d)];
}

/**
 * Full-resolution Y and half-resolution (2x2 averaged) U, V of an RGBA image, as floats, each
 * rounded to the 8-bit value the encoder will see. width and height must be even.
 */
export function rgbaToYuvPlanes(rgba: Uint8Array, width: number, height: number): { y: Float32Array; u: Float32Array; v: Float32Array } {
  const cw = width >> 1;
  const ch = height >> 1;
  const y = new Float32Array(width * height);
  const u = new Float32Array(cw * ch);
  const v = new Float32Array(cw * ch);
  for (let j = 0; j < height; j++) {
    for (let i = 0; i < width; i++) {
      const p = (j * width + i) * 4;
      const [yy, uu, vv] = rgbToYuv(rgba[p]!, rgba[p + 1]!, rgba[p + 2]!);
      y[j * width + i] = Math.round(yy);
      const c = (j >> 1) * cw + (i >> 1);
      u[c] += uu / 4;
      v[c] += vv / 4;
    }
  }
  for (let c = 0; c < u.length; c++) {
    u[c] = Math.round(u[c]!);
    v[c] = Math.round(v[c]!);
  }
  return { y, u, v };
}

/** I420 bytes (Y, then U, then V) of rounded float planes. */
export function planesToI420(p: { y: Float32Array; u: Float32Array; v: Float32Array }): Uint8Array {
  const out = new Uint8Array(p.y.length + p.u.length + p.v.length);
  out.set(p.y, 0);
  out.set(p.u, p.y.length);
  out.set(p.v, p.y.length + p.u.length);
  return out;
}

/** RGBA of an I420 frame (for PNG debugging). */
export function i420ToRgba(i420: Uint8Array, width: number, height: number): Uint8Array {
  const cw = width >> 1;
  const uOff = width * height;
  const vOff = uOff + cw * (height >> 1);
  const out = new Uint8Array(width * height * 4);
  for (let j = 0; j < height; j++) {
    for (let i = 0; i < width; i++) {
      const c = (j >> 1) * cw + (i >> 1);
      const [r, g, b] = yuvToRgb(i420[j * width + i]!, i420[uOff + c]!, i420[vOff + c]!);
      const p = (j * width + i) * 4;
      out[p] = r;
      out[p + 1] = g;
      out[p + 2] = b;
      out[p + 3] = 255;
    }
  }
  return out;
}
