/**
 * Execution providers for Sonic's sessions: TensorRT, then CUDA, then CPU (the order is
 * configurable), with FP16 and a TensorRT engine cache. onnxruntime-node does not fall back by
 * itself: a session asked for a provider whose libraries are absent fails to create. So each
 * provider is tried in turn, and the ones skipped are reported with the reason (shown in the
 * engine's stats and logs), never silently.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as ort from 'onnxruntime-node';

export type ProviderName = 'tensorrt' | 'cuda' | 'cpu';

export interface ProviderSettings {
  order: ProviderName[];
  /** FP16 kernels on TensorRT (the FP16 export runs in FP16 on CUDA anyway) */
  fp16: boolean;
  /** folder of TensorRT's built engines: the first start builds them (minutes), later starts load them */
  trtCacheDir: string;
  deviceId: number;
  intraOpThreads: number;
}

export const DEFAULT_PROVIDERS: ProviderSettings = { order: ['tensorrt', 'cuda', 'cpu'], fp16: true, trtCacheDir: '.cache/sonic-trt', deviceId: 0, intraOpThreads: 1 };

/** onnxruntime-node's options for one provider. */
export function providerConfig(name: ProviderName, s: ProviderSettings): ort.InferenceSession.ExecutionProviderConfig {
  switch (name) {
    case 'tensorrt':
      return { name: 'tensorrt', deviceId: s.deviceId, trtFp16Enable: s.fp16, trtEngineCacheEnable: true, trtEngineCachePath: s.trtCacheDir } as ort.InferenceSession.ExecutionProviderConfig;
    case 'cuda':
      return { name: 'cuda', deviceId: s.deviceId } as ort.InferenceSession.ExecutionProviderConfig;
    default:
      return 'cpu';
  }
}

export interface OpenedSession {
  session: ort.InferenceSession;
  provider: ProviderName;
  /** providers tried before, and why each could not be used */
  skipped: { provider: ProviderName; reason: string }[];
}

/**
 * Why `name` cannot load here, when its shared library is absent from onnxruntime-node's binaries
 * (the CPU-only npm build ships none; `onnxruntime-node-install=cuda12` adds them). Checked before
 * asking ONNX Runtime, whose own failure prints an error line per session to stderr.
 */
export function missingProviderLibrary(name: ProviderName): string | undefined {
  if (name === 'cpu' || process.platform !== 'linux') return undefined;
  const bin = join(dirname(createRequire(import.meta.url).resolve('onnxruntime-node')), '..', 'bin', 'napi-v6', process.platform, process.arch);
  const lib = join(bin, `libonnxruntime_providers_${name}.so`);
  return existsSync(lib) ? undefined : `the ${name} provider's shared library is not installed (${lib}); install onnxruntime-node with its GPU binaries (npm_config_onnxruntime_node_install=cuda12) on a CUDA host`;
}

type Create = (model: string | Uint8Array, options: ort.InferenceSession.SessionOptions) => Promise<ort.InferenceSession>;

/**
 * The execution providers a session of `provider` registers: TensorRT takes the subgraphs it can
 * build engines for and hands the rest to CUDA (when the CUDA provider is in the order), so no
 * node falls to the CPU on a GPU host; CUDA and CPU stand alone.
 */
export function sessionProviders(provider: ProviderName, s: ProviderSettings, hasCuda = !missingProviderLibrary('cuda')): ort.InferenceSession.ExecutionProviderConfig[] {
  const list = [providerConfig(provider, s)];
  if (provider === 'tensorrt' && s.order.includes('cuda') && hasCuda) list.push(providerConfig('cuda', s));
  return list;
}

/**
 * Opens `model` on the first provider of `s.order` that works. `create` is ONNX Runtime's (tests
 * may pass a stand-in for GPU providers that cannot run on a CPU-only machine).
 */
export async function openWithFallback(model: string | Uint8Array, s: ProviderSettings, create?: Create): Promise<OpenedSession> {
  if (s.order.length === 0) throw new RangeError('openWithFallback: no execution provider in the order');
  const skipped: OpenedSession['skipped'] = [];
  const make: Create = create ?? ((m, o) => (typeof m === 'string' ? ort.InferenceSession.create(m, o) : ort.InferenceSession.create(m, o)));
  for (const provider of s.order) {
    const missing = create ? undefined : missingProviderLibrary(provider);
    if (missing) {
      skipped.push({ provider, reason: missing });
      continue;
    }
    try {
      const session = await make(model, {
        executionProviders: sessionProviders(provider, s, create ? true : undefined),
        intraOpNumThreads: s.intraOpThreads,
        interOpNumThreads: 1,
        graphOptimizationLevel: 'all',
        // the shared-library loader logs its own failure at error level; the reason is reported here
        logSeverityLevel: 4,
      });
      return { session, provider, skipped };
    } catch (e) {
      skipped.push({ provider, reason: (e as Error).message.split('\n')[0]!.slice(0, 300) });
    }
  }
  throw new Error(`no execution provider could open the model: ${skipped.map((k) => `${k.provider}: ${k.reason}`).join('; ')}`);
}
