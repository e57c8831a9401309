/** Pixels out of Sonic's graphs: decoded planes to I420, against colour.ts. */
import { describe, expect, it } from 'vitest';
import { planesToI420, toUnit } from '../../models/sonic/frames.js';
import { rgbToYuv } from '../../models/portrait-renderer/colour.js';

describe('Sonic frames', () => {
  it('planes -> I420 agrees with colour.ts (BT.601 limited range) on every pixel of a gradient', () => {
    const w = 8, h = 4;
    const rgba = new Uint8Array(w * h * 4);
    for (let i = 0; i < w * h; i++) rgba.set([(i * 37) % 256, (i * 91) % 256, (i * 13) % 256, 255], i * 4);
    const planes = new Float32Array(3 * w * h);
    for (let i = 0; i < w * h; i++) for (let c = 0; c < 3; c++) planes[c * w * h + i] = rgba[i * 4 + c]! / 127.5 - 1;
    const out = planesToI420(planes, w, h);
    for (let i = 0; i < w * h; i++) expect(Math.abs(out[i]! - Math.round(rgbToYuv(rgba[i * 4]!, rgba[i * 4 + 1]!, rgba[i * 4 + 2]!)[0]))).toBeLessThanOrEqual(1);
    // chroma: the 2x2 mean
    const [, u00] = [0, 1, w, w + 1].map((i) => rgbToYuv(rgba[i * 4]!, rgba[i * 4 + 1]!, rgba[i * 4 + 2]!)).reduce((a, b) => [a[0]! + b[0]!, a[1]! + b[1]!, a[2]! + b[2]!]);
    expect(Math.abs(out[w * h]! - u00! / 4)).toBeLessThanOrEqual(1);
    // the same pixels in [0, 1] (RIFE's range) give the same I420
    const unit = toUnit(planes);
    expect(Math.min(...unit)).toBeGreaterThanOrEqual(0);
    expect(Array.from(planesToI420(unit, w, h, undefined, 'unit'))).toEqual(Array.from(out));
  });
});
