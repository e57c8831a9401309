/**
 * Sonic's portrait preprocessing as the official code does it (src/dataset/test_preprocess.py,
 * image_audio_to_tensor), pure:
 *
 *   size       shorter side scaled to min_resolution, each side rounded to a multiple of 64
 *              (Python's round: halves to even)
 *   ref image  the portrait resized to that size (PIL LANCZOS), in [-1, 1]     -> VAE encoder
 *   face mask  the face box grown by `area` (1.1) around its centre, 1 inside, resized the same
 *              way (its edges ring a little, as the official's do)            -> UNet audio attention
 *   CLIP input the resized portrait resized again to 224 x 224 (LANCZOS, the aspect squeezed),
 *              then CLIP's normalisation (CLIPImageProcessor: no further resize or crop at 224)
 *
 * Our export serves one frame size (its manifest says which): a portrait whose official size
 * differs is first cropped, around its face, to the export's aspect ratio, and then resized to
 * exactly the export's size. A portrait already of that aspect (our enrolment's squares, for a
 * square export) goes through unchanged, as the official would take it.
 */
import type { Box } from '../face/PortraitTypes.js';
import { pilLanczos } from './pil-resize.js';

export const CLIP_SIZE = 224;
const CLIP_MEAN = [0.48145466, 0.4578275, 0.40821073];
const CLIP_STD = [0.26862954, 0.26130258, 0.27577711];
/** config/inference/sonic.yaml `area`: the face box grown by 10 % for the audio attention mask */
export const FACE_MASK_AREA = 1.1;

/** Python 3's round(): halves go to the even neighbour. */
export function pyRound(x: number): number {
  const f = Math.floor(x);
  const d = x - f;
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

/** The official frame size of a w x h portrait: shorter side min_resolution, sides multiples of 64. */
export function officialSize(w: number, h: number, minResolution: number): { width: number; height: number } {
  const scale = minResolution / Math.min(w, h);
  return { width: pyRound((w * scale) / 64) * 64, height: pyRound((h * scale) / 64) * 64 };
}

/** The largest region of aspect outW:outH in a w x h image, centred on (cx, cy) as far as the image allows. */
export function aspectCrop(w: number, h: number, outW: number, outH: number, cx: number, cy: number): Box {
  let cw = w;
  let ch = Math.round((w * outH) / outW);
  if (ch > h) {
    ch = h;
    cw = Math.round((h * outW) / outH);
  }
  const x = Math.min(w - cw, Math.max(0, Math.round(cx - cw / 2)));
  const y = Math.min(h - ch, Math.max(0, Math.round(cy - ch / 2)));
  return { x, y, width: cw, height: ch };
}

/**
 * The official mask, at the portrait's size, 3 equal channels (it is an RGB image there):
 * x2 = x + w; grown by `area` around the centre with Python's floor divisions; 255 inside.
 */
export function faceMaskRgb(w: number, h: number, face: Box, area = FACE_MASK_AREA): Uint8Array {
  const x2 = face.x + face.width;
  const y2 = face.y + face.height;
  const ww = (x2 - face.x) * area;
  const hh = (y2 - face.y) * area;
  const cx = Math.floor((x2 + face.x) / 2);
  const cy = Math.floor((y2 + face.y) / 2);
  const mx1 = Math.trunc(Math.max(cx - Math.floor(ww / 2), 0));
  const my1 = Math.trunc(Math.max(cy - Math.floor(hh / 2), 0));
  const mx2 = Math.trunc(Math.min(cx + Math.floor(ww / 2), w));
  const my2 = Math.trunc(Math.min(cy + Math.floor(hh / 2), h));
  const out = new Uint8Array(w * h * 3);
  for (let y = Math.max(0, my1); y < my2; y++) out.fill(255, (y * w + mx1) * 3, (y * w + mx2) * 3);
  return out;
}

export interface SonicInputs {
  width: number;
  height: number;
  /** the resized portrait, 8-bit RGB interleaved */
  rgb: Uint8Array;
  /** [3, H, W] in [-1, 1] */
  ref: Float32Array;
  /** [H, W] in [0, 1] */
  mask: Float32Array;
  /** [3, 224, 224], CLIP-normalised */
  clip: Float32Array;
  /** the region of the given portrait that was used */
  crop: Box;
}

/**
 * The UNet's inputs from a portrait (RGBA) and its face box (in the portrait's pixels), for an
 * export of `frame` size.
 */
export function prepareSonicInputs(rgba: Uint8Array, w: number, h: number, face: Box, frame: { width: number; height: number }): SonicInputs {
  if (rgba.length !== w * h * 4) throw new RangeError(`prepareSonicInputs: ${rgba.length} bytes for ${w}x${h} RGBA`);
  if (!(face.width > 0 && face.height > 0)) throw new RangeError('prepareSonicInputs: the face box is empty');
  const sameAspect = w * frame.height === h * frame.width;
  const crop = sameAspect ? { x: 0, y: 0, width: w, height: h } : aspectCrop(w, h, frame.width, frame.height, face.x + face.width / 2, face.y + face.height / 2);
  const rgb = new Uint8Array(crop.width * crop.height * 3);
  for (let y = 0; y < crop.height; y++) {
    for (let x = 0; x < crop.width; x++) {
      const s = ((crop.y + y) * w + crop.x + x) * 4;
      const d = (y * crop.width + x) * 3;
      rgb[d] = rgba[s]!;
      rgb[d + 1] = rgba[s + 1]!;
      rgb[d + 2] = rgba[s + 2]!;
    }
  }
  const W = frame.width;
  const H = frame.height;
  const local = { x: face.x - crop.x, y: face.y - crop.y, width: face.width, height: face.height };
  const resized = pilLanczos(rgb, crop.width, crop.height, 3, W, H);
  const maskRgb = pilLanczos(faceMaskRgb(crop.width, crop.height, local), crop.width, crop.height, 3, W, H);
  const n = W * H;
  const ref = new Float32Array(3 * n);
  const mask = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < 3; c++) ref[c * n + i] = (resized[i * 3 + c]! / 255 - 0.5) / 0.5;
    mask[i] = maskRgb[i * 3]! / 255;
  }
  const small = pilLanczos(resized, W, H, 3, CLIP_SIZE, CLIP_SIZE);
  const m = CLIP_SIZE * CLIP_SIZE;
  const clip = new Float32Array(3 * m);
  for (let i = 0; i < m; i++) {
    for (let c = 0; c < 3; c++) clip[c * m + i] = (Math.fround(small[i * 3 + c]! / 255) - CLIP_MEAN[c]!) / CLIP_STD[c]!;
  }
  return { width: W, height: H, rgb: resized, ref, mask, clip, crop };
}
