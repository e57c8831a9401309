/**
 * The renderer's per-frame fields in WebAssembly (models/portrait-renderer/warp/fields.c, laid out by
 * fields.ts) against the ONNX graph that computed them before (portrait-graph.ts, run by ONNX
 * Runtime): the same sampling grids and box composite weights for random frames, on three portraits
 * (a synthetic face, a synthetic smile showing teeth, the embedded photo, whose face is not level).
 */
import { readFileSync } from 'node:fs';
import ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { DEFAULT_PORTRAIT } from '../../config/schema.js';
import { enrolPortrait } from '../../models/face/enrol.js';
import type { EnrolledPortrait } from '../../models/face/PortraitTypes.js';
import { fieldsRecord, INPUT_AT } from '../../models/portrait-renderer/fields.js';
import { faceGeometry, type FaceGeometry } from '../../models/portrait-renderer/geometry.js';
import { photoColours } from '../../models/portrait-renderer/photo-colours.js';
import { buildPortraitGraph } from '../../models/portrait-renderer/portrait-graph.js';
import { PlaneWarper } from '../../models/portrait-renderer/warp.js';
import { syntheticPortrait } from '../helpers/synthetic-portrait.js';

let seed = 11;
const rnd = (lo: number, hi: number) => lo + (hi - lo) * ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);

/** A frame's inputs over their live ranges (renderer.ts setInputs), some at their ends; every third frame's lower lip rises (drop < 0: a press or an f on a photo showing teeth). */
function randomInputs(geo: FaceGeometry, k: number): { coeffs: number[]; blink: number[]; mouth: number[]; eyes: number[] } {
  const a = geo.mouth.a, edge = (b: number, e: FaceGeometry['eyes'][0]) => b * (e.upper + e.lower) - e.upper;
  const pick = (x: number) => (k % 4 === 0 ? Math.round(x) : x); // every 4th frame: 0 / 1 ends
  const bl = [pick(rnd(0, 1)), pick(rnd(0, 1))];
  return {
    coeffs: [1, rnd(-12, 12), rnd(-10, 10), rnd(-6, 6), rnd(0, 1)],
    blink: bl,
    mouth: [rnd(-3, 3), rnd(-3, 3), 1 / (a * rnd(0.7, 1.25)) ** 2, k % 3 === 1 ? -rnd(0, 0.3) * a : pick(rnd(0, 1)) * 0.8 * a, rnd(-0.1, 0.12) * a, rnd(-0.3, 0.22), rnd(0, 3), pick(rnd(0, 1)), pick(rnd(0, 1)), pick(rnd(0, 1))],
    eyes: geo.eyes.flatMap((e, s) => [rnd(-2, 2), rnd(-2, 2), edge(bl[s]!, e), pick(rnd(0, 1))]),
  };
}

function maxDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

async function compare(p: EnrolledPortrait, frames: number): Promise<{ grid: number; weight: number; add: number; moved: number }> {
  const geo = faceGeometry(p, { roiMargin: 0.12 });
  const colours = photoColours(p, geo);
  const graph = buildPortraitGraph(geo, colours);
  const session = await ort.InferenceSession.create(graph.model);
  const W = geo.roi.width, H = geo.roi.height;
  const wp = new PlaneWarper(W, H, new Uint8Array(W * H), new Uint8Array(W * H / 2), [geo.mouthBox, geo.eyesBox], fieldsRecord(geo, colours));
  const worst = { grid: 0, weight: 0, add: 0, moved: 0 };
  try {
    for (let k = 0; k < frames; k++) {
      const x = randomInputs(geo, k);
      wp.inputs!.set([...x.coeffs, ...x.blink, ...x.mouth, ...x.eyes]);
      expect(INPUT_AT.eyes + x.eyes.length).toBe(wp.inputs!.length);
      wp.run();
      const t = (d: number[], dims: number[]) => new ort.Tensor('float32', Float32Array.from(d), dims);
      const r = await session.run({ coeffs: t(x.coeffs, [1, 5]), blink: t(x.blink, [1, 2]), mouth: t(x.mouth, [10]), eyes: t(x.eyes, [8]) });
      const out = (name: string) => r[name]!.data as Float32Array;
      worst.grid = Math.max(worst.grid, maxDiff(wp.grid, out(graph.outputs.grid)), maxDiff(wp.gridh, out(graph.outputs.gridh)));
      (['mouth', 'eyes'] as const).forEach((box, i) => {
        const w = wp.boxWeights[i]!, names = graph.outputs[box];
        worst.weight = Math.max(worst.weight, maxDiff(w.w0, out(names.w0)), maxDiff(w.w0h, out(names.w0h)));
        worst.add = Math.max(worst.add, maxDiff(w.add, out(names.add)), maxDiff(w.addh, out(names.addh)));
      });
      // and the frame is not the identity: the fields did move something
      let moved = 0;
      for (let j = 0; j < H; j++) for (let i = 0; i < W; i++) moved = Math.max(moved, Math.abs(wp.grid[2 * (j * W + i)]! - ((2 * i + 1) / W - 1)) * W / 2);
      worst.moved = Math.max(worst.moved, moved);
    }
  } finally {
    await session.release();
  }
  return worst;
}

describe('the fields in WebAssembly compute what the ONNX graph computed', () => {
  const cases: [string, () => Promise<EnrolledPortrait>][] = [
    ['a synthetic face', async () => syntheticPortrait()],
    ['a synthetic smile showing teeth, 384 px', async () => syntheticPortrait({ width: 384, height: 384, teeth: 8 })],
    ['the embedded photo', async () => enrolPortrait(readFileSync(DEFAULT_PORTRAIT), { minResolution: 512, expandRatio: 0.5 })],
  ];
  for (const [name, make] of cases) {
    it(`${name}: grids within 2e-5 (a hundredth of a pixel), weights within 1e-4, colour sums within 0.02 levels`, async () => {
      const w = await compare(await make(), 24);
      expect(w.grid).toBeLessThan(2e-5);
      expect(w.weight).toBeLessThan(1e-4);
      expect(w.add).toBeLessThan(0.02);
      expect(w.moved).toBeGreaterThan(2); // px: head motion moved the picture
    }, 60_000);
  }
});
