/**
 * Enrolment of a portrait photo: decode, find the face, crop a square around it, scale it to the
 * portrait size, and name its landmarks in portrait pixels. Cached on disk by content hash.
 */
import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import type { Box, EnrolledPortrait, EnrolOptions } from './PortraitTypes.js';
import { PortraitError } from './errors.js';
import { type DetectedFace, detectFaces, meshBox } from './face-mesh.js';
import { DEFAULT_MAX_BYTES, type DecodeLimits, decodeImage, type RgbaImage, resizeRgba } from './image.js';
import { checkUpscale, completeBeyondImage, framedCrop } from './framing.js';
import { cropTransform, landmarksFromMesh, meshToCrop } from './landmarks.js';
import { PORTRAIT_FORMAT_VERSION, readCachedPortrait, writeCachedPortrait } from './portrait-cache.js';

/** smallest face (shorter side of the tight mesh box) enrolment accepts, source pixels */
export const MIN_FACE_PX = 48;
/** faces the detector is less sure of than this do not count, 0..1 */
export const MIN_FACE_SCORE = 0.5;

/** Cache key: the image bytes and everything that shapes the result. */
export function portraitId(bytes: Uint8Array, opts: EnrolOptions): string {
  return createHash('sha256')
    .update(bytes)
    .update(`\0portrait-v${PORTRAIT_FORMAT_VERSION}\0min=${opts.minResolution}\0expand=${opts.expandRatio}`)
    .update(opts.frame ? `\0frame=${opts.frame.width}x${opts.frame.height}@${opts.frame.faceHeight}/${opts.frame.faceCentreY}` : '')
    .digest('hex');
}

/**
 * The square crop around a face: the face box grown by `expandRatio` of its size on each side,
 * squared on the larger side around the face centre, moved (not cut) to lie inside the image, and
 * shrunk only when the image is smaller than the square. Whole source pixels.
 */
export function portraitCrop(face: Box, imageWidth: number, imageHeight: number, expandRatio: number): Box {
  const grow = 1 + 2 * expandRatio;
  const side = Math.min(Math.round(Math.max(face.width, face.height) * grow), imageWidth, imageHeight);
  const cx = face.x + face.width / 2;
  const cy = face.y + face.height / 2;
  const x = Math.min(Math.max(Math.round(cx - side / 2), 0), imageWidth - side);
  const y = Math.min(Math.max(Math.round(cy - side / 2), 0), imageHeight - side);
  return { x, y, width: side, height: side };
}

function checkOptions(opts: EnrolOptions): void {
  const r = opts.minResolution;
  if (!Number.isInteger(r) || r % 2 !== 0 || r < 64 || r > 4096) {
    throw new RangeError(`enrolPortrait: minResolution must be an even whole number of pixels in 64..4096, got ${r}`);
  }
  const e = opts.expandRatio;
  if (typeof e !== 'number' || !Number.isFinite(e) || e < 0 || e > 4) {
    throw new RangeError(`enrolPortrait: expandRatio must be a number in 0..4, got ${e}`);
  }
  const f = opts.frame;
  if (f) {
    const even = (v: number) => Number.isInteger(v) && v % 2 === 0 && v >= 64 && v <= 4096;
    if (!even(f.width) || !even(f.height)) throw new RangeError(`enrolPortrait: the frame must be even whole numbers of pixels in 64..4096, got ${f.width}x${f.height}`);
    if (!(f.faceHeight > 0 && f.faceHeight < 1) || !(f.faceCentreY > 0 && f.faceCentreY < 1)) {
      throw new RangeError(`enrolPortrait: faceHeight and faceCentreY must be fractions in (0, 1), got ${f.faceHeight} and ${f.faceCentreY}`);
    }
  }
}

/** Enrolment options from the config's avatar section: the square Sonic crop, or the configured frame. */
export function enrolOptions(avatar: { min_resolution: number; expand_ratio: number; width: number | null; height: number | null; framing: { face_height: number; face_centre_y: number } }, cacheDir?: string): EnrolOptions {
  const frame = avatar.width !== null && avatar.height !== null ? { width: avatar.width, height: avatar.height, faceHeight: avatar.framing.face_height, faceCentreY: avatar.framing.face_centre_y } : undefined;
  return { minResolution: avatar.min_resolution, expandRatio: avatar.expand_ratio, cacheDir, ...(frame ? { frame } : {}) };
}

