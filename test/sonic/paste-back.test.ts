/** Sonic's square pasted back into a kiosk-shaped frame (issue 15): models/sonic/paste-back.ts. */
import { describe, expect, it } from 'vitest';
import { PasteBack } from '../../models/sonic/paste-back.js';

/** a W x H RGBA picture of one grey level */
function flat(w: number, h: number, level: number): Uint8Array {
  const rgba = new Uint8Array(w * h * 4);
  for (let i = 0; i < w * h; i++) rgba.fill(level, i * 4, i * 4 + 3), (rgba[i * 4 + 3] = 255);
  return rgba;
}

describe('PasteBack', () => {
  const W = 60, H = 100;
  const crop = { x: 0, y: 20, width: 60, height: 60 };

  it('keeps the still picture outside the crop, the generated frame inside it, and blends only the crop sides inside the frame', () => {
    const p = new PasteBack(flat(W, H, 0), W, H, crop, { width: 32, height: 32 }, 0.1);
    const out = p.compose(new Float32Array(3 * 32 * 32).fill(1));
    expect(out.length).toBe(3 * W * H);
    const at = (x: number, y: number, c = 0) => out[c * W * H + y * W + x]!;
    // above and below the crop: the still picture (black)
    for (const y of [0, 19, 80, 99]) for (const x of [0, 30, 59]) expect(at(x, y)).toBe(0);
    // inside, past the 6 px feather: the generated frame (white), on every channel
    for (const y of [27, 50, 72]) for (const x of [0, 30, 59]) for (const c of [0, 1, 2]) expect(at(x, y, c)).toBeCloseTo(1, 6);
    // the crop's left and right sides are the frame's own edges: no feather there
    expect(at(0, 50)).toBeCloseTo(1, 6);
    // top and bottom rows of the crop: blended, rising inward
    expect(at(30, 20)).toBeGreaterThan(0);
    expect(at(30, 20)).toBeLessThan(0.2);
    expect(at(30, 22)).toBeGreaterThan(at(30, 20));
    expect(at(30, 79)).toBeLessThan(0.2);
  });

  it('resizes the generated frame onto the crop (a horizontal ramp stays a ramp across the crop)', () => {
    const g = 32;
    const ramp = new Float32Array(3 * g * g);
    for (let c = 0; c < 3; c++) for (let y = 0; y < g; y++) for (let x = 0; x < g; x++) ramp[c * g * g + y * g + x] = x / (g - 1);
    const out = new PasteBack(flat(W, H, 0), W, H, crop, { width: g, height: g }, 0.1).compose(ramp);
    const row = Array.from({ length: W }, (_, x) => out[50 * W + x]!);
    for (let x = 1; x < W; x++) expect(row[x]!).toBeGreaterThanOrEqual(row[x - 1]!);
    expect(row[0]).toBeLessThan(0.02);
    expect(row[W - 1]).toBeGreaterThan(0.98);
    expect(row[30]).toBeCloseTo(0.5, 1);
  });

  it('refuses a crop outside the picture and a generated frame of the wrong size', () => {
    expect(() => new PasteBack(flat(W, H, 0), W, H, { x: 10, y: 50, width: 60, height: 60 }, { width: 32, height: 32 })).toThrow(/not inside/);
    const p = new PasteBack(flat(W, H, 0), W, H, crop, { width: 32, height: 32 });
    expect(() => p.compose(new Float32Array(10))).toThrow(/expected 3072 values/);
  });
});
