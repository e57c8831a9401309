/**
 * Precomputed displacement fields of the portrait renderer.
 *
 * Convention: a field d(p) is how far the CONTENT at output pixel p moved, in portrait pixels;
 * the sampling grid is g(p) = p - d(p), in GridSample's normalised coordinates
 * (align_corners = 0: x_n = 2 x / W - 1 with x measured from the ROI's left edge, pixel centres at
 * j + 0.5). Because every head field is linear in its parameter, the grid of a frame is
 * coeffs(1 x 5) . basis(5 x H*W*2) with coeffs = [1, yaw, pitch, roll, breath] (row 0 = identity).
 * Full-resolution rows drive the Y sample, half-resolution rows (chroma pixel centres) drive U, V.
 *
 * The mouth and eye fields are not here: they are analytic in the graph, on small bands, so that
 * they can ride along with the head (see portrait-graph.ts); their static envelopes are here.
 */
import type { MotionParams } from '../../pipeline/records.js';
import type { FaceGeometry, LocalFrame } from './geometry.js';
import { BLINK_REACH, toLocal } from './geometry.js';

export const HEAD_BASIS_ROWS = 5;
const DEG = Math.PI / 180;

/** smoothstep from 0 at e0 to 1 at e1 (e0 > e1 allowed: falls). */
export function smoothstep(e0: number, e1: number, x: number): number {
  const t = Math.max(0, Math.min(1, (x - e0) / (e1 - e0)));
  return t * t * (3 - 2 * t);
}

/** Head-motion weight: 1 on the head, falling smoothly to exactly 0 at the ROI border. */
function headWeight(g: FaceGeometry, x: number, y: number): number {
  const r = g.roi;
  const d = Math.min(x - r.x, r.x + r.width - x, y - r.y, r.y + r.height - y);
  // ramp over the margin between the face box and the ROI edge (at least 6 px)
  const ramp = Math.max(6, Math.min(g.face.cx - g.face.rx - r.x, r.x + r.width - g.face.cx - g.face.rx,
    g.face.cy - g.face.ry - r.y, r.y + r.height - g.face.cy - g.face.ry));
  return smoothstep(0.5, ramp, d);
}

/**
 * Content displacement (portrait px) per unit of [yaw deg, pitch deg, roll deg, breath] at (x, y).
 * Positive yaw moves the face to image-right, positive pitch moves it down (nod), positive roll is
 * clockwise on screen about the neck pivot, positive breath lifts the head.
 */
export function headFieldsAt(g: FaceGeometry, x: number, y: number): [number, number][] {
  const w = headWeight(g, x, y);
  const f = g.face;
  const rho2 = ((x - f.cx) / f.rx) ** 2 + ((y - f.cy) / f.ry) ** 2;
  // a rounded head turning about an axis behind the face: the nose moves more than the cheeks
  const bulge = Math.sqrt(Math.max(0, 1 - rho2));
  const yawArm = (0.6 + 0.5 * bulge) * f.rx;
  const pitchArm = (0.45 + 0.45 * bulge) * f.ry;
  const lift = 0.02 * f.ry;
  return [
    [w * yawArm * DEG, 0],
    [0, w * pitchArm * DEG],
    [-w * (y - g.pivot.y) * DEG, w * (x - g.pivot.x) * DEG],
    [0, -w * lift],
  ];
}

/** Content displacement (portrait px) of the head motion in `p` at (x, y). */
export function headDisplacement(g: FaceGeometry, p: Readonly<MotionParams>, x: number, y: number): [number, number] {
  const f = headFieldsAt(g, x, y);
  const c = [p.headYaw, p.headPitch, p.headRoll, p.breath];
  let dx = 0, dy = 0;
  for (let k = 0; k < 4; k++) {
    dx += c[k]! * f[k]![0];
    dy += c[k]! * f[k]![1];
  }
  return [dx, dy];
}

/**
 * The head basis over the ROI at `step` (1 = full resolution, 2 = chroma), row-major
 * [HEAD_BASIS_ROWS, (H/step)*(W/step)*2] in normalised grid units.
 */
