/**
 * Photos as people take them: the EXIF orientation a phone writes instead of turning the pixels
 * (JPEG APP1 "Exif", PNG eXIf chunk), applied to decoded RGBA; and transparency flattened onto
 * white before anything is scaled or looked at (a cut-out ID photo: no dark fringe where
 * transparent pixels would otherwise be averaged in with their hidden colour). Pure.
 */
import type { RgbaImage } from './image.js';

/** The EXIF orientation (1..8) of PNG or JPEG bytes; 1 (as stored) when there is none or it is unreadable. */
export function exifOrientation(bytes: Uint8Array, format: 'png' | 'jpeg'): number {
  const tiff = format === 'jpeg' ? jpegExif(bytes) : pngExif(bytes);
  if (!tiff) return 1;
  const o = tiffOrientation(tiff);
  return o >= 1 && o <= 8 ? o : 1;
}

function jpegExif(b: Uint8Array): Uint8Array | undefined {
  let p = 2;
  while (p + 4 <= b.length && b[p] === 0xff) {
    const marker = b[p + 1]!;
    if (marker === 0xd9 || marker === 0xda) return undefined; // no EXIF before the image data
    const length = (b[p + 2]! << 8) | b[p + 3]!;
    if (marker === 0xe1 && length >= 8 && String.fromCharCode(...b.subarray(p + 4, p + 10)) === 'Exif\0\0') {
      return b.subarray(p + 10, Math.min(b.length, p + 2 + length));
    }
    p += 2 + length;
  }
  return undefined;
}

function pngExif(b: Uint8Array): Uint8Array | undefined {
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  let p = 8;
  while (p + 8 <= b.length) {
    const length = view.getUint32(p);
    const type = String.fromCharCode(b[p + 4]!, b[p + 5]!, b[p + 6]!, b[p + 7]!);
    if (type === 'eXIf') return b.subarray(p + 8, Math.min(b.length, p + 8 + length));
    if (type === 'IDAT' || type === 'IEND') return undefined;
    p += 12 + length;
  }
  return undefined;
}

/** Tag 0x0112 of IFD0 in a TIFF structure; 0 when absent or out of bounds. */
function tiffOrientation(t: Uint8Array): number {
  if (t.length < 8) return 0;
  const little = t[0] === 0x49 && t[1] === 0x49;
  if (!little && !(t[0] === 0x4d && t[1] === 0x4d)) return 0;
  const view = new DataView(t.buffer, t.byteOffset, t.byteLength);
  const u16 = (o: number) => (o + 2 <= t.length ? view.getUint16(o, little) : -1);
  const u32 = (o: number) => (o + 4 <= t.length ? view.getUint32(o, little) : -1);
  if (u16(2) !== 42) return 0;
  const ifd = u32(4);
  const n = u16(ifd);
  if (ifd < 0 || n < 0) return 0;
  for (let i = 0; i < n; i++) {
    const e = ifd + 2 + i * 12;
    if (u16(e) === 0x0112 && u16(e + 2) === 3) return u16(e + 8);
  }
  return 0;
}

/**
 * The picture as it is meant to be seen. For each orientation, where the stored row 0 and column
 * 0 are on screen: 2 top/right, 3 bottom/right, 4 bottom/left, 5 left/top, 6 right/top (a phone
 * held upright), 7 right/bottom, 8 left/bottom.
 */
export function applyOrientation(img: RgbaImage, orientation: number): RgbaImage {
  if (orientation <= 1 || orientation > 8) return img;
  const { width: W, height: H } = img;
  const swap = orientation >= 5;
  const outW = swap ? H : W;
  const outH = swap ? W : H;
  const bytes = img.rgba.byteOffset % 4 === 0 ? img.rgba : img.rgba.slice(); // a 4-byte-aligned view
  const src = new Uint32Array(bytes.buffer, bytes.byteOffset, W * H);
  const outBytes = new Uint8Array(outW * outH * 4);
  const out = new Uint32Array(outBytes.buffer);
  for (let y = 0; y < outH; y++) {
    for (let x = 0; x < outW; x++) {
      let sx: number;
      let sy: number;
      switch (orientation) {
        case 2: sx = W - 1 - x; sy = y; break;
        case 3: sx = W - 1 - x; sy = H - 1 - y; break;
        case 4: sx = x; sy = H - 1 - y; break;
        case 5: sx = y; sy = x; break;
        case 6: sx = y; sy = H - 1 - x; break;
        case 7: sx = W - 1 - y; sy = H - 1 - x; break;
        default: sx = W - 1 - y; sy = x; break; // 8
      }
      out[y * outW + x] = src[sy * W + sx]!;
    }
  }
  return { width: outW, height: outH, rgba: outBytes };
}

/** Composites any transparency onto white (opaque images come back as they are). */
export function flattenAlpha(img: RgbaImage): RgbaImage {
  const s = img.rgba;
  let opaque = true;
  for (let i = 3; i < s.length; i += 4) {
    if (s[i] !== 255) {
      opaque = false;
      break;
    }
  }
  if (opaque) return img;
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i += 4) {
    const a = s[i + 3]! / 255;
    out[i] = Math.round(s[i]! * a + 255 * (1 - a));
    out[i + 1] = Math.round(s[i + 1]! * a + 255 * (1 - a));
    out[i + 2] = Math.round(s[i + 2]! * a + 255 * (1 - a));
    out[i + 3] = 255;
  }
  return { width: img.width, height: img.height, rgba: out };
}
