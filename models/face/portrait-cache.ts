/**
 * On-disk cache of enrolled portraits: `<id>.json` (everything but the pixels) and `<id>.rgba`
 * (raw pixels). Each file is written to a temporary name and renamed into place, and the JSON is
 * written last and names a hash of the pixels, so a reader sees a whole entry or none. Anything
 * unreadable or inconsistent reads as a miss (and the caller rewrites it).
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Box, EnrolledPortrait } from './PortraitTypes.js';
import { MESH_POINTS } from './face-mesh.js';
import { landmarksFromMesh } from './landmarks.js';

/** bump when the decoding, the crop, the landmarks or this file layout change: old entries then miss (3: EXIF orientation, flattened alpha) */
export const PORTRAIT_FORMAT_VERSION = 3;

interface CacheEntry {
  version: number;
  id: string;
  width: number;
  height: number;
  rgbaSha256: string;
  source: { width: number; height: number; crop: Box };
  confidence: number;
  faceBox: Box;
  mesh: number[];
}

function sha256(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

function isBox(b: unknown): b is Box {
  const o = b as Box;
  return !!o && [o.x, o.y, o.width, o.height].every((v) => typeof v === 'number' && Number.isFinite(v));
}

/** The cached portrait `id` from `dir`, or undefined when it is missing, stale or corrupt. */
export async function readCachedPortrait(dir: string, id: string): Promise<EnrolledPortrait | undefined> {
  let entry: CacheEntry;
  let rgba: Uint8Array;
  try {
    entry = JSON.parse(await readFile(join(dir, `${id}.json`), 'utf8')) as CacheEntry;
    if (entry.version !== PORTRAIT_FORMAT_VERSION || entry.id !== id) return undefined;
    if (!Number.isInteger(entry.width) || !Number.isInteger(entry.height) || !isBox(entry.faceBox) || !isBox(entry.source?.crop)) return undefined;
    if (!Array.isArray(entry.mesh) || entry.mesh.length !== MESH_POINTS * 3 || !entry.mesh.every(Number.isFinite)) return undefined;
    const buf = await readFile(join(dir, `${id}.rgba`));
    rgba = new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
  } catch {
    return undefined;
  }
  if (rgba.length !== entry.width * entry.height * 4 || sha256(rgba) !== entry.rgbaSha256) return undefined;
  return {
    id,
    width: entry.width,
    height: entry.height,
    rgba,
    landmarks: landmarksFromMesh(Float32Array.from(entry.mesh), entry.faceBox),
    source: entry.source,
    confidence: entry.confidence,
  };
}

async function writeAtomic(path: string, data: string | Uint8Array): Promise<void> {
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    await writeFile(tmp, data);
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
}

/** Stores `p` under `dir` (created if missing), replacing any entry of the same id. */
export async function writeCachedPortrait(dir: string, p: EnrolledPortrait): Promise<void> {
  await mkdir(dir, { recursive: true });
  const entry: CacheEntry = {
    version: PORTRAIT_FORMAT_VERSION,
    id: p.id,
    width: p.width,
    height: p.height,
    rgbaSha256: sha256(p.rgba),
    source: p.source,
    confidence: p.confidence,
    faceBox: p.landmarks.faceBox,
    mesh: Array.from(p.landmarks.mesh),
  };
  // pixels first: the JSON is the entry's commit
  await writeAtomic(join(dir, `${p.id}.rgba`), p.rgba);
  await writeAtomic(join(dir, `${p.id}.json`), JSON.stringify(entry));
}
