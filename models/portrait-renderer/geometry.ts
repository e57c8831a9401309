/**
 * Face geometry the renderer derives once from the enrolled landmarks: the region of interest
 * (ROI) that is warped, local frames of the mouth and eyes, and the sub-boxes (bands) where the
 * mouth and eye fields and composites are computed. All boxes are even-aligned (I420 chroma).
 * One thing is read from the photo's pixels: how far up a blink may pull (blinkReach).
 */
import type { Box, EnrolledPortrait, EyeLandmarks, Point } from '../face/PortraitTypes.js';

/** An orthonormal local frame: origin c, u axis (image-right-ish), v axis = u rotated +90deg (down-ish). */
export interface LocalFrame {
  cx: number;
  cy: number;
  /** unit u axis in image coordinates */
  ux: number;
  uy: number;
}

export function toLocal(f: LocalFrame, x: number, y: number): [number, number] {
  const dx = x - f.cx;
  const dy = y - f.cy;
  return [dx * f.ux + dy * f.uy, -dx * f.uy + dy * f.ux];
}

export function toImage(f: LocalFrame, u: number, v: number): [number, number] {
  return [f.cx + u * f.ux - v * f.uy, f.cy + u * f.uy + v * f.ux];
}

export interface MouthGeometry {
  frame: LocalFrame;
  /** half the corner-to-corner distance, px */
  a: number;
  /** v of the inner upper / inner lower / outer upper / outer lower lip centre, px */
  upperInner: number;
  lowerInner: number;
  upperOuter: number;
  lowerOuter: number;
  /** v of the chin */
  chin: number;
  /**
   * v above which the upper lip's fields do not reach: the nose's base (a quarter of the way from the
   * nose tip to the upper lip), kept 0.25-0.6 a above the upper lip
   */
  lipTop: number;
  /**
   * shape of the inner lower lip: v(u) = q (lowerInner - lowerCurve (1 - q)), q = 1 - (u/a)^2,
   * fitted to the lower half of the inner contour (0 = a parabola through the corners)
   */
  lowerCurve: number;
}

export interface EyeGeometry {
  frame: LocalFrame;
  /** half the corner-to-corner distance, px */
  halfWidth: number;
  /** distance of the upper / lower lid centre above / below the corner line, px (>0) */
  upper: number;
  lower: number;
  /** how far above the upper lid a blink pulls the skin down, px (blinkReach) */
  reach: number;
}

export interface FaceGeometry {
  /** warped region, portrait pixels, even-aligned */
  roi: Box;
  /** face ellipse (from the face oval), portrait pixels */
  face: { cx: number; cy: number; rx: number; ry: number };
  /** neck pivot for roll, portrait pixels */
  pivot: Point;
  mouth: MouthGeometry;
  eyes: [EyeGeometry, EyeGeometry];
  /** bands in ROI pixels: where local fields are computed */
  mouthBand: Box;
  eyesBand: Box;
  /** composite boxes in ROI pixels (inside the bands' rows) */
  mouthBox: Box;
  eyesBox: Box;
}

export interface GeometryOptions {
  /** margin added around the face oval on each side, as a fraction of the face width (default 0.12) */
  roiMargin: number;
}

function bad(msg: string): never {
  throw new Error(`portrait renderer: ${msg}`);
}

function finitePoint(name: string, p: Point | undefined): Point {
  if (!p || !Number.isFinite(p.x) || !Number.isFinite(p.y)) bad(`landmark ${name} is missing or not finite`);
  return p;
}

function frameFrom(a: Point, b: Point): LocalFrame {
  const dx = b.x - a.x;
  const dy = b.y - a.y;
  const len = Math.hypot(dx, dy);
  return { cx: (a.x + b.x) / 2, cy: (a.y + b.y) / 2, ux: dx / len, uy: dy / len };
}

