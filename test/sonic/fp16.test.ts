/** float16 conversion for FP16 exports: known bit patterns, rounding, and every half value round-trips. */
import { describe, expect, it } from 'vitest';
import { fromHalf, fromHalfBits, toHalf, toHalfBits } from '../../models/sonic/fp16.js';

describe('fp16', () => {
  it('encodes known values', () => {
    expect(toHalfBits(1)).toBe(0x3c00);
    expect(toHalfBits(-2)).toBe(0xc000);
    expect(toHalfBits(0.5)).toBe(0x3800);
    expect(toHalfBits(65504)).toBe(0x7bff);
    expect(toHalfBits(1e6)).toBe(0x7c00); // overflow -> infinity
    expect(toHalfBits(2 ** -24)).toBe(0x0001); // smallest subnormal
    expect(toHalfBits(2 ** -26)).toBe(0x0000); // underflow
    expect(toHalfBits(-0)).toBe(0x8000);
    expect(toHalfBits(NaN) & 0x7c00).toBe(0x7c00);
    // round to nearest even: 1 + 2^-11 is halfway between 1 and 1 + 2^-10
    expect(toHalfBits(1 + 2 ** -11)).toBe(0x3c00);
    expect(toHalfBits(1 + 3 * 2 ** -11)).toBe(0x3c02);
  });

  it('every finite half value survives half -> float -> half', () => {
    for (let h = 0; h < 0x10000; h++) {
      if ((h & 0x7c00) === 0x7c00 && (h & 0x3ff) !== 0) continue; // NaN payloads
      expect(toHalfBits(fromHalfBits(h))).toBe(h);
    }
  });

  it('converts arrays within half precision', () => {
    const x = Float32Array.from({ length: 1000 }, (_, i) => Math.sin(i) * 10);
    const back = fromHalf(toHalf(x));
    for (let i = 0; i < x.length; i++) expect(Math.abs(back[i]! - x[i]!)).toBeLessThanOrEqual(Math.abs(x[i]!) * 2 ** -11 + 1e-7);
  });
});
