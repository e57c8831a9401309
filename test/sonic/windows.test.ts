/** Sonic's latent windows as SonicPipeline plans them, and the streaming latency rule. */
import { describe, expect, it } from 'vitest';
import { shiftedWindows, streamingLatency } from '../../models/sonic/windows.js';

/** SonicPipeline's own loop, written out: range(0, n, fpb - overlap), index_start -= shift, frames mod n */
function official(n: number, fpb: number, overlap: number, step: number, shiftOffset: number): number[][] {
  const shift = step * shiftOffset;
  const out: number[][] = [];
  for (let start = 0; start < n; start += fpb - overlap) {
    const s = start - shift;
    out.push(Array.from({ length: fpb }, (_, i) => (((s + i) % n) + n) % n));
  }
  return out;
}

describe('Sonic windows', () => {
  it('offline windows start shift_offset frames EARLIER at every step (index_start - shift), as SonicPipeline', () => {
    for (const [n, overlap] of [[31, 0], [80, 0], [60, 5], [25, 0]] as const) {
      for (let step = 0; step < 6; step++) {
        const ours = shiftedWindows(n, 25, overlap, step, 7).map((w) => Array.from({ length: w.size }, (_, i) => (w.start + i) % n));
        expect(ours).toEqual(official(n, 25, overlap, step, 7));
      }
    }
    // the earlier code shifted forward: at step 1 of 31 frames its first window started at 7, the official at 31 - 7 = 24
    expect(shiftedWindows(31, 25, 0, 1, 7)[0]!.start).toBe(24);
  });

  it('a clip shorter than the window still runs a whole window, its frames repeating (as the reference)', () => {
    const [w] = shiftedWindows(10, 25, 0, 0, 7);
    expect(w).toEqual({ start: 0, size: 25 });
    expect(() => shiftedWindows(10, 25, 25, 0, 7)).toThrow(RangeError);
  });

  it('each step covers every frame, and the edges move from step to step', () => {
    const n = 80;
    const edges: string[] = [];
    for (let step = 0; step < 4; step++) {
      const covered = new Uint8Array(n);
      const wins = shiftedWindows(n, 25, 0, step, 7);
      wins.forEach((w) => {
        for (let i = 0; i < w.size; i++) covered[(w.start + i) % n] = 1;
      });
      expect(covered.every((c) => c === 1)).toBe(true);
      edges.push(wins.map((w) => w.start).join());
    }
    expect(new Set(edges).size).toBe(4);
  });

  it('streaming latency: lookahead + compute while a window computes within its hop; above, it grows by the difference every window', () => {
    const ok = streamingLatency({ lookaheadMs: 2120, hopMs: 1600, computeMs: 900, windows: 10 });
    expect(ok).toEqual({ realTime: true, firstMs: 3020, lastMs: 3020, growthPerWindowMs: 0 });
    const slow = streamingLatency({ lookaheadMs: 2120, hopMs: 1600, computeMs: 2000, windows: 10 });
    expect(slow.realTime).toBe(false);
    expect(slow.growthPerWindowMs).toBe(400);
    expect(slow.lastMs).toBe(2120 + 2000 + 9 * 400);
  });
});