function eyeGeometry(name: string, e: EyeLandmarks): Omit<EyeGeometry, 'reach'> {
  const pts = [e.outer, e.inner, e.upper, e.lower].map((p, i) => finitePoint(`${name}.${['outer', 'inner', 'upper', 'lower'][i]}`, p));
  // u axis points image-right whichever corner is outer
  const [l, r] = pts[0]!.x < pts[1]!.x ? [pts[0]!, pts[1]!] : [pts[1]!, pts[0]!];
  const frame = frameFrom(l, r);
  const halfWidth = Math.hypot(r.x - l.x, r.y - l.y) / 2;
  const upper = -toLocal(frame, pts[2]!.x, pts[2]!.y)[1];
  const lower = toLocal(frame, pts[3]!.x, pts[3]!.y)[1];
  if (halfWidth < 3) bad(`${name} is too small (${(2 * halfWidth).toFixed(1)} px wide)`);
  return { frame, halfWidth, upper: Math.max(upper, 1), lower: Math.max(lower, 0.5) };
}

/** Axis-aligned box (ROI pixels) around local-frame rectangle [u0,u1]x[v0,v1], clamped and even-aligned. */
function bandBox(f: LocalFrame, u0: number, u1: number, v0: number, v1: number, roi: Box): Box {
  const xs: number[] = [];
  const ys: number[] = [];
  for (const [u, v] of [[u0, v0], [u1, v0], [u0, v1], [u1, v1]] as const) {
    const [x, y] = toImage(f, u, v);
    xs.push(x - roi.x);
    ys.push(y - roi.y);
  }
  return evenBox(Math.min(...xs), Math.min(...ys), Math.max(...xs), Math.max(...ys), roi.width, roi.height);
}

function evenBox(x0: number, y0: number, x1: number, y1: number, maxW: number, maxH: number): Box {
  const ex0 = Math.max(0, Math.floor(x0 / 2) * 2);
  const ey0 = Math.max(0, Math.floor(y0 / 2) * 2);
  const ex1 = Math.min(maxW, Math.ceil(x1 / 2) * 2);
  const ey1 = Math.min(maxH, Math.ceil(y1 / 2) * 2);
  return { x: ex0, y: ey0, width: Math.max(2, ex1 - ex0), height: Math.max(2, ey1 - ey0) };
}

/** RGB samples of the portrait over u0..u1 x v0..v1 (px, 1 px apart) of a local frame; points outside the image are left out. */
export function frameSamples(p: EnrolledPortrait, f: LocalFrame, u0: number, u1: number, v0: number, v1: number): [number, number, number][] {
  const out: [number, number, number][] = [];
  for (let v = v0; v <= v1; v += 1) {
    for (let u = u0; u <= u1; u += 1) {
      const [x, y] = toImage(f, u, v).map(Math.round) as [number, number];
      if (x < 0 || y < 0 || x >= p.width || y >= p.height) continue;
      const i = (y * p.width + x) * 4;
      out.push([p.rgba[i]!, p.rgba[i + 1]!, p.rgba[i + 2]!]);
    }
  }
  return out;
}

/** the reach of an eye without anything in the way, in openings (upper + lower) */
export const BLINK_REACH = 0.8;

/**
 * How far above the upper lid a blink may pull the skin down (basis.ts blinkField), read from the
 * photo: 0.8 of the eye's opening, less where something dark lies closer above the lid (a glasses
 * rim; a brow low over a narrow eye), so that it stays put instead of bending with the lid. A row
 * counts as such when at least half of it, across the middle 1.6 half-widths of the eye, is darker
 * than 55 % of the skin there (the brighter half of what lies between 0.25 and 0.8 openings above
 * the lid); rows nearer the lid than 0.25 openings (the lashes, the lid's own line) are not read.
 */
