import { describe, expect, it } from 'vitest';
import { AvPairing } from '../../pipeline/session/av-pairing.js';

const ramp = (n: number, from = 1) => Float32Array.from({ length: n }, (_, i) => from + i);

describe('AvPairing', () => {
  it('returns the written audio at its pts and silence elsewhere', () => {
    const p = new AvPairing();
    p.write(100, ramp(50));
    p.write(150, ramp(50, 51));
    const a = p.takeAudio(90, 210);
    expect(Array.from(a.subarray(0, 10))).toEqual(new Array(10).fill(0));
    expect(Array.from(a.subarray(10, 110))).toEqual(Array.from(ramp(100)));
    expect(Array.from(a.subarray(110))).toEqual(new Array(10).fill(0));
    expect(p.stats()).toMatchObject({ heldSamples: 0, takenSamples: 120 });
  });

  it('consumes what it hands out and clips late writes', () => {
    const p = new AvPairing();
    p.write(0, ramp(100));
    expect(p.takeAudio(0, 40)[39]).toBe(40);
    expect(p.takeAudio(0, 60)[39]).toBe(0); // already taken
    p.write(50, ramp(20, 1000)); // [50, 60) is behind the reader
    expect(p.takeAudio(60, 80)[9]).toBe(1019);
  });

  it('dropFrom discards speech from a pts on and says how much', () => {
    const p = new AvPairing();
    p.write(0, ramp(100));
    expect(p.dropFrom(30)).toBe(70);
    const a = p.takeAudio(0, 100);
    expect(a[29]).toBe(30);
    expect(a[30]).toBe(0);
  });

  it('discards audio nobody took once it is maxHeldSamples old', () => {
    const p = new AvPairing(100);
    p.write(0, ramp(80));
    p.write(80, ramp(80));
    expect(p.stats()).toMatchObject({ heldSamples: 100, staleSamples: 60 });
    expect(() => p.takeAudio(10, 5)).toThrow(TypeError);
  });
});
