/**
 * The REFERENCE of the renderer's per-frame fields, as an ONNX graph: per frame, where each pixel of
 * the region of interest (ROI) samples the photo from, and what is drawn over the mouth and eye boxes.
 * The renderer ran it in ONNX Runtime until 2026-12-05; it now computes the same in WebAssembly
 * (warp/fields.c, 0.45 ms a frame against 1.5-2.2 ms here, and none of ONNX Runtime's per-run
 * allocations), and test/renderer/fields.test.ts holds the two equal. Change both together.
 *
 *   coeffs [1,5] --MatMul(head basis)--> global grid ---------------------------+
 *   blink  [1,2] --MatMul(blink basis)--> eyes band field --Pad--+               |
 *   mouth  [10]  --analytic, ride along the head--> mouth band --Pad--> Concat --Add--> grid, gridh
 *   mouth box: cavity + teeth + lip line weights -> mouth_w0, mouth_add (full res), mouth_w0h, mouth_addh (half)
 *   eyes box: lids + lashes -> eyes_w0, eyes_add, eyes_w0h, eyes_addh
 *
 * The sampling was never in the graph: warp.ts samples the photo's Y plane by `grid` (full
 * resolution) and U, V by `gridh` (half), as GridSample would (linear, border, align_corners 0),
 * in WebAssembly at under a third of ONNX Runtime's GridSample time, and composites the boxes:
 * out = (photo + 0.5) * w0 + add. Colours are stored + 0.5 so that truncation rounds.
 */
import { bandCoords, blinkField, headBasis, HEAD_BASIS_ROWS, mouthEnvelopes } from './basis.js';
import type { FaceGeometry } from './geometry.js';
import type { PhotoColours } from './photo-colours.js';
import { DType, GraphBuilder } from './graph-builder.js';
import { Ops } from './graph-ops.js';
import { compositeColours, EYE_INPUTS, LOWER_TEETH, MOUTH, MOUTH_INPUTS, mouthLengths, TEETH_GAPS } from './shape.js';

/** Names of a box's outputs: w0 [1,1,h,w] and add [1,1,h,w] (Y); w0h [1,1,h/2,w/2] and addh [1,2,h/2,w/2] (U, V). */
export interface BoxOutputs {
  w0: string;
  add: string;
  w0h: string;
  addh: string;
}

export interface PortraitGraph {
  model: Uint8Array;
  /** op types in node order */
  nodes: string[];
  /** output names: the sampling grids ([1,H,W,2] and [1,H/2,W/2,2], GridSample's normalised x, y) and the boxes' composites */
  outputs: { grid: string; gridh: string; mouth: BoxOutputs; eyes: BoxOutputs };
}


