/**
 * The portrait renderer's per-frame work, in WebAssembly (built by warp/build.sh, committed as
 * warp/warp.wasm):
 * - warp/fields.c (with a fields record, fields.ts): the frame's 25 scalars -> the sampling grids
 *   and the mouth and eye boxes' composite weights (0.45 ms for the embedded portrait);
 * - warp/warp.c: the photo's region of interest (ROI), 8-bit Y at full resolution and U, V at half,
 *   sampled where the grids say (bilinear, border padding, align_corners 0: what ONNX GridSample
 *   computes), then the boxes composited over it (out = (photo + 0.5) * w0 + add), four pixels at a
 *   time with SIMD: 0.54 ms for the embedded portrait's 282x310 region against 1.9 ms in ONNX
 *   Runtime's GridSample, on 8-bit sources a quarter the size of its float ones.
 *
 * One instance per renderer, its memory sized once (views stay valid). Not thread-safe: the
 * renderer serialises its frames.
 */
import { readFileSync } from 'node:fs';
import { FIELD_INPUTS, type Entry } from './fields.js';

const WASM_URL = new URL('./warp/warp.wasm', import.meta.url);
let compiled: WebAssembly.Module | undefined;

interface WarpExports {
  warp(src: number, grid: number, dst: number, w: number, h: number, planes: number, boxes: number, nboxes: number): void;
  fields(record: number, inputs: number): void;
  fields_size(): number;
  __heap_base: WebAssembly.Global;
}

/** A composited box, ROI pixels (x, y, width, height even). */
export interface WarpBox {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** A box's composite weights, filled per frame: Y at full resolution, U and V at half. */
export interface BoxWeights {
  w0: Float32Array;
  add: Float32Array;
  w0h: Float32Array;
  addh: Float32Array;
}

export class PlaneWarper {
  /** the frame's ROI, filled by run(): Y (width x height), then U and V (width/2 x height/2 each) */
  readonly y: Uint8Array;
  readonly uv: Uint8Array;
  /** per-frame inputs: [height][width][2] and [height/2][width/2][2] normalised sample positions */
  readonly grid: Float32Array;
  readonly gridh: Float32Array;
  readonly boxWeights: readonly BoxWeights[];
  /** with a fields record: the frame's inputs (fields.ts FIELD_INPUTS), from which run() computes the grids and weights */
  readonly inputs: Float32Array | undefined;

  private readonly fns: WarpExports;
  private readonly at: { ySrc: number; uvSrc: number; y: number; uv: number; grid: number; gridh: number; boxes: number; boxesh: number; record: number; inputs: number };

