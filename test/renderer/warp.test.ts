/**
 * The renderer's sampling step (models/portrait-renderer/warp.ts, WebAssembly) against ONNX
 * Runtime's own GridSample (linear, border, align_corners 0), which it replaces: same planes, same
 * grids, including positions beyond the edges; and the box composite against its formula.
 */
import ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { DType, GraphBuilder } from '../../models/portrait-renderer/graph-builder.js';
import { PlaneWarper } from '../../models/portrait-renderer/warp.js';

let seed = 7;
const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);

/** GridSample of `planes` planes (w x h, values + 0.5, then truncated to bytes, as the old graph did). */
async function ortGridSample(src: Uint8Array, grid: Float32Array, w: number, h: number, planes: number): Promise<Uint8Array> {
  const g = new GraphBuilder('gs');
  const img = g.input('img', DType.FLOAT, [1, planes, h, w]);
  const gr = g.input('grid', DType.FLOAT, [1, h, w, 2]);
  const s = g.node('GridSample', [img, gr], { mode: 'linear', padding_mode: 'border', align_corners: 0 });
  g.output(g.node('Cast', [s], { to: 2 }, 'out'), DType.UINT8, [1, planes, h, w]);
  const session = await ort.InferenceSession.create(g.build());
  const f = Float32Array.from(src, (v) => v + 0.5);
  const r = await session.run({ img: new ort.Tensor('float32', f, [1, planes, h, w]), grid: new ort.Tensor('float32', grid, [1, h, w, 2]) });
  await session.release();
  return r.out!.data as Uint8Array;
}

/** A smooth image with some texture, and a grid: identity + a swirl + noise, 10 % of it beyond the edges. */
function scene(w: number, h: number, planes: number): { src: Uint8Array; grid: Float32Array } {
  const src = new Uint8Array(planes * w * h);
  for (let p = 0; p < planes; p++) for (let j = 0; j < h; j++) for (let i = 0; i < w; i++) src[p * w * h + j * w + i] = Math.round(127.5 + 80 * Math.sin(i / 7 + p) * Math.cos(j / 5) + 40 * (rnd() - 0.5));
  const grid = new Float32Array(2 * w * h);
  for (let j = 0; j < h; j++) {
    for (let i = 0; i < w; i++) {
      const x = (2 * i + 1) / w - 1, y = (2 * j + 1) / h - 1, far = rnd() < 0.1 ? 1.4 : 1;
      grid[2 * (j * w + i)] = far * (x + 0.05 * Math.sin(3 * y)) + 0.01 * (rnd() - 0.5);
      grid[2 * (j * w + i) + 1] = far * (y + 0.05 * Math.cos(3 * x)) + 0.01 * (rnd() - 0.5);
    }
  }
  return { src, grid };
}

function compare(a: Uint8Array, b: Uint8Array): { max: number; off: number } {
  let max = 0, off = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i]! - b[i]!);
    max = Math.max(max, d);
    if (d > 0) off++;
  }
  return { max, off };
}

