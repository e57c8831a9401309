import { describe, expect, it } from 'vitest';
import { MotionSmoother, OneEuroFilter } from '../../pipeline/motion/one-euro.js';
import { REST_POSE, type MotionParams } from '../../pipeline/records.js';
import { Xorshift32 } from '../../pipeline/motion/idle-motion.js';

describe('OneEuroFilter', () => {
  it('follows the published recurrence (reference written out for three samples)', () => {
    const minCutoff = 1.5, beta = 0.7, dCutoff = 2.0, dt = 0.04;
    const f = new OneEuroFilter({ minCutoff, beta, dCutoff });
    const xs = [0.2, 0.9, 0.5];
    const got = xs.map((x) => f.filter(x, dt));

    // Independent reference, step by step (Casiez et al. 2012).
    const a = (fc: number): number => { const tau = 1 / (2 * Math.PI * fc); return 1 / (1 + tau / dt); };
    const y0 = 0.2; // first sample passes through, derivative estimate 0
    const dx1 = (0.9 - y0) / dt;
    const dh1 = 0 + a(dCutoff) * (dx1 - 0);
    const y1 = y0 + a(minCutoff + beta * Math.abs(dh1)) * (0.9 - y0);
    const dx2 = (0.5 - y1) / dt;
    const dh2 = dh1 + a(dCutoff) * (dx2 - dh1);
    const y2 = y1 + a(minCutoff + beta * Math.abs(dh2)) * (0.5 - y1);

    expect(got[0]).toBe(y0);
    expect(got[1]).toBeCloseTo(y1, 12);
    expect(got[2]).toBeCloseTo(y2, 12);
    // and it did filter: the output is not the input
    expect(Math.abs(got[1] - 0.9)).toBeGreaterThan(0.05);
  });

  it('reduces the jitter of a noisy step yet reaches the step within 8 frames', () => {
    const rng = new Xorshift32(42);
    const f = new OneEuroFilter({ minCutoff: 2, beta: 0.3, dCutoff: 1 });
    const dt = 1 / 25;
    const n = 200, stepAt = 100;
    const x: number[] = [], y: number[] = [];
    for (let k = 0; k < n; k++) {
      const v = (k >= stepAt ? 1 : 0) + (rng.next() - 0.5) * 0.1;
      x.push(v);
      y.push(f.filter(v, dt));
    }
    const jitter = (s: number[], a: number, b: number): number => {
      let d = 0;
      for (let k = a + 1; k < b; k++) d += Math.abs(s[k] - s[k - 1]);
      return d / (b - a - 1);
    };
    // steady stretches far from the step
    expect(jitter(y, 20, 95)).toBeLessThan(0.5 * jitter(x, 20, 95));
    expect(jitter(y, 150, 200)).toBeLessThan(0.5 * jitter(x, 150, 200));
    const reached = y.findIndex((v, k) => k >= stepAt && v > 0.9);
    expect(reached).toBeGreaterThanOrEqual(stepAt);
    expect(reached - stepAt).toBeLessThanOrEqual(8);
  });

  it('reset(value) holds that value; reset() forgets', () => {
    const f = new OneEuroFilter();
    f.filter(1, 0.04);
    f.filter(1, 0.04);
    f.reset(0);
    expect(f.filter(0, 0.04)).toBe(0);
    f.reset();
    expect(f.filter(0.7, 0.04)).toBe(0.7);
  });

  it('rejects bad options and samples with clear errors', () => {
    expect(() => new OneEuroFilter({ minCutoff: 0 })).toThrow(/minCutoff/);
    expect(() => new OneEuroFilter({ beta: -1 })).toThrow(/beta/);
    const f = new OneEuroFilter();
    expect(() => f.filter(Number.NaN, 0.04)).toThrow(/finite/);
    expect(() => f.filter(1, 0)).toThrow(/dtSeconds/);
  });
});

describe('MotionSmoother', () => {
  it('smooths the selected channels only and resets them separately', () => {
    const s = new MotionSmoother({ minCutoff: 1, beta: 0, dCutoff: 1 }, ['jawOpen', 'headYaw']);
    const p = (jaw: number, yaw: number, blink: number): MotionParams => ({ ...REST_POSE, jawOpen: jaw, headYaw: yaw, blinkLeft: blink });
    s.filter(p(0, 0, 0), 0.04);
    const out = s.filter(p(1, 2, 1), 0.04);
    expect(out.jawOpen).toBeGreaterThan(0);
    expect(out.jawOpen).toBeLessThan(1);
    expect(out.headYaw).toBeGreaterThan(0);
    expect(out.headYaw).toBeLessThan(2);
    expect(out.blinkLeft).toBe(1); // not smoothed
    const yawBefore = out.headYaw;
    s.reset(0, ['jawOpen']);
    s.settle(['headYaw']);
    const next = s.filter(p(0, yawBefore, 0), 0.04);
    expect(next.jawOpen).toBe(0);
    expect(next.headYaw).toBeCloseTo(yawBefore, 12); // settled there: no jump, no remembered speed
  });
});