function blinkReach(p: EnrolledPortrait, eye: Omit<EyeGeometry, 'reach'>): number {
  const open = eye.upper + eye.lower, full = BLINK_REACH * open;
  const rows: number[][] = [];
  for (let d = Math.ceil(0.25 * open); d <= full; d++) {
    const v = -eye.upper - d;
    rows.push(frameSamples(p, eye.frame, -0.8 * eye.halfWidth, 0.8 * eye.halfWidth, v, v).map(([r, g, b]) => (r + 2 * g + b) / 4));
  }
  const all = rows.flat().sort((a, b) => a - b);
  if (all.length === 0) return full;
  const bright = all.slice(Math.floor(all.length / 2));
  const skin = bright.reduce((a, b) => a + b, 0) / bright.length;
  const first = rows.findIndex((row) => row.length > 0 && row.filter((l) => l < 0.55 * skin).length >= 0.5 * row.length);
  if (first < 0) return full;
  const d = Math.ceil(0.25 * open) + first;
  return Math.max(0.1 * open + 1, d - 1.5);
}

export function faceGeometry(portrait: EnrolledPortrait, opts: GeometryOptions): FaceGeometry {
  const { width, height, landmarks: lm } = portrait;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 16 || height < 16 || width % 2 || height % 2) {
    bad(`portrait size must be even integers >= 16, got ${width}x${height}`);
  }
  if (!(portrait.rgba instanceof Uint8Array) || portrait.rgba.length !== width * height * 4) {
    bad(`portrait rgba must be a Uint8Array of ${width * height * 4} bytes`);
  }
  if (!(opts.roiMargin >= 0 && opts.roiMargin <= 1)) bad(`roiMargin must be in [0, 1], got ${opts.roiMargin}`);
  if (!lm?.faceOval || lm.faceOval.length < 3) bad('landmarks.faceOval needs at least 3 points');
  lm.faceOval.forEach((p, i) => finitePoint(`faceOval[${i}]`, p));
  const m = lm.mouth;
  if (!m) bad('landmarks.mouth is missing');
  for (const k of ['left', 'right', 'upperOuter', 'upperInner', 'lowerInner', 'lowerOuter'] as const) finitePoint(`mouth.${k}`, m[k]);
  const chinPt = finitePoint('chin', lm.chin);

  const ox = lm.faceOval.map((p) => p.x);
  const oy = lm.faceOval.map((p) => p.y);
  const fx0 = Math.min(...ox), fx1 = Math.max(...ox), fy0 = Math.min(...oy), fy1 = Math.max(...oy);
  const faceW = fx1 - fx0;
  const faceH = fy1 - fy0;
  if (faceW < 24 || faceH < 24) bad(`face oval is too small (${faceW.toFixed(0)}x${faceH.toFixed(0)} px)`);
  const face = { cx: (fx0 + fx1) / 2, cy: (fy0 + fy1) / 2, rx: faceW / 2, ry: faceH / 2 };

  const marg = opts.roiMargin * faceW;
  const roi = evenBox(fx0 - marg, fy0 - marg, fx1 + marg, fy1 + marg, width, height);

  const [ml, mr] = m.left.x < m.right.x ? [m.left, m.right] : [m.right, m.left];
  const mf = frameFrom(ml, mr);
  const v = (p: Point) => toLocal(mf, p.x, p.y)[1];
  const mouth: MouthGeometry = {
    frame: mf,
    a: Math.hypot(mr.x - ml.x, mr.y - ml.y) / 2,
    upperInner: v(m.upperInner),
    lowerInner: Math.max(v(m.lowerInner), v(m.upperInner)),
    upperOuter: Math.min(v(m.upperOuter), v(m.upperInner) - 1),
    lowerOuter: Math.max(v(m.lowerOuter), v(m.lowerInner) + 1),
    chin: Math.max(v(chinPt), v(m.lowerOuter) + 2),
    lipTop: 0,
    lowerCurve: 0,
  };
  const nose = v(finitePoint('noseTip', lm.noseTip));
  mouth.lipTop = Math.min(mouth.upperOuter - 0.25 * mouth.a, Math.max(mouth.upperOuter - 0.6 * mouth.a, nose + 0.25 * (mouth.upperOuter - nose)));
  if (mouth.a < 4) bad(`mouth is too small (${(2 * mouth.a).toFixed(1)} px wide)`);
  mouth.lowerCurve = fitLowerCurve(mouth, m.innerContour ?? []);

  const eyes = [eyeGeometry('leftEye', lm.leftEye), eyeGeometry('rightEye', lm.rightEye)].map((e) => ({ ...e, reach: blinkReach(portrait, e) })) as [EyeGeometry, EyeGeometry];
  const pivot = { x: face.cx, y: fy1 + 0.15 * faceH };

  const a = mouth.a;
  const mouthBandRaw = bandBox(mf, -2.1 * a, 2.1 * a, mouth.upperOuter - 0.9 * a, mouth.chin + 0.75 * a, roi);
  const eyeBoxes = eyes.map((e) => {
    const open = e.upper + e.lower;
    return bandBox(e.frame, -1.5 * e.halfWidth, 1.5 * e.halfWidth, -e.upper - 1.6 * open, e.lower + 0.8 * open, roi);
  });
  const eyesBand = union(eyeBoxes[0]!, eyeBoxes[1]!);
  // bands must not share rows: the local field is assembled row band by row band
  const mouthTop = Math.max(mouthBandRaw.y, eyesBand.y + eyesBand.height);
  const mouthBand = { ...mouthBandRaw, y: mouthTop, height: mouthBandRaw.y + mouthBandRaw.height - mouthTop };
  if (mouthBand.height < 8) bad('eyes and mouth are too close together to render');

  const shift = 0.3 * a;
  const mouthBox = clampInside(bandBox(mf, -1.25 * a - shift, 1.25 * a + shift,
    mouth.upperInner - 0.14 * a - 3 - shift, mouth.lowerInner + 0.85 * a + 3 + shift, roi), mouthBand);
  const eyesBox = clampInside(union(...(eyes.map((e) => bandBox(e.frame, -1.25 * e.halfWidth - shift, 1.25 * e.halfWidth + shift,
    -e.upper - 3 - shift, e.lower + 3 + shift, roi)) as [Box, Box])), eyesBand);
  return { roi, face, pivot, mouth, eyes, mouthBand, eyesBand, mouthBox, eyesBox };
}

