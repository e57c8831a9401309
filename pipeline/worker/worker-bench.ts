/**
 * Round-trip latency of the inference worker: time from pushAudio() of the samples that complete
 * a frame to that frame's arrival on the main thread, with the test-pattern engine (no model cost).
 * Usage: npx tsx pipeline/worker/worker-bench.ts [size=512] [frames=250]
 * Prints one JSON line: median, p95, max in ms, and the worker's render ms per frame.
 */
import { InferenceWorker } from './inference-worker.js';

const size = Number(process.argv[2] ?? 512);
const frames = Number(process.argv[3] ?? 250);
const hop = 640; // 16 kHz / 25 fps

const t0 = performance.now();
const w = await InferenceWorker.start({
  engineModule: new URL('../engine/test-pattern-engine.ts', import.meta.url).href,
  engineOptions: { width: size, height: size },
});
await w.ready();
const startMs = performance.now() - t0;
const latencies: number[] = [];
let sentAt = 0;
let got: () => void = () => undefined;
w.onFrame(() => {
  latencies.push(performance.now() - sentAt);
  got();
});
const audio = Float32Array.from({ length: hop }, (_, i) => 0.3 * Math.sin(i / 4));
for (let k = 0; k < frames; k++) {
  const arrived = new Promise<void>((r) => (got = r));
  sentAt = performance.now();
  w.pushAudio(audio);
  await arrived;
}
const s = w.stats();
await w.close();
latencies.sort((a, b) => a - b);
const q = (p: number): number => Number(latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))].toFixed(3));
console.log(
  JSON.stringify({ size, frames, startMs: Math.round(startMs), medianMs: q(0.5), p95Ms: q(0.95), maxMs: q(1), workerRenderMsAvg: Number(s.renderMsAvg.toFixed(3)) }),
);
