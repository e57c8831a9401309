/**
 * Sonic's portrait preprocessing (models/sonic/preprocess.ts, pil-resize.ts) against references
 * written out here. Bit-exactness with Pillow itself is what the parity harness checks
 * (npm run sonic:parity: 0 differing mask values, portrait within 6e-8); PIL is not needed here.
 */
import { describe, expect, it } from 'vitest';
import { pilLanczos } from '../../models/sonic/pil-resize.js';
import { aspectCrop, faceMaskRgb, officialSize, prepareSonicInputs, pyRound } from '../../models/sonic/preprocess.js';

/** Lanczos-3 in float64 with PIL's support (3 x the downscale factor) and pixel centres; horizontal, then vertical, rounded and clipped to 8 bits between (as PIL) */
function reference(src: Uint8Array, w: number, h: number, outW: number, outH: number): Float64Array {
  const kernel = (x: number) => (x === 0 ? 1 : Math.abs(x) >= 3 ? 0 : (3 * Math.sin(Math.PI * x) * Math.sin((Math.PI * x) / 3)) / (Math.PI * Math.PI * x * x));
  const weights = (inSize: number, outSize: number) =>
    Array.from({ length: outSize }, (_, o) => {
      const scale = inSize / outSize;
      const fs = Math.max(1, scale);
      const centre = (o + 0.5) * scale;
      const ws = Array.from({ length: inSize }, (_, i) => kernel((i + 0.5 - centre) / fs));
      const sum = ws.reduce((a, b) => a + b, 0);
      return ws.map((v) => v / sum);
    });
  const wx = weights(w, outW);
  const wy = weights(h, outH);
  const clip = (v: number) => Math.min(255, Math.max(0, Math.round(v)));
  const mid = new Float64Array(outW * h);
  for (let j = 0; j < h; j++) for (let x = 0; x < outW; x++) {
    let acc = 0;
    for (let i = 0; i < w; i++) acc += wx[x]![i]! * src[j * w + i]!;
    mid[j * outW + x] = outW === w ? src[j * w + x]! : clip(acc);
  }
  const out = new Float64Array(outW * outH);
  for (let y = 0; y < outH; y++) for (let x = 0; x < outW; x++) {
    let acc = 0;
    for (let j = 0; j < h; j++) acc += wy[y]![j]! * mid[j * outW + x]!;
    out[y * outW + x] = outH === h ? mid[y * outW + x]! : acc;
  }
  return out;
}

describe('PIL LANCZOS resize', () => {
  const w = 23, h = 17;
  const src = Uint8Array.from({ length: w * h }, (_, i) => (i * 97 + ((i * i) % 31) * 5) % 256);

  it('agrees with a float64 Lanczos-3 (PIL support and centres) within its fixed-point rounding, up and down', () => {
    for (const [ow, oh] of [[40, 31], [9, 7], [23, 40], [11, 17]] as const) {
      const ours = pilLanczos(src, w, h, 1, ow, oh);
      const ref = reference(src, w, h, ow, oh);
      let worst = 0;
      ours.forEach((v, i) => (worst = Math.max(worst, Math.abs(v - Math.min(255, Math.max(0, ref[i]!))))));
      expect(worst).toBeLessThanOrEqual(1);
    }
  });

  it('widens the kernel when it shrinks (no aliasing): a 1-pixel checkerboard shrunk 4x is flat grey', () => {
    const n = 64;
    const board = Uint8Array.from({ length: n * n }, (_, i) => (((i % n) + Math.floor(i / n)) % 2 ? 255 : 0));
    const small = pilLanczos(board, n, n, 1, 16, 16);
    for (const v of small.subarray(16 * 4, 16 * 12)) expect(Math.abs(v - 127.5)).toBeLessThan(3);
  });

  it('keeps a flat image flat, resizes channels independently, and copies at the same size', () => {
    const rgb = new Uint8Array(10 * 6 * 3);
    for (let i = 0; i < 60; i++) rgb.set([200, 30, 90], i * 3);
    const out = pilLanczos(rgb, 10, 6, 3, 7, 13);
    for (let i = 0; i < 7 * 13; i++) expect([out[i * 3], out[i * 3 + 1], out[i * 3 + 2]]).toEqual([200, 30, 90]);
    const same = pilLanczos(rgb, 10, 6, 3, 10, 6);
    expect(same).toEqual(rgb);
    expect(same).not.toBe(rgb);
    expect(() => pilLanczos(rgb, 10, 7, 3, 5, 5)).toThrow(RangeError);
  });
});