function union(a: Box, b: Box): Box {
  const x = Math.min(a.x, b.x), y = Math.min(a.y, b.y);
  return { x, y, width: Math.max(a.x + a.width, b.x + b.width) - x, height: Math.max(a.y + a.height, b.y + b.height) - y };
}

/** b clipped to lie inside `outer` (both even-aligned, so the result is too). */
function clampInside(b: Box, outer: Box): Box {
  const x0 = Math.max(b.x, outer.x), y0 = Math.max(b.y, outer.y);
  const x1 = Math.min(b.x + b.width, outer.x + outer.width), y1 = Math.min(b.y + b.height, outer.y + outer.height);
  return { x: x0, y: y0, width: Math.max(2, x1 - x0), height: Math.max(2, y1 - y0) };
}

/** Least-squares lowerCurve (see MouthGeometry) from the inner-contour points below the mid line. */
function fitLowerCurve(m: MouthGeometry, contour: Point[]): number {
  let num = 0, den = 0;
  const mid = (m.upperInner + m.lowerInner) / 2;
  for (const p of contour) {
    if (!Number.isFinite(p?.x) || !Number.isFinite(p?.y)) continue;
    const [u, v] = toLocal(m.frame, p.x, p.y);
    const q = 1 - (u / m.a) ** 2;
    if (q <= 0.05 || v < mid * q) continue;
    const r = v - m.lowerInner * q; // what a plain parabola misses
    const b = -q * (1 - q);
    num += r * b;
    den += b * b;
  }
  if (den < 1e-6) return 0;
  // bounded so the curve stays between the corners and below them
  return Math.max(-m.lowerInner, Math.min(m.lowerInner, num / den));
}
