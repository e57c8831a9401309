/**
 * Execution-provider fallback for Sonic's sessions. On this CPU-only machine, TensorRT and CUDA
 * really fail to load and CPU opens (real ONNX Runtime). The GPU success path cannot run here: a
 * stand-in `create` plays the GPU provider, and those tests say so in their names.
 */
import { describe, expect, it } from 'vitest';
import type * as ort from 'onnxruntime-node';
import { defaultVadModelPath } from '../../pipeline/motion/vad.js';
import { DEFAULT_PROVIDERS, openWithFallback, providerConfig, sessionProviders } from '../../models/sonic/providers.js';

describe('Sonic execution providers', () => {
  it('on a CPU-only build: TensorRT and CUDA are skipped with their reason, the session opens on CPU and runs', async () => {
    const opened = await openWithFallback(defaultVadModelPath(), DEFAULT_PROVIDERS);
    expect(opened.provider).toBe('cpu');
    expect(opened.skipped.map((k) => k.provider)).toEqual(['tensorrt', 'cuda']);
    expect(opened.skipped.every((k) => /shared library|not (supported|available)/i.test(k.reason))).toBe(true);
    expect(opened.session.inputNames).toContain('input');
    await opened.session.release();
  });

  it('without CPU in the order and no GPU: one error naming every provider and why', async () => {
    await expect(openWithFallback(defaultVadModelPath(), { ...DEFAULT_PROVIDERS, order: ['tensorrt', 'cuda'] })).rejects.toThrow(/no execution provider could open the model: tensorrt: .+; cuda: .+/);
  });

  it('(fake GPU provider boundary) TensorRT gets FP16 and its engine cache; a CUDA-only host falls back from TensorRT to CUDA', async () => {
    const seen: unknown[] = [];
    const fakeCudaHost = async (_m: string | Uint8Array, o: ort.InferenceSession.SessionOptions) => {
      const ep = o.executionProviders![0]!;
      seen.push(ep);
      if (typeof ep !== 'string' && ep.name === 'cuda') return { inputNames: ['x'], outputNames: ['y'] } as unknown as ort.InferenceSession;
      throw new Error(`stand-in: ${typeof ep === 'string' ? ep : ep.name} is not on this fake host`);
    };
    const opened = await openWithFallback('model.onnx', { ...DEFAULT_PROVIDERS, trtCacheDir: '/var/cache/sonic-trt' }, fakeCudaHost);
    expect(opened.provider).toBe('cuda');
    expect(seen[0]).toEqual({ name: 'tensorrt', deviceId: 0, trtFp16Enable: true, trtEngineCacheEnable: true, trtEngineCachePath: '/var/cache/sonic-trt' });
    expect(opened.skipped).toEqual([{ provider: 'tensorrt', reason: 'stand-in: tensorrt is not on this fake host' }]);
    expect(providerConfig('cpu', DEFAULT_PROVIDERS)).toBe('cpu');
  });

  it('(fake GPU provider boundary) a TensorRT session registers CUDA after it, so subgraphs TensorRT cannot build run on the GPU, not the CPU', async () => {
    const seen: ort.InferenceSession.SessionOptions[] = [];
    const fakeTrtHost = async (_m: string | Uint8Array, o: ort.InferenceSession.SessionOptions) => {
      seen.push(o);
      return { inputNames: ['x'], outputNames: ['y'] } as unknown as ort.InferenceSession;
    };
    const opened = await openWithFallback('model.onnx', DEFAULT_PROVIDERS, fakeTrtHost);
    expect(opened.provider).toBe('tensorrt');
    expect((seen[0]!.executionProviders as { name: string }[]).map((e) => e.name)).toEqual(['tensorrt', 'cuda']);
    // CUDA left out of the order (or not installed): TensorRT alone, CUDA-only and CPU sessions alone
    expect(sessionProviders('tensorrt', { ...DEFAULT_PROVIDERS, order: ['tensorrt', 'cpu'] }, true).map((e) => (e as { name: string }).name)).toEqual(['tensorrt']);
    expect(sessionProviders('tensorrt', DEFAULT_PROVIDERS, false).map((e) => (e as { name: string }).name)).toEqual(['tensorrt']);
    expect(sessionProviders('cuda', DEFAULT_PROVIDERS, true).map((e) => (e as { name: string }).name)).toEqual(['cuda']);
  });
});
