/** Test images made on the fly, and a landmark overlay for looking at enrolment results. */
import { readFileSync } from 'node:fs';
import type { Point, PortraitLandmarks } from '../../models/face/PortraitTypes.js';
import { decodeImage, encodePng, type RgbaImage } from '../../models/face/image.js';
import { ASTRONAUT } from '../helpers/speech.js';

export function astronautBytes(): Buffer {
  return readFileSync(ASTRONAUT);
}

export function astronaut(): RgbaImage {
  return decodeImage(astronautBytes());
}

/** An image whose pixel (x, y) is `colour(x, y)` = [r, g, b] (opaque). */
export function makeImage(width: number, height: number, colour: (x: number, y: number) => [number, number, number]): RgbaImage {
  const rgba = new Uint8Array(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const [r, g, b] = colour(x, y);
      const o = (y * width + x) * 4;
      rgba[o] = r; rgba[o + 1] = g; rgba[o + 2] = b; rgba[o + 3] = 255;
    }
  }
  return { width, height, rgba };
}

/** Deterministic pseudo-random bytes (xorshift32), so failures reproduce. */
export function noiseBytes(n: number, seed = 0x9e3779b9): Uint8Array {
  const out = new Uint8Array(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0;
    out[i] = s & 0xff;
  }
  return out;
}

/** A PNG file that is only a signature and an IHDR chunk declaring width x height (no pixels). */
export function pngHeaderOnly(width: number, height: number): Uint8Array {
  const b = Buffer.alloc(33);
  Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]).copy(b, 0);
  b.writeUInt32BE(13, 8);
  b.write('IHDR', 12, 'latin1');
  b.writeUInt32BE(width, 16);
  b.writeUInt32BE(height, 20);
  b[24] = 8; // bit depth
  b[25] = 6; // RGBA
  return b; // the CRC is left zero: the size check must come before any decoding
}

/** A copy of `img` with crosses of `size` px in `rgb` at `points`. */
export function drawPoints(img: RgbaImage, points: Point[], rgb: [number, number, number], size = 3): RgbaImage {
  const rgba = img.rgba.slice();
  for (const p of points) {
    const cx = Math.round(p.x - 0.5), cy = Math.round(p.y - 0.5);
    for (let d = -size; d <= size; d++) {
      for (const [x, y] of [[cx + d, cy], [cx, cy + d]] as const) {
        if (x < 0 || y < 0 || x >= img.width || y >= img.height) continue;
        const o = (y * img.width + x) * 4;
        rgba[o] = rgb[0]; rgba[o + 1] = rgb[1]; rgba[o + 2] = rgb[2]; rgba[o + 3] = 255;
      }
    }
  }
  return { width: img.width, height: img.height, rgba };
}

/** PNG of a portrait with its landmarks: lips red/yellow, eyes green, nose/chin blue, oval white. */
export function landmarkOverlayPng(img: RgbaImage, lm: PortraitLandmarks): Buffer {
  let out = drawPoints(img, lm.faceOval, [255, 255, 255], 2);
  out = drawPoints(out, lm.mouth.outerContour, [255, 0, 0], 2);
  out = drawPoints(out, lm.mouth.innerContour, [255, 255, 0], 2);
  for (const e of [lm.leftEye, lm.rightEye]) out = drawPoints(out, [e.outer, e.inner, e.upper, e.lower], [0, 255, 0], 3);
  out = drawPoints(out, [lm.noseTip, lm.chin], [0, 128, 255], 4);
  return encodePng(out);
}
