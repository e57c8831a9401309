/**
 * Sonic's weights folder: the ONNX files of the contract plus `manifest.json`, which the export
 * writes: { "format": "sonic-onnx/2", "precision": "fp16" | "fp32", "files": { name: sha256 },
 * "dims": { L, A, T, D, C }, "frame": { width, height } }. `files` also lists external-data files
 * (unet.onnx.data, for graphs over 2 GB): every listed file must be there and is hashed.
 * The weights (CC BY-NC-SA 4.0) are the customer's: they never enter this repository.
 *
 * checkWeights() says, when something is wrong, which files are missing and where they go, or
 * which file's checksum does not match its manifest (a partial copy, a file from another export).
 */
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { SONIC_CONTRACT, SONIC_DIMS, type SonicDims } from './contract.js';

export interface SonicManifest {
  format: 'sonic-onnx/2';
  precision: 'fp16' | 'fp32';
  files: Record<string, string>;
  /** model widths when they are not Sonic's own (the tests' stand-in graphs, the parity harness's small models) */
  dims?: SonicDims;
  /** the frame size the graphs serve (the face mask's resampling and RIFE's grid are fixed at export) */
  frame: { width: number; height: number };
  /** what made the files (the export script, or the stand-in builder) */
  producer?: string;
}

/** The model widths a manifest declares (Sonic's own when it names none). */
export function manifestDims(m: SonicManifest): SonicDims {
  return m.dims ?? { ...SONIC_DIMS };
}

export class SonicWeightsError extends Error {
  override readonly name = 'SonicWeightsError';
}

export function sha256File(path: string): Promise<string> {
  return new Promise((res, rej) => {
    const h = createHash('sha256');
    createReadStream(path)
      .on('data', (b) => h.update(b))
      .on('end', () => res(h.digest('hex')))
      .on('error', rej);
  });
}

/** Checks the folder; resolves with its manifest. `verify`: compare every file's SHA-256 (slow for GB files). */
export async function checkWeights(dir: string, opts: { verify?: boolean } = {}): Promise<SonicManifest> {
  const where = resolve(dir);
  const howTo = `export them on a GPU host with models/sonic/export/ and copy the folder to ${where}`;
  const manifestPath = join(dir, 'manifest.json');
  const listed = (() => {
    try {
      return Object.keys((JSON.parse(readFileSync(manifestPath, 'utf8')) as SonicManifest).files ?? {});
    } catch {
      return [];
    }
  })();
  const missing = [...new Set([...SONIC_CONTRACT.map((s) => s.file), ...listed])].filter((f) => !existsSync(join(dir, f)));
  if (!existsSync(manifestPath)) missing.push('manifest.json');
  if (missing.length > 0) {
    throw new SonicWeightsError(`the Sonic weights are not complete in ${where}: missing ${missing.join(', ')}. The Sonic engine needs its ONNX export (not shipped: CC BY-NC-SA weights): ${howTo}`);
  }
  let manifest: SonicManifest;
  try {
    manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as SonicManifest;
  } catch (e) {
    throw new SonicWeightsError(`${manifestPath} is not valid JSON: ${(e as Error).message}`);
  }
  if ((manifest.format as string) === 'sonic-onnx/1') {
    throw new SonicWeightsError(
      `${manifestPath} is from the first export format (sonic-onnx/1), whose UNet call, motion buckets and time ids did not follow the official pipeline: export again with models/sonic/export/export_sonic.py`,
    );
  }
  if (manifest.format !== 'sonic-onnx/2' || (manifest.precision !== 'fp16' && manifest.precision !== 'fp32') || typeof manifest.files !== 'object') {
    throw new SonicWeightsError(`${manifestPath} is not a Sonic export manifest (format "sonic-onnx/2", precision fp16|fp32, files {name: sha256}, frame {width, height})`);
  }
  if (manifest.dims !== undefined && !(['L', 'A', 'T', 'D', 'C'] as const).every((k) => Number.isInteger(manifest.dims![k]) && manifest.dims![k] > 0)) {
    throw new SonicWeightsError(`${manifestPath}: dims must be positive integers L, A, T, D, C (got ${JSON.stringify(manifest.dims)})`);
  }
  const f = manifest.frame;
  if (!f || !Number.isInteger(f.width) || !Number.isInteger(f.height) || f.width % 64 !== 0 || f.height % 64 !== 0 || f.width <= 0 || f.height <= 0) {
    throw new SonicWeightsError(`${manifestPath}: frame must give the export's width and height, multiples of 64 (got ${JSON.stringify(f)})`);
  }
  const unlisted = [...new Set([...SONIC_CONTRACT.map((s) => s.file), ...Object.keys(manifest.files)])].filter((f) => !/^[0-9a-f]{64}$/.test(manifest.files[f] ?? ''));
  if (unlisted.length > 0) throw new SonicWeightsError(`${manifestPath} has no SHA-256 for ${unlisted.join(', ')}: re-run the export`);
  if (opts.verify) {
    for (const [file, want] of Object.entries(manifest.files)) {
      const got = await sha256File(join(dir, file));
      if (got !== want) throw new SonicWeightsError(`${join(where, file)} does not match its manifest (sha256 ${got.slice(0, 12)}…, expected ${want.slice(0, 12)}…): a partial copy or a file from another export`);
    }
  }
  return manifest;
}
