/**
 * Starting mediasoup's C++ worker (the SFU process) from the binary that
 * deploy/build-mediasoup-worker.sh builds offline into .cache/ (mediasoup's own install script,
 * which downloads a prebuilt worker, is denied in package.json's allowScripts).
 *
 * mediasoup 3.12 reads MEDIASOUP_WORKER_BIN once, when its Worker module is first loaded
 * (node_modules/mediasoup/node/lib/Worker.js: `exports.workerBin = process.env.MEDIASOUP_WORKER_BIN ? ...`).
 * So the variable is set here before mediasoup is imported, and mediasoup is only imported
 * dynamically from this module. If something imported mediasoup earlier with another binary,
 * createMediasoupWorker() says so instead of silently starting the wrong (or no) binary.
 */
import { accessSync, constants } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type * as Mediasoup from 'mediasoup';

/** The mediasoup version the build step and the cache path are made for (package.json pins it). */
export const MEDIASOUP_VERSION = '3.12.16';

/** Where deploy/build-mediasoup-worker.sh installs the worker (outside node_modules: survives `npm ci`). */
export const CACHED_WORKER_PATH = fileURLToPath(
  new URL(`../../.cache/mediasoup-worker/${MEDIASOUP_VERSION}/mediasoup-worker`, import.meta.url),
);

export const WORKER_NOT_FOUND_MESSAGE =
  'mediasoup worker binary not found: run bash deploy/build-mediasoup-worker.sh';

export type MediasoupModule = typeof Mediasoup;
export type MediasoupWorker = Mediasoup.types.Worker;

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * The worker binary to use: env MEDIASOUP_WORKER_BIN when set (returned as given, even if it
 * does not exist: an explicit setting is not second-guessed here, createMediasoupWorker checks it),
 * else the cached build if it is an executable file, else undefined.
 */
export function workerBinaryPath(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const fromEnv = env.MEDIASOUP_WORKER_BIN?.trim();
  if (fromEnv) return fromEnv;
  return isExecutable(CACHED_WORKER_PATH) ? CACHED_WORKER_PATH : undefined;
}

export interface MediasoupWorkerOptions {
  /** First UDP/TCP port for WebRTC transports (inclusive). */
  rtcMinPort: number;
  /** Last port (inclusive). */
  rtcMaxPort: number;
  /** Worker log level; default 'warn'. */
  logLevel?: Mediasoup.types.WorkerLogLevel;
  logTags?: Mediasoup.types.WorkerLogTag[];
  /** Binary override (else workerBinaryPath()). */
  binaryPath?: string;
  appData?: Record<string, unknown>;
}

export class MediasoupWorkerError extends Error {
  override name = 'MediasoupWorkerError';
}

let loaded: { module: MediasoupModule; bin: string } | undefined;

/** Imports mediasoup with MEDIASOUP_WORKER_BIN set to `bin` (first call decides; see file comment). */
export async function loadMediasoup(bin: string): Promise<MediasoupModule> {
  if (loaded) {
    if (loaded.bin !== bin) {
      throw new MediasoupWorkerError(
        `mediasoup is already loaded with worker ${loaded.bin}; it cannot switch to ${bin} in the same process`,
      );
    }
    return loaded.module;
  }
  process.env.MEDIASOUP_WORKER_BIN = bin;
  const imported = (await import('mediasoup')) as MediasoupModule & { default?: MediasoupModule };
  const module = imported.default ?? imported;
  if (module.workerBin !== bin) {
    throw new MediasoupWorkerError(
      `mediasoup was imported before MEDIASOUP_WORKER_BIN was set (it uses ${module.workerBin}, wanted ${bin}): ` +
        'import mediasoup only through server/media/mediasoup-worker.ts',
    );
  }
  if (module.version !== MEDIASOUP_VERSION) {
    throw new MediasoupWorkerError(
      `node_modules has mediasoup ${module.version}, the worker build is for ${MEDIASOUP_VERSION}: run npm ci`,
    );
  }
  loaded = { module, bin };
  return module;
}

/** Starts a mediasoup worker process. Throws MediasoupWorkerError with a clear message when no binary is found. */
export async function createMediasoupWorker(opts: MediasoupWorkerOptions): Promise<MediasoupWorker> {
  const { rtcMinPort, rtcMaxPort } = opts;
  if (
    !Number.isInteger(rtcMinPort) ||
    !Number.isInteger(rtcMaxPort) ||
    rtcMinPort < 1024 ||
    rtcMaxPort > 65535 ||
    rtcMinPort > rtcMaxPort
  ) {
    throw new MediasoupWorkerError(`invalid RTC port range ${rtcMinPort}-${rtcMaxPort} (want 1024 <= min <= max <= 65535)`);
  }
  const bin = opts.binaryPath ?? workerBinaryPath();
  if (!bin) throw new MediasoupWorkerError(WORKER_NOT_FOUND_MESSAGE);
  if (!isExecutable(bin)) throw new MediasoupWorkerError(`${WORKER_NOT_FOUND_MESSAGE} (not an executable file: ${bin})`);

  const mediasoup = await loadMediasoup(bin);
  return mediasoup.createWorker({
    rtcMinPort,
    rtcMaxPort,
    logLevel: opts.logLevel ?? 'warn',
    logTags: opts.logTags,
    appData: opts.appData,
  });
}