export function headBasis(g: FaceGeometry, step: 1 | 2): Float32Array {
  const W = g.roi.width, H = g.roi.height;
  const w = W / step, h = H / step;
  const n = w * h * 2;
  const out = new Float32Array(HEAD_BASIS_ROWS * n);
  const sx = 2 / W, sy = 2 / H;
  for (let j = 0; j < h; j++) {
    for (let i = 0; i < w; i++) {
      const xr = (i + 0.5) * step; // ROI coordinates of the pixel centre
      const yr = (j + 0.5) * step;
      const o = (j * w + i) * 2;
      out[o] = xr * sx - 1;
      out[o + 1] = yr * sy - 1;
      const f = headFieldsAt(g, xr + g.roi.x, yr + g.roi.y);
      for (let k = 0; k < 4; k++) {
        out[(k + 1) * n + o] = -f[k]![0] * sx;
        out[(k + 1) * n + o + 1] = -f[k]![1] * sy;
      }
    }
  }
  return out;
}

/** A band (ROI px box) sampled at `step`: its size and, per pixel, local-frame coordinates. */
export interface BandCoords {
  width: number;
  height: number;
  u: Float32Array;
  v: Float32Array;
  /** 0 at the band border, 1 from 4 px inside: keeps every band field continuous with zero */
  taper: Float32Array;
}

export function bandCoords(g: FaceGeometry, band: { x: number; y: number; width: number; height: number }, frame: LocalFrame, step: 1 | 2): BandCoords {
  const w = band.width / step, h = band.height / step;
  const u = new Float32Array(w * h), v = new Float32Array(w * h), taper = new Float32Array(w * h);
  for (let j = 0; j < h; j++) {
    for (let i = 0; i < w; i++) {
      const x = band.x + (i + 0.5) * step, y = band.y + (j + 0.5) * step;
      const [lu, lv] = toLocal(frame, x + g.roi.x, y + g.roi.y);
      u[j * w + i] = lu;
      v[j * w + i] = lv;
      const d = Math.min(x - band.x, band.x + band.width - x, y - band.y, band.y + band.height - y);
      taper[j * w + i] = smoothstep(0.5, 4, d);
    }
  }
  return { width: w, height: h, u, v, taper };
}

/** Static envelopes of the mouth fields over the mouth band (see portrait-graph.ts for their use). */
export function mouthEnvelopes(g: FaceGeometry, c: BandCoords): { low: Float32Array; up: Float32Array; h: Float32Array } {
  const m = g.mouth, a = m.a;
  const n = c.u.length;
  const low = new Float32Array(n), up = new Float32Array(n), h = new Float32Array(n);
  for (let k = 0; k < n; k++) {
    const u = Math.abs(c.u[k]!), v = c.v[k]!, t = c.taper[k]!;
    // jaw: the chin and lower lip move as one, the cheeks stretch, the neck below the chin stays
    low[k] = t * smoothstep(1.9 * a, 1.1 * a, u) * smoothstep(m.chin + 0.6 * a, m.chin, v);
    // upper lip lift fades out below the nose (until 2026-12-05 over 0.6 a above the lip, which on a
    // smile showing teeth reached the nose tip: a press dragged the nose down)
    up[k] = t * smoothstep(m.lipTop, m.upperOuter, v);
    // horizontal stretch (lip width / rounding) around the lips
    h[k] = t * smoothstep(2.0 * a, 1.25 * a, u)
      * smoothstep(m.upperOuter - 0.8 * a, m.upperOuter, v) * smoothstep(m.lowerOuter + 0.8 * a, m.lowerOuter, v);
  }
  return { low, up, h };
}

/**
 * Blink field of one eye over the eyes band: content displacement along the eye's v axis, in px,
 * for blink = 1 (the upper lid and the skin above it slide down; the lower lid stays).
 */
export function blinkField(eye: FaceGeometry['eyes'][0], c: BandCoords, out: Float32Array, sx: number, sy: number): void {
  const open = eye.upper + eye.lower;
  // the skin moves from `reach` above the lid (geometry.ts blinkReach: less than 0.8 openings where
  // a glasses rim lies closer), and the less far, the less it drops (the same slope)
  const drop = eye.reach >= BLINK_REACH * open ? 0.6 * open : (0.6 * open * (eye.reach - 0.1 * open)) / ((BLINK_REACH - 0.1) * open);
  const f = eye.frame;
  for (let k = 0; k < c.u.length; k++) {
    const u = Math.abs(c.u[k]!), v = c.v[k]!;
    const env = c.taper[k]! * smoothstep(1.45 * eye.halfWidth, 0.9 * eye.halfWidth, u)
      * smoothstep(eye.lower, -eye.upper, v) * smoothstep(-eye.upper - eye.reach, -eye.upper - 0.1 * open, v);
    const d = drop * env;
    // along v = (-uy, ux) in image coordinates; the grid moves the other way
    out[2 * k] -= -d * f.uy * sx;
    out[2 * k + 1] -= d * f.ux * sy;
  }
}
