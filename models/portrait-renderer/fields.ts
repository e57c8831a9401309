/**
 * The static side of the renderer's per-frame fields (warp/fields.c): the portrait's tables (head
 * basis rows, blink fields, the mouth band's local coordinates and envelopes, the eyes box's
 * coordinates) and constants, and the `Fields` record fields.c reads them through. Per frame the
 * renderer only writes the 25 inputs (`FIELD_INPUTS`); fields.c turns them into the sampling grids
 * and the boxes' composite weights, as portrait-graph.ts (the ONNX reference) does.
 */
import { bandCoords, blinkField, headBasis, HEAD_BASIS_ROWS, mouthEnvelopes } from './basis.js';
import type { FaceGeometry } from './geometry.js';
import type { PhotoColours } from './photo-colours.js';
import { compositeColours, EYE_INPUTS, MOUTH, MOUTH_INPUTS, mouthLengths } from './shape.js';

/** Per-frame inputs: head coeffs [1, yaw, pitch, roll, breath], blink [2], mouth [10], eyes [2][4]. */
export const FIELD_INPUTS = HEAD_BASIS_ROWS + 2 + MOUTH_INPUTS.length + 2 * EYE_INPUTS.length;
export const INPUT_AT = { coeffs: 0, blink: HEAD_BASIS_ROWS, mouth: HEAD_BASIS_ROWS + 2, eyes: HEAD_BASIS_ROWS + 2 + MOUTH_INPUTS.length } as const;

/** A record entry: an int32, a float32, a table copied into the module's memory, or a buffer the caller owns there. */
export type Entry = { i: number } | { f: number } | { table: Float32Array } | { out: 'grid' | 'gridh' | `${'mouth' | 'eyes'}.${'w0' | 'add' | 'w0h' | 'addh'}` } | { scratch: number };

/** The head basis at `step` as fields.c reads it: the yaw x, pitch y, roll x, roll y, breath y rows ([5][h*w]). */
function headRows(geo: FaceGeometry, step: 1 | 2): Float32Array {
  const b = headBasis(geo, step);
  const n = (geo.roi.width / step) * (geo.roi.height / step), stride = 2 * n;
  const t = new Float32Array(5 * n);
  const pick: [row: number, channel: number][] = [[1, 0], [2, 1], [3, 0], [3, 1], [4, 1]];
  pick.forEach(([r, c], k) => {
    for (let p = 0; p < n; p++) t[k * n + p] = b[r * stride + 2 * p + c]!;
  });
  return t;
}

/** The `Fields` record of fields.c for one portrait, in its field order. */
export function fieldsRecord(geo: FaceGeometry, colours: PhotoColours): Entry[] {
  const { roi, eyesBand: eb, mouthBand: mb, mouthBox, eyesBox, mouth: m } = geo;
  const W = roi.width, H = roi.height, sx = 2 / W, sy = 2 / H, a = m.a, mf = m.frame;
  const i = (v: number): Entry => ({ i: v }), f = (v: number): Entry => ({ f: v }), table = (t: Float32Array): Entry => ({ table: t });
  const r: Entry[] = [];
  // Head head[2]
  for (const step of [1, 2] as const) r.push(i(W / step), i(H / step), { out: step === 1 ? 'grid' : 'gridh' }, table(headRows(geo, step)));
  // EyesBand eyesBand[2]
  for (const step of [1, 2] as const) {
    const w = eb.width / step, h = eb.height / step;
    const basis = new Float32Array(2 * w * h * 2);
    geo.eyes.forEach((eye, k) => blinkField(eye, bandCoords(geo, eb, eye.frame, step), basis.subarray(k * w * h * 2, (k + 1) * w * h * 2), sx, sy));
    r.push(i(eb.x / step), i(eb.y / step), i(w), i(h), table(basis));
  }
  // the mouth band
  const mc = bandCoords(geo, mb, mf, 1);
  const env = mouthEnvelopes(geo, mc);
  r.push(i(mb.x), i(mb.y), i(mb.width), i(mb.height), table(mc.u), table(mc.v), table(env.low), table(env.up), table(env.h), { scratch: 2 * mb.width * mb.height }, { scratch: 5 * Math.max(mouthBox.width, eyesBox.width) });
  const { ramp, lipH, seamW } = mouthLengths(m);
  const cols = compositeColours(colours);
  r.push(f(m.lowerCurve), f(m.lowerInner - m.lowerCurve), f(1 / MOUTH.seam), f(m.lowerOuter - m.lowerInner), f(1 / ramp), f(1 / lipH), f(1.1 * a));
  r.push(f(-sx * mf.ux), f(sx * mf.uy), f(-sy * mf.uy), f(-sy * mf.ux));
  // the mouth box
  r.push(i(mouthBox.x - mb.x), i(mouthBox.y - mb.y), i(mouthBox.width), i(mouthBox.height));
  r.push({ out: 'mouth.w0' }, { out: 'mouth.add' }, { out: 'mouth.w0h' }, { out: 'mouth.addh' });
  r.push(f(MOUTH.teeth * a), f(1 / MOUTH.feather), f(1 / seamW), f(MOUTH.seamOpacity));
  for (const c of cols.mouth) r.push(...c.map(f));
  // the eyes box
  r.push(i(eyesBox.width), i(eyesBox.height));
  r.push({ out: 'eyes.w0' }, { out: 'eyes.add' }, { out: 'eyes.w0h' }, { out: 'eyes.addh' });
  const ec = geo.eyes.map((eye) => bandCoords(geo, eyesBox, eye.frame, 1));
  r.push(table(ec[0]!.u), table(ec[1]!.u), table(ec[0]!.v), table(ec[1]!.v));
  const perEye = (fn: (e: FaceGeometry['eyes'][0], open: number) => number) => geo.eyes.map((e) => f(fn(e, e.upper + e.lower)));
  r.push(...perEye((e) => 1 / e.halfWidth ** 2), ...perEye((e) => e.upper), ...perEye((_, o) => 0.35 * o), ...perEye((_, o) => 1 / (0.35 * o)));
  r.push(...perEye((_, o) => 1 / Math.max(1, 0.12 * o)), ...perEye((_, o) => 1 / (0.6 * o)));
  for (const c of cols.eyes) r.push(...c.map(f));
  return r;
}
