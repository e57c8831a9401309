/**
 * A synthetic EnrolledPortrait for renderer tests: a drawn face (skin ellipse, neck, hair, brows,
 * two eyes with dark pupils, red lips with a dark seam) on a textured background, with named
 * landmarks that match the drawing. The 478-point mesh is filled with the few MediaPipe indices
 * that have a named counterpart here; the rest are at the face centre (renderers must not rely on it).
 */
import type { EnrolledPortrait, EyeLandmarks, Point } from '../../models/face/PortraitTypes.js';

export interface SyntheticFaceOptions {
  /** frame size, px (even) */
  width?: number;
  height?: number;
  /** face centre and half-axes, px */
  cx?: number;
  cy?: number;
  rx?: number;
  ry?: number;
  /** px between the inner lips, showing upper teeth (a smile); 0 (default): the lips meet */
  teeth?: number;
  /** every colour times this (a dim photo: < 1; default 1) */
  exposure?: number;
  /** the skin's colour, lit (default a light skin, 224, 178, 150) */
  skin?: [number, number, number];
  /** glasses: a dark rim 3 px thick, half the eye's opening above each upper lid (default none) */
  glasses?: boolean;
}

type Rgb = [number, number, number];

export function syntheticPortrait(opts: SyntheticFaceOptions = {}): EnrolledPortrait {
  const W = opts.width ?? 512, H = opts.height ?? 512;
  const cx = opts.cx ?? W / 2, cy = opts.cy ?? H * 0.5;
  const rx = opts.rx ?? W * 0.19, ry = opts.ry ?? H * 0.25;
  const rgba = new Uint8Array(W * H * 4);

  // geometry (relative to the face ellipse)
  const eyeY = cy - 0.12 * ry, eyeDx = 0.42 * rx, eyeHw = 0.2 * rx, eyeHu = 0.055 * ry, eyeHl = 0.05 * ry;
  const mouthY = cy + 0.5 * ry, mouthHw = 0.38 * rx, upperH = 0.075 * ry, lowerH = 0.09 * ry;
  const chinY = cy + ry;
  // a smile: the lips part by `teeth` px in the middle (an ellipse of teeth between them)
  const g2 = (opts.teeth ?? 0) / 2;

  const skin: Rgb = opts.skin ?? [224, 178, 150];
  const put = (i: number, c: Rgb, alpha: number) => {
    if (alpha <= 0) return;
    const a = Math.min(1, alpha);
    for (let k = 0; k < 3; k++) rgba[i + k] = Math.round(rgba[i + k]! * (1 - a) + c[k]! * a);
  };
  // coverage of an implicit shape with signed distance-like value s (px, negative inside)
  const cover = (s: number) => Math.max(0, Math.min(1, 0.5 - s));
  const ell = (x: number, y: number, ex: number, ey: number, ax: number, ay: number) => {
    const d = Math.hypot((x - ex) / ax, (y - ey) / ay);
    return (d - 1) * Math.min(ax, ay);
  };

  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const i = (y * W + x) * 4;
      // textured background: diagonal gradient + checker + stripes
      const chk = ((x >> 4) + (y >> 4)) & 1;
      rgba[i] = 60 + ((x + y) * 60) / (W + H) + chk * 25;
      rgba[i + 1] = 90 + (y * 50) / H + 15 * Math.sin(x / 7);
      rgba[i + 2] = 120 + (x * 40) / W - chk * 20;
      rgba[i + 3] = 255;
      // neck and shoulders
      put(i, [200, 150, 125], cover(Math.abs(x - cx) - 0.5 * rx) * (y > cy ? 1 : 0));
      put(i, [40, 60, 110], cover(ell(x, y, cx, H * 1.08, 0.75 * W, 0.22 * H)));
      // hair behind the head
      put(i, [70, 45, 30], cover(ell(x, y, cx, cy - 0.12 * ry, rx * 1.14, ry * 1.02)));
      // face, with a little shading towards the edge
      const fd = ell(x, y, cx, cy, rx, ry);
      const shade = 1 - 0.12 * Math.max(0, Math.min(1, (fd + 0.5 * rx) / (0.5 * rx)));
      put(i, [skin[0] * shade, skin[1] * shade, skin[2] * shade], cover(fd));
      // brows
      for (const s of [-1, 1]) put(i, [80, 50, 35], cover(ell(x, y, cx + s * eyeDx, eyeY - 3.6 * eyeHu, 1.2 * eyeHw, 0.35 * eyeHu)));
      // eyes: sclera, iris, pupil, upper lid line
      for (const s of [-1, 1]) {
        const ex = cx + s * eyeDx;
        const sclera = y < eyeY ? ell(x, y, ex, eyeY, eyeHw, eyeHu) : ell(x, y, ex, eyeY, eyeHw, eyeHl);
        put(i, [240, 238, 232], cover(sclera));
        put(i, [90, 60, 40], cover(Math.max(ell(x, y, ex, eyeY, 0.45 * eyeHw, 0.45 * eyeHw), sclera)));
        put(i, [15, 10, 10], cover(Math.max(ell(x, y, ex, eyeY, 0.2 * eyeHw, 0.2 * eyeHw), sclera)));
        if (y < eyeY) put(i, [60, 35, 30], cover(Math.abs(sclera) - 0.8));
      }
      if (opts.glasses) {
        const rimY = eyeY - eyeHu - 0.5 * (eyeHu + eyeHl);
        for (const s of [-1, 1]) put(i, [30, 25, 25], cover(Math.max(Math.abs(y - rimY) - 1.5, Math.abs(x - (cx + s * eyeDx)) - 1.4 * eyeHw)));
      }
      // nose: a soft shadow
      put(i, [170, 120, 100], 0.5 * cover(ell(x, y, cx, cy + 0.22 * ry, 0.14 * rx, 0.06 * ry)));
      // lips: upper and lower halves of an ellipse, dark seam (or, smiling, the upper teeth between them)
      const lip = y < mouthY ? ell(x, y, cx, mouthY, mouthHw, g2 + upperH) : ell(x, y, cx, mouthY, mouthHw, g2 + lowerH);
      put(i, y < mouthY ? [170, 60, 70] : [190, 75, 85], cover(lip));
      if (g2 > 0) put(i, [236, 232, 220], cover(ell(x, y, cx, mouthY, 0.95 * mouthHw, g2)));
      else put(i, [90, 30, 35], cover(Math.max(Math.abs(y - mouthY) - 0.7, lip)));
    }
  }

  const ex = opts.exposure ?? 1;
  if (ex !== 1) for (let i = 0; i < rgba.length; i += 4) for (let k = 0; k < 3; k++) rgba[i + k] = Math.round(rgba[i + k]! * ex);

  const P = (x: number, y: number): Point => ({ x, y });
  const eye = (s: number): EyeLandmarks => {
    const ex = cx + s * eyeDx;
    // subject's left eye is on the image's right: its outer corner is further right
    return { outer: P(ex + s * eyeHw, eyeY), inner: P(ex - s * eyeHw, eyeY), upper: P(ex, eyeY - eyeHu), lower: P(ex, eyeY + eyeHl) };
  };
  const arc = (n: number, ex: number, ey: number, ax: number, ay: number, a0: number, a1: number) =>
    Array.from({ length: n }, (_, k) => { const t = a0 + ((a1 - a0) * k) / (n - 1); return P(ex + ax * Math.cos(t), ey + ay * Math.sin(t)); });
  const faceOval = arc(36, cx, cy, rx, ry, -Math.PI / 2, (3 * Math.PI) / 2).slice(0, 35);
  const upperY = mouthY - g2, lowerY = mouthY + g2;
  const outerContour = [...arc(12, cx, mouthY, mouthHw, g2 + upperH, Math.PI, 2 * Math.PI), ...arc(12, cx, mouthY, mouthHw, g2 + lowerH, 0, Math.PI).slice(1, 11)];
  const innerContour = arc(16, cx, mouthY, mouthHw * 0.9, Math.max(0.5, g2), 0, 2 * Math.PI).slice(0, 15);
  const mouth = {
    left: P(cx + mouthHw, mouthY), right: P(cx - mouthHw, mouthY),
    upperOuter: P(cx, upperY - upperH), upperInner: P(cx, upperY),
    lowerInner: P(cx, lowerY), lowerOuter: P(cx, lowerY + lowerH),
    outerContour, innerContour,
  };
  const mesh = new Float32Array(478 * 3);
  for (let k = 0; k < 478; k++) { mesh[3 * k] = cx; mesh[3 * k + 1] = cy; }
  const set = (k: number, p: Point) => { mesh[3 * k] = p.x; mesh[3 * k + 1] = p.y; };
  set(0, mouth.upperOuter); set(13, mouth.upperInner); set(14, mouth.lowerInner); set(17, mouth.lowerOuter);
  set(61, mouth.right); set(291, mouth.left); set(1, P(cx, cy + 0.22 * ry)); set(152, P(cx, chinY));
  const le = eye(1), re = eye(-1);
  set(263, le.outer); set(362, le.inner); set(386, le.upper); set(374, le.lower);
  set(33, re.outer); set(133, re.inner); set(159, re.upper); set(145, re.lower);

  return {
    id: `synthetic-${W}x${H}-${cx}-${cy}-${rx}-${ry}${g2 > 0 ? `-teeth${2 * g2}` : ''}${ex !== 1 ? `-x${ex}` : ''}`,
    width: W, height: H, rgba,
    landmarks: {
      mesh,
      faceBox: { x: cx - rx, y: cy - ry, width: 2 * rx, height: 2 * ry },
      faceOval, mouth, leftEye: le, rightEye: re,
      noseTip: P(cx, cy + 0.22 * ry), chin: P(cx, chinY), roll: 0,
    },
    source: { width: W, height: H, crop: { x: 0, y: 0, width: W, height: H } },
    confidence: 1,
  };
}
