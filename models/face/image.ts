/**
 * Still images for enrolment: PNG / JPEG bytes -> RGBA (upright by its EXIF orientation,
 * transparency flattened onto white: models/face/orientation.ts), crop + scale, PNG out (for
 * debugging and tests).
 * The format is sniffed from the magic numbers, never from a file name, and the size limits are
 * checked from the header before anything is decoded.
 */
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import type { Box } from './PortraitTypes.js';
import { PortraitError } from './errors.js';
import { applyOrientation, exifOrientation, flattenAlpha } from './orientation.js';

export interface RgbaImage {
  width: number;
  height: number;
  /** RGBA, 8 bits per channel, row-major, no padding */
  rgba: Uint8Array;
}

export interface DecodeLimits {
  /** largest accepted file, bytes (default 20 MiB) */
  maxBytes?: number;
  /** largest accepted width * height, pixels (default 40 000 000) */
  maxPixels?: number;
}

export const DEFAULT_MAX_BYTES = 20 * 1024 * 1024;
export const DEFAULT_MAX_PIXELS = 40_000_000;

export type ImageFormat = 'png' | 'jpeg';

const PNG_MAGIC = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/** 'png', 'jpeg' or undefined, from the first bytes. */
export function sniffFormat(bytes: Uint8Array): ImageFormat | undefined {
  if (bytes.length >= 8 && PNG_MAGIC.every((b, i) => bytes[i] === b)) return 'png';
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'jpeg';
  return undefined;
}

/** Width and height from the PNG IHDR chunk or the JPEG SOF segment, without decoding pixels. */
export function readImageSize(bytes: Uint8Array, format: ImageFormat): { width: number; height: number } {
  const size = format === 'png' ? readPngSize(bytes) : readJpegSize(bytes);
  if (size.width === 0 || size.height === 0) {
    throw new PortraitError('decode-failed', `${format.toUpperCase()} header declares an empty image (${size.width}x${size.height})`);
  }
  return size;
}

function readPngSize(b: Uint8Array): { width: number; height: number } {
  // signature (8) + chunk length (4) + "IHDR" (4) + width (4) + height (4)
  if (b.length < 24) throw new PortraitError('decode-failed', 'PNG is truncated before the end of its IHDR header');
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const type = String.fromCharCode(b[12]!, b[13]!, b[14]!, b[15]!);
  if (type !== 'IHDR') throw new PortraitError('decode-failed', `PNG does not start with an IHDR chunk (found "${type}")`);
  return { width: view.getUint32(16), height: view.getUint32(20) };
}

function readJpegSize(b: Uint8Array): { width: number; height: number } {
  let p = 2;
  while (p + 4 <= b.length) {
    if (b[p] !== 0xff) throw new PortraitError('decode-failed', `JPEG marker expected at byte ${p}`);
    const marker = b[p + 1]!;
    if (marker === 0xff) { p += 1; continue; } // fill byte
    // markers without a length field: TEM, RSTn, SOI
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd8)) { p += 2; continue; }
    if (marker === 0xd9 || marker === 0xda) break; // EOI / SOS before any frame header
    const length = (b[p + 2]! << 8) | b[p + 3]!;
    // SOF0..SOF15 except DHT (C4), JPG (C8), DAC (CC)
    const isSof = marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
    if (isSof) {
      if (p + 9 > b.length) break;
      return { height: (b[p + 5]! << 8) | b[p + 6]!, width: (b[p + 7]! << 8) | b[p + 8]! };
    }
    p += 2 + length;
  }
  throw new PortraitError('decode-failed', 'JPEG has no frame header (SOF) before its image data or end: truncated or corrupt');
}

/**
 * Decodes PNG or JPEG bytes to RGBA as the picture is meant to be seen: turned by its EXIF
 * orientation, opaque. Throws PortraitError (not-an-image, image-too-large, decode-failed).
 */
export function decodeImage(bytes: Uint8Array, limits: DecodeLimits = {}): RgbaImage {
  const img = decodeStored(bytes, limits);
  return flattenAlpha(applyOrientation(img, exifOrientation(bytes, sniffFormat(bytes)!)));
}

/** The pixels as stored. */
function decodeStored(bytes: Uint8Array, limits: DecodeLimits): RgbaImage {
  const maxBytes = limits.maxBytes ?? DEFAULT_MAX_BYTES;
  const maxPixels = limits.maxPixels ?? DEFAULT_MAX_PIXELS;
  if (bytes.length > maxBytes) {
    throw new PortraitError('image-too-large', `image file is ${bytes.length} bytes, more than the limit of ${maxBytes} bytes`);
  }
  const format = sniffFormat(bytes);
  if (!format) {
    throw new PortraitError('not-an-image', 'expected a PNG or JPEG image (the bytes start with neither signature)');
  }
  const { width, height } = readImageSize(bytes, format);
  if (width * height > maxPixels) {
    throw new PortraitError(
      'image-too-large',
      `image is ${width}x${height} = ${width * height} pixels, more than the limit of ${maxPixels} pixels`,
    );
  }
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  try {
    if (format === 'png') {
      // pngjs always hands back 8-bit RGBA (palette, grey and 16-bit are converted)
      const png = PNG.sync.read(buf);
      return { width: png.width, height: png.height, rgba: new Uint8Array(png.data.buffer, png.data.byteOffset, png.data.byteLength) };
    }
    const img = jpeg.decode(buf, {
      useTArray: true,
      formatAsRGBA: true,
      maxResolutionInMP: Math.ceil(maxPixels / 1e6),
      // RGBA output plus the decoder's component planes, with room to spare
      maxMemoryUsageInMB: Math.max(512, Math.ceil((maxPixels * 8) / 1e6)),
    });
    return { width: img.width, height: img.height, rgba: img.data };
  } catch (e) {
    if (e instanceof PortraitError) throw e;
    const reason = e instanceof Error ? e.message : String(e);
    throw new PortraitError('decode-failed', `could not decode the ${format.toUpperCase()} image: ${reason}`, { cause: e });
  }
}