/** The graph for one portrait: its geometry, and the colours taken from its photo (photo-colours.ts). */
export function buildPortraitGraph(geo: FaceGeometry, colours: PhotoColours): PortraitGraph {
  const g = new GraphBuilder('portrait');
  const o = new Ops(g);
  const { roi } = geo;
  const W = roi.width, H = roi.height, W2 = W / 2, H2 = H / 2;
  const sx = 2 / W, sy = 2 / H;

  // ---- inputs
  const coeffs = g.input('coeffs', DType.FLOAT, [1, HEAD_BASIS_ROWS]);
  const blink = g.input('blink', DType.FLOAT, [1, 2]);
  const mouthIn = g.input('mouth', DType.FLOAT, [MOUTH_INPUTS.length]);
  const eyesIn = g.input('eyes', DType.FLOAT, [2 * EYE_INPUTS.length]);

  // ---- global head grid (row 0 of the basis is the identity)
  const headGrid = (step: 1 | 2) => {
    const w = W / step, h = H / step;
    const b = g.floats(`head${step}`, headBasis(geo, step), [HEAD_BASIS_ROWS, w * h * 2]);
    return g.node('Reshape', [g.node('MatMul', [coeffs, b]), g.int64s('shape', [1, h, w, 2])]);
  };
  const globalFull = headGrid(1);
  const globalHalf = headGrid(2);

  // ---- eyes band: blink fields (static, linear in the two blink values)
  const eb = geo.eyesBand;
  const eyesBandField = (step: 1 | 2) => {
    const w = eb.width / step, h = eb.height / step;
    const basis = new Float32Array(2 * w * h * 2);
    geo.eyes.forEach((eye, k) => {
      const c = bandCoords(geo, eb, eye.frame, step);
      blinkField(eye, c, basis.subarray(k * w * h * 2, (k + 1) * w * h * 2), sx, sy);
    });
    const f = g.node('MatMul', [blink, g.floats(`blink${step}`, basis, [2, w * h * 2])]);
    return padW(g.node('Reshape', [f, g.int64s('shape', [1, h, w, 2])]), eb.x / step, w, W / step);
  };

  // ---- mouth band: analytic field in the mouth frame, shifted by the head motion at the mouth
  const m = geo.mouth, a = m.a, mf = m.frame;
  const mb = geo.mouthBand;
  const mc = bandCoords(geo, mb, mf, 1);
  const env = mouthEnvelopes(geo, mc);
  const band4 = (name: string, data: Float32Array) => g.floats(name, data, [1, 1, mc.height, mc.width]);
  const [du, dv, invA2, drop, lift, stretch, pout, opacity, teeth, seam] = o.scalars(mouthIn, MOUTH_INPUTS.length) as [string, string, string, string, string, string, string, string, string, string];
  const { lipH, ramp, seamW } = mouthLengths(m);
  const cols = compositeColours(colours);
  const U = o.sub(band4('mu', mc.u), du);
  const Vv = o.sub(band4('mv', mc.v), dv);
  const q = o.relu(o.sub(1, o.mul(o.mul(U, U), invA2))); // 1 - (u/a)^2 inside the mouth, 0 beyond the corners
  // lip profile: a parabola (not an ellipse) so the corners open gently instead of tearing
  const P = q;
  // The jaw splits the face at the inner LOWER lip: when the portrait's mouth is already open
  // (a smile showing teeth), what shows between the lips belongs to the upper jaw and lifts with it.
  const split = o.mul(q, o.add(o.mul(q, m.lowerCurve), m.lowerInner - m.lowerCurve)); // inner lower lip
  const rel = o.sub(Vv, split); // v below the split line
  // a lower lip raised (drop < 0: f / v, or a press, on a photo showing its teeth) takes the split
  // line up with it, so its inner edge shows where it lands
  const rise = o.min(drop, 0);
  const below = o.ramp(o.sub(rel, o.mul(q, rise)), 1 / MOUTH.seam);
  const eLow = band4('elow', env.low), eUp = band4('eup', env.up), eH = band4('eh', env.h);
  // beside the mouth the cheeks must not tear: the jaw's pull starts at 0 on the seam line there
  // Under the lip the pull grows from q (the lip) to 1 (the chin) over `ramp` px, starting below
  // where the displaced lower lip lands (rel = drop * q), so the lip's inner edge is exactly the cavity's
  // lower edge; ramp > drop keeps the mapping monotonic (no fold).
  // The lower lip itself (its thickness below the inner edge) moves rigidly.
  const lipT = m.lowerOuter - m.lowerInner;
  // A lip that rises instead (drop < 0) leaves the chin: its pull falls from q to 0 over the same ramp.
  const x = o.mul(o.relu(o.sub(o.sub(rel, o.mul(P, drop)), lipT)), 1 / ramp);
  const opens = o.min(o.add(P, x), 1), rises = o.relu(o.sub(P, x));
  const lowW = o.add(rises, o.mul(o.ramp(drop, 1e6, 0), o.sub(opens, rises)));
  const dvDown = o.mul(o.mul(o.mul(below, eLow), lowW), drop);
  const dvUp = o.mul(o.mul(o.mul(o.sub(1, below), eUp), P), lift);
  const dvPout = o.mul(o.mul(o.clip(o.mul(rel, 1 / lipH), -1, 1), eH), pout);
  const dvMap = o.add(o.sub(dvDown, dvUp), dvPout);
  // the corners move by stretch * a; beyond them the pull stays that size and fades with the
  // envelope, so a narrow (rounded) mouth does not drag the cheeks and the jaw line in with it
  const duMap = o.mul(o.mul(o.clip(U, -1.1 * a, 1.1 * a), eH), stretch);
  // local (u, v) displacement -> image displacement -> grid offset (minus, normalised)
  const mouthNchw = o.conv1x1(o.concat([duMap, dvMap], 1), [
    [-sx * mf.ux, sx * mf.uy],
    [-sy * mf.uy, -sy * mf.ux],
  ]);
  const toNhwc = (x: string) => g.node('Transpose', [x], { perm: [0, 2, 3, 1] });
  const mouthFull = padW(toNhwc(mouthNchw), mb.x, mb.width, W);
  const mouthHalf = padW(o.half(toNhwc(mouthNchw), [1, 2]), mb.x / 2, mb.width / 2, W2);

  // ---- assemble the local field row band by row band, add it to the head grid, sample
  const assemble = (step: 1 | 2, eyes: string, mouth: string) => {
    const w = W / step;
    const parts: string[] = [];
    const zeros = (rows: number) => { if (rows > 0) parts.push(g.floats('zero', new Float32Array(rows * w * 2), [1, rows, w, 2])); };
    zeros(eb.y / step);
    parts.push(eyes);
    zeros((mb.y - eb.y - eb.height) / step);
    parts.push(mouth);
    zeros((H - mb.y - mb.height) / step);
    return o.concat(parts, 1);
  };
  const gridFull = o.add(globalFull, assemble(1, eyesBandField(1), mouthFull));
  const gridHalf = o.add(globalHalf, assemble(2, eyesBandField(2), mouthHalf));
  g.output(gridFull, DType.FLOAT, [1, H, W, 2]);
  g.output(gridHalf, DType.FLOAT, [1, H2, W2, 2]);
  const boxes: Partial<Record<'mouth' | 'eyes', BoxOutputs>> = {};

  // ---- mouth composite: a dark cavity between the displaced inner lips, upper teeth, tongue
  {
    const bx = geo.mouthBox;
    const oy = bx.y - mb.y, ox = bx.x - mb.x;
    const cut = (x: string) => o.sliceHW(x, oy, ox, bx.height, bx.width);
    const Vb = cut(Vv), Pb = cut(P), sb = cut(split);
    const meet = o.add(sb, o.mul(Pb, rise)); // the split line, displaced
    const top = o.sub(meet, o.mul(Pb, lift)); // displaced split line, upper side
    const bot = o.add(sb, o.mul(Pb, drop)); // displaced inner lower lip
    const hh = o.mul(o.sub(bot, top), 0.5);
    const dist = o.abs(o.sub(Vb, o.mul(o.add(top, bot), 0.5)));
    const mask = o.mul(o.clip(o.mul(o.sub(hh, dist), 1 / MOUTH.feather), 0, 1), opacity);
    // upper teeth shorter towards the corners (their biting edges curve up)
    const teethBand = o.mul(o.ramp(o.sub(o.add(top, o.mul(o.add(o.mul(Pb, 0.4), 0.6), MOUTH.teeth * a)), Vb), 1 / 1.5), o.clip(o.mul(o.sub(Pb, 0.25), 3), 0, 1));
    const tRel = o.div(o.sub(Vb, top), o.max(o.sub(bot, top), 1)); // 0 at the upper lip .. 1 at the lower lip
    const tongue = o.clip(o.mul(o.sub(tRel, 0.62), 3), 0, 0.75);
    const depth = o.mul(o.clip(o.sub(1, o.div(dist, o.max(hh, 0.5))), 0, 1), Pb); // darkest in the middle
    const wTeeth = o.mul(mask, o.mul(teethBand, teeth));
    // the upper teeth in shadow towards the corners and under the lip, the gaps between them darker
    // towards the biting edge (at TEETH_GAPS times this frame's a); what is not lit goes to the cavity
    const ia = o.sqrt(invA2), aF = o.div(1, ia);
    const au = o.abs(cut(U)), below = o.sub(Vb, top);
    const kc = o.sub(1, o.mul(o.clip(o.mul(o.sub(o.mul(au, ia), 0.35), 1 / 0.6), 0, 1), 0.55));
    const kt = o.sub(1, o.mul(o.clip(o.sub(1, o.mul(below, 1 / (0.35 * MOUTH.teeth * a))), 0, 1), 0.3));
    const bump = (d: string) => o.clip(o.sub(1, o.mul(o.abs(d), 1.25)), 0, 1);
    const gaps = TEETH_GAPS.map((k) => bump(k === 0 ? au : o.sub(au, o.mul(aF, k)))).reduce((x, y) => o.add(x, y));
    const e = o.clip(o.mul(below, 1 / (MOUTH.teeth * a)), 0, 1);
    const edge = o.add(0.05, o.mul(o.mul(e, e), 0.45));
    const lit = o.mul(o.mul(kc, kt), o.sub(1, o.mul(edge, gaps)));
    // the lower teeth's edges above the lower lip once the mouth opens wide (LOWER_TEETH)
    const tA = MOUTH.teeth * a, L = LOWER_TEETH;
    const lowVis = o.clip(o.mul(o.sub(o.add(o.sub(drop, rise), lift), L.from * tA), 1 / ((L.full - L.from) * tA)), 0, 1);
    const lowH = o.mul(lowVis, L.height * tA), lowOn = o.clip(o.mul(lowVis, 4), 0, 1);
    // a flat arch `height` above the lower lip's middle, rising by `rise` of that at the corners
    const lowEdge = o.sub(o.add(drop, m.lowerInner), lowH);
    const lowTop = o.sub(lowEdge, o.mul(o.mul(lowH, L.rise), o.sub(1, Pb)));
    const lowBand = o.mul(o.mul(o.ramp(o.sub(Vb, lowTop), 1 / 1.5), o.clip(o.mul(o.sub(Pb, L.edge), 4), 0, 1)), lowOn);
    const gapsLow = L.gaps.map((k) => bump(k === 0 ? au : o.sub(au, o.mul(aF, k)))).reduce((x, y) => o.add(x, y));
    const litLow = o.mul(o.mul(kc, L.light), o.sub(1, o.mul(gapsLow, L.gapDark)));
    const r0 = o.sub(mask, wTeeth);
    const wLow = o.mul(r0, lowBand);
    const r1 = o.sub(r0, wLow);
    const wTongue = o.mul(r1, tongue);
    const r2 = o.sub(r1, wTongue);
    const wThroat = o.mul(r2, depth);
    const wCavity = o.add(o.add(o.sub(r2, wThroat), o.mul(wTeeth, o.sub(1, lit))), o.mul(wLow, o.sub(1, litLow)));
    const wLit = o.add(o.mul(wTeeth, lit), o.mul(wLow, litLow));
    // pressed lips that were apart in the photo meet on the split line: a shadow line there, as
    // between real lips (else the photo's teeth show through the one-pixel seam as a bright line)
    const onSeam = o.mul(o.clip(o.sub(1.5, o.mul(o.abs(o.sub(Vb, meet)), 1 / seamW)), 0, 1), o.clip(o.mul(Pb, 4), 0, 1));
    const wSeam = o.mul(o.mul(onSeam, o.sub(1, mask)), o.mul(seam, MOUTH.seamOpacity));
    boxes.mouth = composite(bx, o.sub(o.sub(1, mask), wSeam), [wLit, wTongue, wThroat, wCavity, wSeam],
      cols.mouth);
  }

  // ---- eyes composite: an eyelid-coloured patch slides down over the opening, lashes on its edge
  {
    const bx = geo.eyesBox;
    const s = o.scalars(eyesIn, 2 * EYE_INPUTS.length);
    const lids: string[] = [];
    let lash = '';
    geo.eyes.forEach((eye, k) => {
      const [edu, edv, edge, op] = s.slice(k * 4, k * 4 + 4) as [string, string, string, string];
      const c = bandCoords(geo, { x: bx.x, y: bx.y, width: bx.width, height: bx.height }, eye.frame, 1);
      const box4 = (name: string, d: Float32Array) => g.floats(name, d, [1, 1, bx.height, bx.width]);
      const Ue = o.sub(box4('eu', c.u), edu);
      const Ve = o.sub(box4('ev', c.v), edv);
      const qe = o.relu(o.sub(1, o.mul(o.mul(Ue, Ue), 1 / eye.halfWidth ** 2)));
      const inside = o.clip(o.mul(qe, 6), 0, 1);
      const lidEdge = o.mul(qe, edge);
      const open = eye.upper + eye.lower;
      const f = 1 / 1.2;
      // hard (1 px) at the moving lid edge, soft at the top where the patch meets the real lid
      const below = o.ramp(o.sub(lidEdge, Ve), f);
      const fromTop = o.ramp(o.sub(Ve, o.sub(o.mul(qe, -eye.upper), 0.35 * open)), 1 / (0.35 * open), 0);
      const cover = o.mul(o.mul(below, fromTop), inside);
      const lashW = 1 / Math.max(1, 0.12 * open);
      const l = o.mul(o.mul(o.clip(o.sub(1, o.mul(o.abs(o.sub(Ve, lidEdge)), lashW)), 0, 1), inside), o.mul(op, 0.8));
      const lid = o.mul(o.mul(cover, op), o.sub(1, l));
      // the lid is a little darker towards its edge
      const light = o.clip(o.mul(o.sub(lidEdge, Ve), 1 / (0.6 * open)), 0, 1);
      const lidLight = o.mul(lid, light);
      lids.push(lidLight, o.sub(lid, lidLight));
      lash = lash ? o.add(lash, l) : l;
    });
    const w0 = o.sub(o.sub(o.sub(o.sub(o.sub(1, lids[0]!), lids[1]!), lids[2]!), lids[3]!), lash);
    boxes.eyes = composite(bx, w0, [...lids, lash], cols.eyes);
  }

  /**
   * The composite out = warped * w0 + sum_k w_k colour_k as its two parts (w0 and the sum), at full
   * resolution for Y and from 2x2-averaged weights for U, V; warp.ts applies them.
   */
  function composite(bx: { width: number; height: number }, w0: string, ws: string[], cols: number[][]): BoxOutputs {
    const h = bx.height, w = bx.width;
    const stack = o.concat(ws, 1);
    const add = o.conv1x1(stack, [cols.map((c) => c[0]!)]);
    const pooled = o.half(o.concat([w0, stack], 1));
    const [w0h, stackH] = g.nodeN('Split', [pooled, g.int64s('split', [1, ws.length])], { axis: 1 }, 2) as [string, string];
    const addh = o.conv1x1(stackH, [cols.map((c) => c[1]!), cols.map((c) => c[2]!)]);
    g.output(w0, DType.FLOAT, [1, 1, h, w]);
    g.output(add, DType.FLOAT, [1, 1, h, w]);
    g.output(w0h, DType.FLOAT, [1, 1, h / 2, w / 2]);
    g.output(addh, DType.FLOAT, [1, 2, h / 2, w / 2]);
    return { w0, add, w0h, addh };
  }

  /** Zero-pad an NHWC band [1,h,w,2] at column x0 to full width. */
  function padW(x: string, x0: number, w: number, fullW: number): string {
    if (x0 === 0 && w === fullW) return x;
    return g.node('Pad', [x, g.int64s('pads', [0, 0, x0, 0, 0, 0, fullW - x0 - w, 0])], { mode: 'constant' });
  }

  return { model: g.build(), nodes: g.nodeList(), outputs: { grid: gridFull, gridh: gridHalf, mouth: boxes.mouth!, eyes: boxes.eyes! } };
}
