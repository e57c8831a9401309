/**
 * Measures the streaming resampler in live-sized chunks.
 * Usage: npx tsx pipeline/audio/resampler-bench.ts [chunkMs=20] [seconds=60] [taps=48]
 * Prints one JSON line per rate pair on stdout: ns per input sample, and the share of one core
 * that resampling a live stream at that rate takes.
 */
import { Resampler } from './resampler.js';

const chunkMs = Number(process.argv[2] ?? 20);
const seconds = Number(process.argv[3] ?? 60);
const taps = Number(process.argv[4] ?? 48);
const PAIRS: [number, number][] = [
  [48_000, 16_000],
  [22_050, 48_000],
  [22_050, 16_000],
  [16_000, 48_000],
  [44_100, 48_000],
];

for (const [from, to] of PAIRS) {
  const r = new Resampler(from, to, { taps });
  const chunk = new Float32Array(Math.round((from * chunkMs) / 1000));
  for (let i = 0; i < chunk.length; i++) chunk[i] = Math.sin(i * 0.05) * 0.5 + Math.sin(i * 1.3) * 0.1;
  const chunks = Math.ceil((seconds * 1000) / chunkMs);
  for (let i = 0; i < Math.min(200, chunks); i++) r.process(chunk); // JIT warm-up
  const t0 = performance.now();
  for (let i = 0; i < chunks; i++) r.process(chunk);
  const ms = performance.now() - t0;
  const nsPerSample = (ms * 1e6) / (chunks * chunk.length);
  console.log(
    JSON.stringify({
      from,
      to,
      taps: r.width,
      chunkMs,
      nsPerInputSample: Math.round(nsPerSample * 10) / 10,
      coreShareLive: Math.round(((nsPerSample * from) / 1e9) * 1e4) / 1e4,
    }),
  );
}
