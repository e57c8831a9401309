import { describe, expect, it } from 'vitest';
import { IdleMotion, Xorshift32, type IdleSample } from '../../pipeline/motion/idle-motion.js';

const FPS = 25;
function run(opts: ConstructorParameters<typeof IdleMotion>[0], seconds: number, speaking = (_k: number) => false): IdleSample[] {
  const m = new IdleMotion({ fps: FPS, ...opts });
  const out: IdleSample[] = [];
  for (let k = 0; k < seconds * FPS; k++) out.push({ ...m.process(k, speaking(k)) });
  return out;
}
/** Blinks = rising crossings of half-closed lids. */
const blinks = (s: IdleSample[]): number => s.filter((x, k) => k > 0 && x.blinkLeft >= 0.5 && s[k - 1].blinkLeft < 0.5).length;

describe('IdleMotion', () => {
  it('is deterministic for a seed, different for another, and again the same after reset()', () => {
    const a = run({ seed: 7 }, 20), b = run({ seed: 7 }, 20), c = run({ seed: 8 }, 20);
    expect(a).toEqual(b);
    expect(a.some((x, k) => Math.abs(x.headYaw - c[k].headYaw) > 0.1)).toBe(true);
    const m = new IdleMotion({ fps: FPS, seed: 7 });
    for (let k = 0; k < 100; k++) m.process(k, false);
    m.reset();
    expect({ ...m.process(0, false) }).toEqual(a[0]);
  });

  it('stays within its bounds and moves smoothly', () => {
    for (const seed of [1, 2, 3, 99, 12345]) {
      const s = run({ seed }, 60, (k) => k % 500 < 250);
      const max = (f: (x: IdleSample) => number): number => Math.max(...s.map(f));
      expect(max((x) => Math.abs(x.headYaw))).toBeLessThanOrEqual(3.2);
      expect(max((x) => Math.abs(x.headPitch))).toBeLessThanOrEqual(3.2);
      expect(max((x) => Math.abs(x.headRoll))).toBeLessThanOrEqual(1.6);
      expect(max((x) => Math.abs(x.breath))).toBeLessThanOrEqual(1);
      expect(max((x) => x.blinkLeft)).toBeLessThanOrEqual(1);
      expect(max((x) => -x.blinkLeft)).toBeLessThanOrEqual(0);
      expect(s.every((x) => x.blinkRight === x.blinkLeft)).toBe(true);
      // the head actually moves, a degree or more, and no faster than 1 degree per frame
      expect(max((x) => Math.abs(x.headYaw))).toBeGreaterThan(0.8);
      expect(Math.max(...s.slice(1).map((x, k) => Math.abs(x.headYaw - s[k].headYaw)))).toBeLessThan(1);
    }
  });

  it('blinks 10..30 times a minute, each 150-250 ms long', () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      const s = run({ seed }, 60);
      const n = blinks(s);
      expect(n).toBeGreaterThanOrEqual(10);
      expect(n).toBeLessThanOrEqual(30);
      // lids not fully open for at most 7 frames in a row: a blink is <= 250 ms, and the gap of a
      // double blink (>= 60 ms) holds at least one open frame
      let run_ = 0, longest = 0;
      for (const x of s) { run_ = x.blinkLeft > 0 ? run_ + 1 : 0; longest = Math.max(longest, run_); }
      expect(longest).toBeLessThanOrEqual(7);
      expect(longest).toBeGreaterThanOrEqual(3);
    }
  });

  it('breathes at 0.2-0.3 Hz', () => {
    const s = run({ seed: 5 }, 60);
    const ups = s.filter((x, k) => k > 0 && x.breath >= 0 && s[k - 1].breath < 0).length;
    expect(ups).toBeGreaterThanOrEqual(11);
    expect(ups).toBeLessThanOrEqual(19);
  });

  it('moves the head a little more while speaking', () => {
    const idle = run({ seed: 3 }, 60);
    const talk = run({ seed: 3 }, 60, () => true);
    const rms = (s: IdleSample[]): number => Math.sqrt(s.reduce((a, x) => a + x.headYaw ** 2, 0) / s.length);
    expect(rms(talk)).toBeGreaterThan(1.1 * rms(idle));
  });

  it('motion_scale 0 is a still face; 2 doubles head motion', () => {
    const still = run({ seed: 4, motionScale: 0 }, 30);
    for (const x of still) {
      expect(x.headYaw).toBe(0); expect(x.headPitch).toBe(0); expect(x.headRoll).toBe(0);
      expect(x.blinkLeft).toBe(0); expect(x.breath).toBe(0);
    }
    const one = run({ seed: 4, motionScale: 1 }, 10), two = run({ seed: 4, motionScale: 2 }, 10);
    for (let k = 0; k < one.length; k++) expect(two[k].headYaw).toBeCloseTo(2 * one[k].headYaw, 9);
  });

  it('rejects bad options and frames going back', () => {
    expect(() => new IdleMotion({ seed: 1.5 })).toThrow(/seed/);
    expect(() => new IdleMotion({ motionScale: -1 })).toThrow(/motionScale/);
    const m = new IdleMotion();
    m.process(10, false);
    expect(() => m.process(9, false)).toThrow(/go back/);
  });

  it('Xorshift32 is uniform enough', () => {
    const r = new Xorshift32(123);
    const bins = new Array(10).fill(0);
    for (let i = 0; i < 100_000; i++) bins[Math.floor(r.next() * 10)]++;
    for (const b of bins) expect(Math.abs(b - 10_000)).toBeLessThan(500);
  });
});
