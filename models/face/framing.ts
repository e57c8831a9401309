/**
 * Framing a portrait in a frame of any shape (issue 15): the face is placed by a rule (its height
 * as a fraction of the frame's, its centre's height from the top), the photo covers the frame,
 * and where the photo does not reach (a square photo in a 9:16 frame) the frame is completed from
 * the photo's own edges, blurred, so it reads as an out-of-focus background rather than bars or
 * streaks. Pure.
 */
import type { Box } from './PortraitTypes.js';
import { PortraitError } from './errors.js';
import type { RgbaImage } from './image.js';

export interface FrameRule {
  /** output size, px (even) */
  width: number;
  height: number;
  /** the face box's height as a fraction of the frame's height */
  faceHeight: number;
  /** the face box's centre, from the top, as a fraction of the frame's height */
  faceCentreY: number;
}

/** the most a photo is enlarged at enrolment; a smaller face is refused for the asked size */
export const MAX_UPSCALE = 4;

/** The source box (may reach past the image) that the frame shows, by the rule. */
export function framedCrop(face: Box, rule: FrameRule): Box {
  const height = face.height / rule.faceHeight;
  const width = (height * rule.width) / rule.height;
  return { x: face.x + face.width / 2 - width / 2, y: face.y + face.height / 2 - rule.faceCentreY * height, width, height };
}

/** PortraitError 'face-too-small' when the frame would enlarge the photo more than MAX_UPSCALE. */
export function checkUpscale(face: Box, crop: Box, rule: FrameRule): void {
  const scale = rule.height / crop.height;
  if (scale > MAX_UPSCALE) {
    throw new PortraitError(
      'face-too-small',
      `the face is ${Math.round(face.height)} px tall in the photo; a ${rule.width}x${rule.height} frame with the face at ${Math.round(rule.faceHeight * 100)} % of its height would enlarge the photo ${scale.toFixed(1)}x (at most ${MAX_UPSCALE}x): use a larger photo, or a smaller avatar.width/height`,
    );
  }
}

/**
 * Where `out` (the crop scaled to the frame, edges repeated past the image) shows parts beyond the
 * source image, it becomes a blur of itself, feathered in over a few per cent of the frame.
 * Returns `out` unchanged when the crop lies inside the image.
 */
export function completeBeyondImage(out: RgbaImage, crop: Box, src: { width: number; height: number }): RgbaImage {
  const { width: W, height: H } = out;
  const sx = crop.width / W;
  const sy = crop.height / H;
  // output px past the image's edge, per column and per row (0 inside)
  const past = (i: number, s: number, from: number, size: number) => {
    const p = from + (i + 0.5) * s;
    return Math.max(0, -p, p - size) / s;
  };
  const colPast = Float32Array.from({ length: W }, (_, i) => past(i, sx, crop.x, src.width));
  const rowPast = Float32Array.from({ length: H }, (_, j) => past(j, sy, crop.y, src.height));
  if (colPast.every((v) => v === 0) && rowPast.every((v) => v === 0)) return out;
  const radius = Math.max(4, Math.round(Math.max(W, H) / 24));
  const blurred = boxBlur(boxBlur(out.rgba, W, H, radius), W, H, radius);
  const feather = Math.max(2, Math.round(Math.max(W, H) / 40));
  const rgba = out.rgba.slice();
  for (let j = 0; j < H; j++) {
    for (let i = 0; i < W; i++) {
      const d = Math.max(colPast[i]!, rowPast[j]!);
      if (d === 0) continue;
      const a = Math.min(1, d / feather);
      const o = (j * W + i) * 4;
      for (let k = 0; k < 3; k++) rgba[o + k] = Math.round(rgba[o + k]! * (1 - a) + blurred[o + k]! * a);
    }
  }
  return { width: W, height: H, rgba };
}

/** A separable box blur of RGBA (edges repeated), radius r. */
function boxBlur(src: Uint8Array, W: number, H: number, r: number): Uint8Array {
  const tmp = new Float32Array(src.length);
  const out = new Uint8Array(src.length);
  const n = 2 * r + 1;
  for (let j = 0; j < H; j++) {
    const row = j * W * 4;
    for (let k = 0; k < 4; k++) {
      let acc = 0;
      for (let t = -r; t <= r; t++) acc += src[row + Math.min(W - 1, Math.max(0, t)) * 4 + k]!;
      for (let i = 0; i < W; i++) {
        tmp[row + i * 4 + k] = acc / n;
        acc += src[row + Math.min(W - 1, i + r + 1) * 4 + k]! - src[row + Math.max(0, i - r) * 4 + k]!;
      }
    }
  }
  for (let i = 0; i < W; i++) {
    for (let k = 0; k < 4; k++) {
      let acc = 0;
      for (let t = -r; t <= r; t++) acc += tmp[Math.min(H - 1, Math.max(0, t)) * W * 4 + i * 4 + k]!;
      for (let j = 0; j < H; j++) {
        out[j * W * 4 + i * 4 + k] = Math.round(acc / n);
        acc += tmp[Math.min(H - 1, j + r + 1) * W * 4 + i * 4 + k]! - tmp[Math.max(0, j - r) * W * 4 + i * 4 + k]!;
      }
    }
  }
  return out;
}