describe('Sonic preprocessing (test_preprocess.py)', () => {
  it("rounds like Python 3 (halves to even) and sizes like the official: shorter side min_resolution, sides multiples of 64", () => {
    expect([0.5, 1.5, 2.5, 3.5, 2.4999, 7.1].map(pyRound)).toEqual([0, 2, 2, 4, 2, 7]);
    expect(officialSize(512, 512, 512)).toEqual({ width: 512, height: 512 });
    expect(officialSize(512, 682, 512)).toEqual({ width: 512, height: 704 }); // 10.66 -> 11 x 64
    expect(officialSize(1080, 1920, 512)).toEqual({ width: 512, height: 896 }); // 14.2 -> 14
    expect(officialSize(576, 1024, 256)).toEqual({ width: 256, height: 448 }); // 455.1 / 64 = 7.1 -> 7
  });

  it('the face mask: the box grown x1.1 around its centre with floor divisions, 255 inside, clipped to the image', () => {
    const m = faceMaskRgb(100, 100, { x: 10, y: 20, width: 40, height: 50 });
    // x2 50, y2 70; ww 44, hh 55; centre (30, 45); x 30 - 22 .. 30 + 22, y 45 - 27 .. 45 + 27
    const inside = (x: number, y: number) => m[(y * 100 + x) * 3] === 255;
    expect([inside(8, 18), inside(51, 71), inside(7, 30), inside(30, 17), inside(52, 30), inside(30, 72)]).toEqual([true, true, false, false, false, false]);
    expect(m[(30 * 100 + 30) * 3 + 1]).toBe(255);
    const edge = faceMaskRgb(50, 50, { x: -5, y: 40, width: 20, height: 20 });
    expect(edge[(49 * 50 + 0) * 3]).toBe(255);
  });

  it('a portrait of the export aspect goes through whole; another is cropped around the face first; mask, CLIP input and ranges', () => {
    const w = 96, h = 160;
    const rgba = new Uint8Array(w * h * 4);
    for (let i = 0; i < w * h; i++) rgba.set([128, 128, 128, 255], i * 4);
    const face = { x: 30, y: 90, width: 30, height: 36 };
    const p = prepareSonicInputs(rgba, w, h, face, { width: 64, height: 64 });
    expect(p.crop).toEqual({ x: 0, y: 60, width: 96, height: 96 }); // centred on the face (y 108) as far as the image allows
    expect([p.ref.length, p.mask.length, p.clip.length]).toEqual([3 * 64 * 64, 64 * 64, 3 * 224 * 224]);
    expect(p.ref[0]).toBeCloseTo(128 / 127.5 - 1, 6);
    expect(p.clip[0]).toBeCloseTo((128 / 255 - 0.48145466) / 0.26862954, 5);
    // the face centre (45, 108) in the crop is (45, 48), at 64 px (30, 32): inside the mask; a corner is not
    expect(p.mask[32 * 64 + 30]).toBeCloseTo(1, 2);
    expect(p.mask[0]).toBe(0);
    expect(Math.min(...p.mask)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...p.mask)).toBeLessThanOrEqual(1);
    const square = prepareSonicInputs(rgba.subarray(0, 96 * 96 * 4), 96, 96, face, { width: 64, height: 64 });
    expect(square.crop).toEqual({ x: 0, y: 0, width: 96, height: 96 });
    expect(aspectCrop(200, 100, 64, 64, 190, 50)).toEqual({ x: 100, y: 0, width: 100, height: 100 });
    expect(() => prepareSonicInputs(rgba, w, h, { x: 0, y: 0, width: 0, height: 10 }, { width: 64, height: 64 })).toThrow(/face box is empty/);
  });
});