describe('PlaneWarper (WebAssembly) samples as GridSample does', () => {
  it('Y and U, V planes, grids reaching beyond the edges: within one level of ONNX Runtime, nearly all equal', async () => {
    const W = 90, H = 64;
    const y = scene(W, H, 1), uv = scene(W / 2, H / 2, 2);
    const wp = new PlaneWarper(W, H, y.src, uv.src, []);
    wp.grid.set(y.grid);
    wp.gridh.set(uv.grid);
    wp.run();
    const ry = compare(wp.y, await ortGridSample(y.src, y.grid, W, H, 1));
    const ruv = compare(wp.uv, await ortGridSample(uv.src, uv.grid, W / 2, H / 2, 2));
    expect(ry.max).toBeLessThanOrEqual(1);
    expect(ruv.max).toBeLessThanOrEqual(1);
    // float rounding may tip a value sitting at .5: a few, not many
    expect(ry.off).toBeLessThan(0.01 * W * H);
    expect(ruv.off).toBeLessThan(0.01 * W * H);
    // and it did warp: not the source as it was
    expect(compare(wp.y, y.src).off).toBeGreaterThan(0.5 * W * H);
  });

  it('composites boxes: (sample + 0.5) * w0 + add, leaving the rest of the plane as sampled', async () => {
    const W = 40, H = 30;
    const y = scene(W, H, 1), uv = scene(W / 2, H / 2, 2);
    const box = { x: 10, y: 6, width: 16, height: 12 };
    const left = { x: 2, y: 8, width: 6, height: 4 }; // in the same rows, given after it
    const wp = new PlaneWarper(W, H, y.src, uv.src, [box, left]);
    wp.grid.set(y.grid);
    wp.gridh.set(uv.grid);
    const bw = wp.boxWeights[0]!;
    bw.w0.forEach((_, k) => (bw.w0[k] = k % 3 === 0 ? 1 : k % 3 === 1 ? 0.25 : 0));
    bw.add.forEach((_, k) => (bw.add[k] = k % 3 === 0 ? 0 : k % 3 === 1 ? 150.5 * 0.75 : 30.5));
    bw.w0h.fill(0);
    bw.addh.fill(200.5);
    const lw = wp.boxWeights[1]!;
    lw.w0.fill(0);
    lw.add.fill(10.5);
    lw.w0h.fill(1);
    lw.addh.fill(0);
    wp.run();
    const plain = new PlaneWarper(W, H, y.src, uv.src, []);
    plain.grid.set(y.grid);
    plain.gridh.set(uv.grid);
    plain.run();
    for (let j = 0; j < H; j++) {
      for (let i = 0; i < W; i++) {
        const got = wp.y[j * W + i]!, sampled = plain.y[j * W + i]!;
        const inBox = i >= box.x && i < box.x + box.width && j >= box.y && j < box.y + box.height;
        const inLeft = i >= left.x && i < left.x + left.width && j >= left.y && j < left.y + left.height;
        if (inLeft) expect(got).toBe(10);
        else if (!inBox) expect(got).toBe(sampled);
        else {
          const k = (j - box.y) * box.width + (i - box.x);
          const want = k % 3 === 0 ? sampled : k % 3 === 1 ? 0.25 * sampled + 0.75 * 150 : 30;
          expect(Math.abs(got - want), `(${i}, ${j})`).toBeLessThanOrEqual(1);
        }
      }
    }
    // U and V: all drawn inside the half-size box, as sampled outside
    for (let p = 0; p < 2; p++) {
      for (let j = 0; j < H / 2; j++) {
        for (let i = 0; i < W / 2; i++) {
          const at = p * (W / 2) * (H / 2) + j * (W / 2) + i;
          const inBox = i >= box.x / 2 && i < (box.x + box.width) / 2 && j >= box.y / 2 && j < (box.y + box.height) / 2;
          expect(wp.uv[at]).toBe(inBox ? 200 : plain.uv[at]);
        }
      }
    }
  });

  it('refuses odd sizes, wrong source lengths, boxes outside the region and a fields record of the wrong layout', () => {
    expect(() => new PlaneWarper(9, 8, new Uint8Array(72), new Uint8Array(32), [])).toThrow(/even/);
    expect(() => new PlaneWarper(8, 8, new Uint8Array(60), new Uint8Array(32), [])).toThrow(/sources/);
    expect(() => new PlaneWarper(8, 8, new Uint8Array(64), new Uint8Array(32), [{ x: 4, y: 4, width: 6, height: 2 }])).toThrow(/inside/);
    expect(() => new PlaneWarper(8, 8, new Uint8Array(64), new Uint8Array(32), [{ x: 1, y: 0, width: 2, height: 2 }])).toThrow(/even-aligned/);
    const b = { x: 0, y: 0, width: 4, height: 4 };
    expect(() => new PlaneWarper(8, 8, new Uint8Array(64), new Uint8Array(32), [b, { ...b, x: 2 }])).toThrow(/overlap/);
    // a fields record must match fields.c's layout, and draws exactly the two boxes (mouth, eyes)
    const two = [b, { ...b, x: 4 }];
    expect(() => new PlaneWarper(8, 8, new Uint8Array(64), new Uint8Array(32), two, [{ i: 1 }, { f: 2 }])).toThrow(/fields record has 2 entries/);
    expect(() => new PlaneWarper(8, 8, new Uint8Array(64), new Uint8Array(32), [b], [{ i: 1 }])).toThrow(/two boxes/);
  });
});