  /**
   * `ySrc` (width x height) and `uvSrc` (U then V, width/2 x height/2 each): the photo's ROI, copied in.
   * `record` (fields.ts, for boxes [mouth, eyes]): run() computes the grids and box weights from `inputs`
   * first; without it the caller fills them.
   */
  constructor(readonly width: number, readonly height: number, ySrc: Uint8Array, uvSrc: Uint8Array, readonly boxes: readonly WarpBox[], record?: readonly Entry[]) {
    const w = width, h = height, w2 = w / 2, h2 = h / 2;
    if (!Number.isInteger(w2) || !Number.isInteger(h2) || w2 < 1 || h2 < 1) throw new RangeError(`PlaneWarper: width and height must be even and positive, got ${w}x${h}`);
    if (ySrc.length !== w * h || uvSrc.length !== 2 * w2 * h2) throw new RangeError(`PlaneWarper: sources must be ${w * h} and ${2 * w2 * h2} bytes`);
    for (const b of boxes) {
      if ([b.x, b.y, b.width, b.height].some((v) => !Number.isInteger(v / 2) || v < 0) || b.width < 2 || b.height < 2 || b.x + b.width > w || b.y + b.height > h) {
        throw new RangeError(`PlaneWarper: box ${JSON.stringify(b)} must be even-aligned and inside ${w}x${h}`);
      }
    }
    const overlap = (a: WarpBox, b: WarpBox) => a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;
    if (boxes.some((a, i) => boxes.some((b, j) => i < j && overlap(a, b)))) throw new RangeError('PlaneWarper: boxes must not overlap');
    compiled ??= new WebAssembly.Module(readFileSync(WASM_URL));
    // lay out: sources, results, grids, box weights (16-byte aligned), after the module's own data
    const sizes: number[] = [];
    const take = (bytes: number) => (sizes.push(bytes), sizes.length - 1);
    const iy = take(w * h), iuv = take(2 * w2 * h2), oy = take(w * h), ouv = take(2 * w2 * h2);
    const ig = take(8 * w * h), igh = take(8 * w2 * h2);
    const ib = boxes.map((b) => ({ w0: take(4 * b.width * b.height), add: take(4 * b.width * b.height), w0h: take(b.width * b.height), addh: take(2 * b.width * b.height) }));
    const idesc = take(24 * boxes.length), ideschalf = take(24 * boxes.length); // warp.c's Box: 6 int32 each
    // fields.c's record (4 bytes an entry), its tables and scratch, and the frame's inputs
    if (record && boxes.length !== 2) throw new RangeError('PlaneWarper: a fields record draws two boxes, the mouth and the eyes');
    const irec = take(4 * (record?.length ?? 0)), iin = take(4 * FIELD_INPUTS);
    const itab = (record ?? []).map((e) => ('table' in e ? take(4 * e.table.length) : 'scratch' in e ? take(4 * e.scratch) : -1));
    // where the module's own data and stack end (its memory needs 2 pages as built)
    const probe = new WebAssembly.Instance(compiled, { env: { memory: new WebAssembly.Memory({ initial: 16 }) } });
    const base = ((probe.exports as unknown as WarpExports).__heap_base.value as number + 15) & ~15;
    const offsets: number[] = [];
    let end = base;
    for (const s of sizes) {
      offsets.push(end);
      end += (s + 15) & ~15;
    }
    const memory = new WebAssembly.Memory({ initial: Math.ceil(end / 65536) });
    this.fns = new WebAssembly.Instance(compiled, { env: { memory } }).exports as unknown as WarpExports;
    if (record && 4 * record.length !== this.fns.fields_size()) throw new Error(`PlaneWarper: the fields record has ${record.length} entries, fields.c's ${this.fns.fields_size() / 4}: rebuild warp.wasm (warp/build.sh) or mend fields.ts`);
    const buf = memory.buffer;
    const u8 = (i: number, n: number) => new Uint8Array(buf, offsets[i]!, n);
    const f32 = (i: number, n: number) => new Float32Array(buf, offsets[i]!, n);
    u8(iy, w * h).set(ySrc);
    u8(iuv, 2 * w2 * h2).set(uvSrc);
    this.y = u8(oy, w * h);
    this.uv = u8(ouv, 2 * w2 * h2);
    this.grid = f32(ig, 2 * w * h);
    this.gridh = f32(igh, 2 * w2 * h2);
    this.boxWeights = boxes.map((b, k) => {
      const n = b.width * b.height, i = ib[k]!;
      return { w0: f32(i.w0, n), add: f32(i.add, n), w0h: f32(i.w0h, n / 4), addh: f32(i.addh, n / 2) };
    });
    // the box descriptors, at full and half resolution, sorted by x as warp.c walks a row
    const order = boxes.map((_, k) => k).sort((a, b) => boxes[a]!.x - boxes[b]!.x);
    const desc = new Int32Array(buf, offsets[idesc]!, 6 * boxes.length), half = new Int32Array(buf, offsets[ideschalf]!, 6 * boxes.length);
    order.forEach((k, n) => {
      const b = boxes[k]!, i = ib[k]!;
      desc.set([b.x, b.y, b.width, b.height, offsets[i.w0]!, offsets[i.add]!], 6 * n);
      half.set([b.x / 2, b.y / 2, b.width / 2, b.height / 2, offsets[i.w0h]!, offsets[i.addh]!], 6 * n);
    });
    this.at = { ySrc: offsets[iy]!, uvSrc: offsets[iuv]!, y: offsets[oy]!, uv: offsets[ouv]!, grid: offsets[ig]!, gridh: offsets[igh]!, boxes: offsets[idesc]!, boxesh: offsets[ideschalf]!, record: record ? offsets[irec]! : 0, inputs: offsets[iin]! };
    this.inputs = record ? f32(iin, FIELD_INPUTS) : undefined;
    if (record) {
      const ints = new Int32Array(buf, offsets[irec]!, record.length), floats = new Float32Array(buf, offsets[irec]!, record.length);
      const outs: Record<string, number> = { grid: offsets[ig]!, gridh: offsets[igh]! };
      (['mouth', 'eyes'] as const).forEach((name, k) => {
        for (const part of ['w0', 'add', 'w0h', 'addh'] as const) outs[`${name}.${part}`] = offsets[ib[k]![part]]!;
      });
      record.forEach((e, n) => {
        if ('i' in e) ints[n] = e.i;
        else if ('f' in e) floats[n] = e.f;
        else if ('out' in e) ints[n] = outs[e.out]!;
        else {
          ints[n] = offsets[itab[n]!]!;
          if ('table' in e) f32(itab[n]!, e.table.length).set(e.table);
        }
      });
    }
  }

  /**
   * Samples the ROI by `grid` / `gridh` and composites each box by its weights into `y` / `uv`; with a
   * fields record, computes those from `inputs` first.
   */
  run(): void {
    const { fns, at, width: w, height: h } = this;
    const n = this.boxes.length;
    if (at.record) fns.fields(at.record, at.inputs);
    fns.warp(at.ySrc, at.grid, at.y, w, h, 1, at.boxes, n);
    fns.warp(at.uvSrc, at.gridh, at.uv, w / 2, h / 2, 2, at.boxesh, n);
  }
}
