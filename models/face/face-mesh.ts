/**
 * The MediaPipe face mesh (478 points: face, lips, eyelids, irises) through @vladmandic/human on the
 * tfjs WebAssembly backend. Loaded once per process, on first use, entirely offline: the models
 * come from the package's own `models/` folder and the .wasm files from the local
 * @tensorflow/tfjs-backend-wasm; nothing is fetched from the network.
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Config, Human as HumanType } from '@vladmandic/human';
import type { Box } from './PortraitTypes.js';
import type { RgbaImage } from './image.js';

export interface DetectedFace {
  /** tight box around the mesh points (face oval, forehead to chin), source pixels */
  box: Box;
  /** the detector's own box (human enlarges the face by its `scale` 1.4), source pixels */
  detectorBox: Box;
  /** face confidence, 0..1 (detector and mesh combined) */
  score: number;
  /** 478 points x,y,z interleaved, source pixels (z on the same scale, relative) */
  mesh: Float32Array;
}

export const MESH_POINTS = 478;

/** Tight box around a face mesh (x,y,z interleaved): its first 468 points; the 10 iris points lie inside. */
export function meshBox(mesh: Float32Array): Box {
  let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
  for (let i = 0; i < 468; i++) {
    const x = mesh[i * 3]!, y = mesh[i * 3 + 1]!;
    x0 = Math.min(x0, x); y0 = Math.min(y0, y); x1 = Math.max(x1, x); y1 = Math.max(y1, y);
  }
  return { x: x0, y: y0, width: x1 - x0, height: y1 - y0 };
}

const require = createRequire(import.meta.url);

/** `dist/` folders of the two packages, found from their entry points (both live in dist/) */
const HUMAN_DIST = dirname(require.resolve('@vladmandic/human'));
const TFJS_WASM_DIST = dirname(require.resolve('@tensorflow/tfjs-backend-wasm'));

let loading: Promise<HumanType> | undefined;
let routerRegistered = false;

export interface FaceMeshStats {
  /** times the models were loaded in this process */
  loads: number;
  /** milliseconds the latest load (wasm backend + models) took; 0 before any */
  loadMs: number;
  /** detectFaces calls that ran the models */
  detections: number;
  /** milliseconds the latest detectFaces call took */
  lastDetectMs: number;
}

const stats: FaceMeshStats = { loads: 0, loadMs: 0, detections: 0, lastDetectMs: 0 };

/** A snapshot of the load and detection counters. */
export function faceMeshStats(): FaceMeshStats {
  return { ...stats };
}

/** A fetch for file:// URLs only: tfjs's HTTP model loader reads the model files through it. */
async function fileFetch(url: string | URL | Request): Promise<Response> {
  const href = typeof url === 'string' ? url : url instanceof URL ? url.href : url.url;
  if (!href.startsWith('file://')) throw new Error(`face mesh: refusing to fetch ${href} (models load offline only)`);
  const body = await readFile(fileURLToPath(href));
  return new Response(body, { status: 200 });
}