async function readImageBytes(image: string | Uint8Array, maxBytes: number): Promise<Uint8Array> {
  if (image instanceof Uint8Array) return image;
  if (typeof image !== 'string') throw new TypeError('enrolPortrait: image must be a file path or a Uint8Array of PNG/JPEG bytes');
  let size: number;
  try {
    size = (await stat(image)).size;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new PortraitError('not-found', code === 'ENOENT' ? `no such image file "${image}"` : `cannot read image file "${image}" (${code ?? e})`, { cause: e });
  }
  // refuse before reading a huge file into memory; decodeImage checks the bytes it is given
  if (size > maxBytes) throw new PortraitError('image-too-large', `image file ${image} is ${size} bytes, more than the limit of ${maxBytes} bytes`);
  return new Uint8Array(await readFile(image));
}

/**
 * The face the portrait is about: the largest confident one. Throws PortraitError 'no-face' or
 * 'face-too-small'.
 */
export function pickFace(faces: DetectedFace[]): DetectedFace {
  const confident = faces.filter((f) => f.score >= MIN_FACE_SCORE);
  if (confident.length === 0) throw new PortraitError('no-face', 'no face found in the image');
  const area = (f: DetectedFace) => f.box.width * f.box.height;
  const face = confident.reduce((a, b) => (area(b) > area(a) ? b : a));
  const shorter = Math.min(face.box.width, face.box.height);
  if (shorter < MIN_FACE_PX) {
    throw new PortraitError(
      'face-too-small',
      `the face is ${Math.round(face.box.width)}x${Math.round(face.box.height)} px; at least ${MIN_FACE_PX} px on each side is needed`,
    );
  }
  return face;
}

/**
 * Runs the mesh again on the scaled portrait: the library returns whole pixels, so points found
 * at portrait scale are finer than source points scaled up. Falls back to the scaled source mesh
 * when the second pass does not find the same face.
 */
async function portraitMesh(portrait: RgbaImage, scaledMesh: Float32Array): Promise<Float32Array> {
  const expected = meshBox(scaledMesh);
  const ecx = expected.x + expected.width / 2;
  const ecy = expected.y + expected.height / 2;
  for (const f of await detectFaces(portrait)) {
    const dx = f.box.x + f.box.width / 2 - ecx;
    const dy = f.box.y + f.box.height / 2 - ecy;
    const sizeRatio = f.box.width / expected.width;
    if (f.score >= MIN_FACE_SCORE && Math.hypot(dx, dy) < 0.15 * expected.width && sizeRatio > 0.8 && sizeRatio < 1.25) {
      return f.mesh;
    }
  }
  return scaledMesh;
}

/**
 * Enrols a portrait photo (a PNG/JPEG file path or its bytes). With `opts.cacheDir`, a previous
 * enrolment of the same bytes and options is loaded instead of running the detector.
 * Throws PortraitError (see its codes), RangeError for bad options.
 */
export async function enrolPortrait(
  image: string | Uint8Array,
  opts: EnrolOptions,
  limits: DecodeLimits = {},
): Promise<EnrolledPortrait> {
  checkOptions(opts);
  const bytes = await readImageBytes(image, limits.maxBytes ?? DEFAULT_MAX_BYTES);
  const id = portraitId(bytes, opts);
  if (opts.cacheDir) {
    const cached = await readCachedPortrait(opts.cacheDir, id);
    if (cached) return cached;
  }

  const src = decodeImage(bytes, limits);
  if (Math.min(src.width, src.height) < MIN_FACE_PX) {
    throw new PortraitError('image-too-small', `image is ${src.width}x${src.height} px; a face needs at least ${MIN_FACE_PX} px on each side`);
  }
  const face = pickFace(await detectFaces(src));
  let crop: Box;
  let portrait: RgbaImage;
  if (opts.frame) {
    // any frame shape: the face placed by the rule, the frame completed where the photo ends
    crop = framedCrop(face.box, opts.frame);
    checkUpscale(face.box, crop, opts.frame);
    portrait = completeBeyondImage(resizeRgba(src, crop, opts.frame.width, opts.frame.height), crop, src);
  } else {
    crop = portraitCrop(face.box, src.width, src.height, opts.expandRatio);
    portrait = resizeRgba(src, crop, opts.minResolution, opts.minResolution); // the crop is square
  }
  const t = cropTransform(crop, portrait.width, portrait.height);
  const mesh = await portraitMesh(portrait, meshToCrop(face.mesh, t));
  const result: EnrolledPortrait = {
    id,
    width: portrait.width,
    height: portrait.height,
    rgba: portrait.rgba,
    landmarks: landmarksFromMesh(mesh, meshBox(mesh)),
    source: { width: src.width, height: src.height, crop },
    confidence: face.score,
  };
  if (opts.cacheDir) await writeCachedPortrait(opts.cacheDir, result);
  return result;
}
