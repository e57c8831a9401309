/** Sonic's latent windows: seamless blending on a synthetic signal, the offline shift. */
import { describe, expect, it } from 'vitest';
import { shiftedWindows, WindowBlender, windowWeights, type Window } from '../../models/sonic/windows.js';

/** (test plan) Windows of `size` over `total` frames, overlapping by `overlap`; the last ends at `total`. */
export function planWindows(total: number, size: number, overlap: number): Window[] {
  if (!Number.isInteger(total) || total < 1) throw new RangeError(`planWindows: total must be an integer >= 1, got ${total}`);
  if (!Number.isInteger(size) || size < 1) throw new RangeError(`planWindows: size must be an integer >= 1, got ${size}`);
  if (!Number.isInteger(overlap) || overlap < 0 || overlap >= size) throw new RangeError(`planWindows: overlap must be an integer in [0, size), got ${overlap}`);
  if (total <= size) return [{ start: 0, size: total }];
  const stride = size - overlap;
  const out: Window[] = [];
  for (let s = 0; ; s += stride) {
    if (s + size >= total) {
      out.push({ start: total - size, size });
      return out;
    }
    out.push({ start: s, size });
  }
}


/** blends windows that each see the signal plus a bias of their own (a window's own error) */
function blend(total: number, wins: Window[], overlap: number, f: (t: number) => number, bias: (k: number) => number, ramps = true): Float32Array {
  const b = new WindowBlender(total, 1);
  wins.forEach((w, k) => {
    const values = Float32Array.from({ length: w.size }, (_, i) => f((w.start + i) % total) + bias(k));
    b.add(w, values, windowWeights(w.size, ramps ? overlap : 0, k > 0, k < wins.length - 1));
  });
  return b.result();
}

describe('Sonic windows', () => {
  it('the test plan covers every frame, overlaps as asked and ends at the clip end', () => {
    for (const total of [1, 10, 25, 26, 60, 100, 137]) {
      const wins = planWindows(total, 25, 5);
      const covered = new Uint8Array(total);
      wins.forEach((w) => {
        for (let i = 0; i < w.size; i++) covered[w.start + i] = 1;
      });
      expect(covered.every((c) => c === 1)).toBe(true);
      expect(wins.at(-1)!.start + wins.at(-1)!.size).toBe(total);
      for (let k = 1; k < wins.length - 1; k++) expect(wins[k - 1]!.start + wins[k - 1]!.size - wins[k]!.start).toBe(5);
    }
    expect(() => planWindows(10, 5, 5)).toThrow(RangeError);
  });

  it('blends without seams: windows that disagree by a bias meet in steps of bias/(overlap+1), not in one jump', () => {
    const total = 100;
    const overlap = 6;
    const wins = planWindows(total, 25, overlap);
    const f = (t: number) => Math.sin(t / 9);
    const bias = (k: number) => (k % 2 === 0 ? 0.5 : -0.5);
    const err = (x: Float32Array) => Array.from(x, (v, t) => v - f(t));
    const jumps = (e: number[]) => Math.max(...e.slice(1).map((v, i) => Math.abs(v - e[i]!)));
    const smooth = jumps(err(blend(total, wins, overlap, f, bias)));
    const hard = jumps(err(blend(total, wins, overlap, f, bias, false)));
    console.log(`seam: largest frame-to-frame step of the windows' disagreement, blended ${smooth.toFixed(3)}, averaged without ramps ${hard.toFixed(3)} (bias difference 1.0, overlap ${overlap})`);
    expect(smooth).toBeLessThanOrEqual(1 / (overlap + 1) + 1e-6);
    expect(hard).toBeGreaterThanOrEqual(0.5);
  });

  it('gives back the signal exactly where all windows agree', () => {
    const wins = planWindows(60, 25, 5);
    const out = blend(60, wins, 5, (t) => t * t, () => 0);
    out.forEach((v, t) => expect(v).toBeCloseTo(t * t, 2));
  });

  it('offline: each step\'s shifted windows cover every frame, and the edges move from step to step', () => {
    const total = 80;
    const edges: number[][] = [];
    for (let step = 0; step < 4; step++) {
      const wins = shiftedWindows(total, 25, 5, step, 7);
      const b = new WindowBlender(total, 1);
      wins.forEach((w) => b.add(w, new Float32Array(w.size).fill(1), windowWeights(w.size, 5, true, true)));
      expect(() => b.result()).not.toThrow();
      edges.push(wins.map((w) => w.start % total));
    }
    expect(new Set(edges.map((e) => e.join())).size).toBe(4);
  });
});