async function load(): Promise<HumanType> {
  const t0 = performance.now();
  // The CommonJS build that uses the installed tfjs-core + tfjs-backend-wasm (its "exports" key for
  // it lacks the leading "./", so Node refuses the subpath: load it by file path).
  const { Human } = require(join(HUMAN_DIST, 'human.node-wasm.js')) as typeof import('@vladmandic/human');
  const modelDir = join(HUMAN_DIST, '..', 'models') + '/';
  const config: Partial<Config> = {
    backend: 'wasm',
    wasmPath: TFJS_WASM_DIST + '/',
    wasmPlatformFetch: false,
    modelBasePath: pathToFileURL(modelDir).href,
    cacheModels: false,
    // every call is a new still image: no result reuse between calls
    cacheSensitivity: 0,
    skipAllowed: false,
    debug: false,
    async: false,
    warmup: 'none',
    filter: { enabled: false },
    gesture: { enabled: false },
    face: {
      enabled: true,
      detector: { enabled: true, rotation: true, maxDetected: 5, minConfidence: 0.2, skipFrames: 0, skipTime: 0, return: false },
      mesh: { enabled: true },
      iris: { enabled: true, skipFrames: 0, skipTime: 0 },
      attention: { enabled: false },
      description: { enabled: false },
      emotion: { enabled: false },
      antispoof: { enabled: false },
      liveness: { enabled: false },
      gear: { enabled: false },
    },
    body: { enabled: false },
    hand: { enabled: false },
    object: { enabled: false },
    segmentation: { enabled: false },
  };
  const human = new Human(config);
  if (!routerRegistered) {
    // tfjs picks a loader by URL; nothing handles file:// without tfjs-node, so route it to the
    // HTTP loader with a fetch that reads local files. (tfjs keeps routers for the process.)
    human.tf.io.registerLoadRouter((url: string | string[]) => {
      const href = Array.isArray(url) ? url[0] : url;
      return typeof href === 'string' && href.startsWith('file://') ? human.tf.io.http(href, { fetchFunc: fileFetch }) : null;
    });
    routerRegistered = true;
  }
  await human.load();
  // human logs a model that failed to load and carries on: make that an error here
  // (a model that failed still has an object; its loaded weights have size 0)
  const loaded = human.models.list().filter((m) => m.loaded && m.size > 0).map((m) => m.name);
  const missing = ['blazeface', 'facemesh', 'iris'].filter((m) => !loaded.includes(m));
  if (missing.length > 0) throw new Error(`face mesh: models failed to load from ${modelDir}: ${missing.join(', ')}`);
  if (human.tf.getBackend() !== 'wasm') throw new Error(`face mesh: expected the wasm backend, got ${human.tf.getBackend()}`);
  stats.loads++;
  stats.loadMs = performance.now() - t0;
  return human;
}

function getHuman(): Promise<HumanType> {
  loading ??= load().catch((e) => {
    loading = undefined; // let a later call try again
    throw e;
  });
  return loading;
}

/** Loads the models now (otherwise the first detectFaces does). */
export async function loadFaceMesh(): Promise<void> {
  await getHuman();
}

/** Faces in an RGBA image, most confident first; an empty array when there is none. */
export async function detectFaces(img: RgbaImage): Promise<DetectedFace[]> {
  const human = await getHuman();
  const t0 = performance.now();
  const { width, height, rgba } = img;
  if (!(width > 0 && height > 0) || rgba.length !== width * height * 4) {
    throw new RangeError(`detectFaces: expected ${width}x${height}x4 = ${width * height * 4} RGBA bytes, got ${rgba.length}`);
  }
  const rgb = new Float32Array(width * height * 3);
  for (let i = 0, j = 0; i < rgb.length; i += 3, j += 4) {
    rgb[i] = rgba[j]!;
    rgb[i + 1] = rgba[j + 1]!;
    rgb[i + 2] = rgba[j + 2]!;
  }
  const tensor = human.tf.tensor4d(rgb, [1, height, width, 3], 'float32');
  try {
    const result = await human.detect(tensor);
    if (result.error) throw new Error(`face mesh: ${result.error}`);
    const faces: DetectedFace[] = [];
    for (const f of result.face) {
      if (f.mesh.length < MESH_POINTS) continue; // detector hit without a usable mesh
      const mesh = new Float32Array(MESH_POINTS * 3);
      for (let i = 0; i < MESH_POINTS; i++) {
        const [x, y, z] = f.mesh[i]!;
        // human truncates the points to whole pixels: +0.5 puts each at the middle of its pixel
        mesh[i * 3] = x + 0.5;
        mesh[i * 3 + 1] = y + 0.5;
        mesh[i * 3 + 2] = (z ?? 0) + 0; // + 0 turns -0 into 0 (JSON would lose the sign anyway)
      }
      const [bx, by, bw, bh] = f.box;
      faces.push({
        box: meshBox(mesh),
        detectorBox: { x: bx, y: by, width: bw, height: bh },
        score: f.score,
        mesh,
      });
    }
    stats.detections++;
    stats.lastDetectMs = performance.now() - t0;
    return faces.sort((a, b) => b.score - a.score);
  } finally {
    human.tf.dispose(tensor);
  }
}

/** Frees the models and the backend; the next detectFaces loads them again. */
export async function closeFaceMesh(): Promise<void> {
  const pending = loading;
  loading = undefined;
  if (!pending) return;
  const human = await pending.catch(() => undefined);
  if (!human) return;
  human.tf.disposeVariables();
  for (const m of Object.values(human.models.models ?? {})) (m as { dispose?: () => void } | null)?.dispose?.();
}