/** PNG bytes of an RGBA image (8-bit RGBA). */
export function encodePng(img: RgbaImage): Buffer {
  const png = new PNG({ width: img.width, height: img.height });
  png.data = Buffer.from(img.rgba.buffer, img.rgba.byteOffset, img.rgba.byteLength);
  return PNG.sync.write(png);
}

/** Source taps of one output pixel along one axis: indices into the source and their weights (sum 1). */
interface AxisTaps {
  start: Int32Array; // first tap of output i in `index` / `weight`
  count: Int32Array;
  index: Int32Array;
  weight: Float32Array;
}

/**
 * Taps that map `outSize` output pixels onto the source span [from, from + span) of an axis of
 * `srcSize` pixels. Shrinking averages the covered area (each source pixel weighted by how much of
 * it the output pixel covers), which does not alias; enlarging interpolates linearly between pixel
 * centres. Source positions outside the image repeat the edge pixel.
 */
function axisTaps(from: number, span: number, srcSize: number, outSize: number): AxisTaps {
  const scale = span / outSize;
  const perOut = scale > 1 ? Math.ceil(scale) + 2 : 2;
  const start = new Int32Array(outSize);
  const count = new Int32Array(outSize);
  const index = new Int32Array(outSize * perOut);
  const weight = new Float32Array(outSize * perOut);
  const clamp = (p: number) => Math.min(srcSize - 1, Math.max(0, p));
  let n = 0;
  for (let i = 0; i < outSize; i++) {
    start[i] = n;
    if (scale > 1) {
      const a = from + i * scale;
      const b = a + scale;
      for (let p = Math.floor(a); p < b; p++) {
        const w = Math.min(b, p + 1) - Math.max(a, p);
        if (w <= 1e-9) continue;
        index[n] = clamp(p);
        weight[n++] = w / scale;
      }
    } else {
      const c = from + (i + 0.5) * scale - 0.5;
      const p0 = Math.floor(c);
      const f = c - p0;
      index[n] = clamp(p0);
      weight[n++] = 1 - f;
      index[n] = clamp(p0 + 1);
      weight[n++] = f;
    }
    count[i] = n - start[i]!;
  }
  return { start, count, index, weight };
}

/**
 * Crops `srcBox` (source pixels; may be fractional and may reach past the edges, which repeat)
 * out of `src` and scales it to outW x outH. Colours are averaged as stored (not premultiplied):
 * meant for opaque photographs.
 */
export function resizeRgba(src: RgbaImage, srcBox: Box, outW: number, outH: number): RgbaImage {
  if (!Number.isInteger(outW) || !Number.isInteger(outH) || outW < 1 || outH < 1) {
    throw new RangeError(`resizeRgba: output size must be positive integers, got ${outW}x${outH}`);
  }
  if (!(srcBox.width > 0 && srcBox.height > 0)) {
    throw new RangeError(`resizeRgba: source box must have a positive size, got ${srcBox.width}x${srcBox.height}`);
  }
  const tx = axisTaps(srcBox.x, srcBox.width, src.width, outW);
  const ty = axisTaps(srcBox.y, srcBox.height, src.height, outH);
  // rows of the source the vertical pass reads
  let y0 = src.height;
  let y1 = -1;
  for (let k = 0; k < ty.index.length && k < ty.start[outH - 1]! + ty.count[outH - 1]!; k++) {
    y0 = Math.min(y0, ty.index[k]!);
    y1 = Math.max(y1, ty.index[k]!);
  }
  const rows = y1 - y0 + 1;
  const mid = new Float32Array(rows * outW * 4);
  const s = src.rgba;
  for (let r = 0; r < rows; r++) {
    const srcRow = (y0 + r) * src.width * 4;
    const midRow = r * outW * 4;
    for (let i = 0; i < outW; i++) {
      let cr = 0, cg = 0, cb = 0, ca = 0;
      const end = tx.start[i]! + tx.count[i]!;
      for (let k = tx.start[i]!; k < end; k++) {
        const o = srcRow + tx.index[k]! * 4;
        const w = tx.weight[k]!;
        cr += s[o]! * w; cg += s[o + 1]! * w; cb += s[o + 2]! * w; ca += s[o + 3]! * w;
      }
      const m = midRow + i * 4;
      mid[m] = cr; mid[m + 1] = cg; mid[m + 2] = cb; mid[m + 3] = ca;
    }
  }
  const out = new Uint8Array(outW * outH * 4);
  for (let j = 0; j < outH; j++) {
    const end = ty.start[j]! + ty.count[j]!;
    for (let i = 0; i < outW * 4; i++) {
      let c = 0;
      for (let k = ty.start[j]!; k < end; k++) c += mid[(ty.index[k]! - y0) * outW * 4 + i]! * ty.weight[k]!;
      out[j * outW * 4 + i] = c < 0 ? 0 : c > 255 ? 255 : Math.round(c);
    }
  }
  return { width: outW, height: outH, rgba: out };
}
