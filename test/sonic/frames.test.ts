/** Pixels in and out of Sonic's graphs: crops, CLIP input, I420 out (against colour.ts), interpolation. */
import { describe, expect, it } from 'vitest';
import { clipPixels, cropToMultiple, lerpI420, planesToI420, rgbaToPlanes } from '../../models/sonic/frames.js';
import { rgbToYuv } from '../../models/portrait-renderer/colour.js';

describe('Sonic frames', () => {
  it('crops to the largest centred multiple of 64 and refuses what is smaller', () => {
    expect(cropToMultiple(512, 512)).toEqual({ x: 0, y: 0, width: 512, height: 512 });
    expect(cropToMultiple(512, 682)).toEqual({ x: 0, y: 21, width: 512, height: 640 });
    expect(() => cropToMultiple(60, 512)).toThrow(/at least 64 px/);
  });

  it('planes -> I420 agrees with colour.ts (BT.601 limited range) on every pixel of a gradient', () => {
    const w = 8, h = 4;
    const rgba = new Uint8Array(w * h * 4);
    for (let i = 0; i < w * h; i++) rgba.set([(i * 37) % 256, (i * 91) % 256, (i * 13) % 256, 255], i * 4);
    const planes = rgbaToPlanes(rgba, w, { x: 0, y: 0, width: w, height: h });
    const out = planesToI420(planes, w, h);
    for (let i = 0; i < w * h; i++) expect(Math.abs(out[i]! - Math.round(rgbToYuv(rgba[i * 4]!, rgba[i * 4 + 1]!, rgba[i * 4 + 2]!)[0]))).toBeLessThanOrEqual(1);
    // chroma: the 2x2 mean
    const [, u00] = [0, 1, w, w + 1].map((i) => rgbToYuv(rgba[i * 4]!, rgba[i * 4 + 1]!, rgba[i * 4 + 2]!)).reduce((a, b) => [a[0]! + b[0]!, a[1]! + b[1]!, a[2]! + b[2]!]);
    expect(Math.abs(out[w * h]! - u00! / 4)).toBeLessThanOrEqual(1);
  });

  it('CLIP input: a flat grey image normalises to (0.5 - mean) / std per channel', () => {
    const planes = new Float32Array(3 * 64 * 96); // 0 = grey 0.5
    const px = clipPixels(planes, 96, 64, 224);
    expect(px.length).toBe(3 * 224 * 224);
    expect(px[0]).toBeCloseTo((0.5 - 0.48145466) / 0.26862954, 5);
    expect(px[2 * 224 * 224 + 1000]).toBeCloseTo((0.5 - 0.40821073) / 0.27577711, 5);
  });

  it('interpolates I420 frames linearly, returning the ends themselves at t = 0 and 1', () => {
    const a = new Uint8Array([0, 100, 200, 50]);
    const b = new Uint8Array([100, 100, 0, 51]);
    expect(Array.from(lerpI420(a, b, 0.5))).toEqual([50, 100, 100, 51]);
    expect(lerpI420(a, b, 0)).toBe(a);
    expect(lerpI420(a, b, 1)).toBe(b);
  });
});
