/**
 * Measures H.264 encode time per frame through Mp4Writer.
 * Usage: npx tsx pipeline/encode/encode-bench.ts [preset=veryfast] [frames=250] [size=512]
 * Prints one JSON line on stdout (wall and CPU time of the write loop, video + audio + mux). The frames are a textured pattern that pans and a moving
 * block, so the encoder does real motion search (flat frames would flatter it).
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Mp4Writer } from './mp4-writer.js';
import type { X264Preset } from './mp4-options.js';
import { i420Size } from '../records.js';

const preset = (process.argv[2] ?? 'veryfast') as X264Preset;
const frames = Number(process.argv[3] ?? 250);
const size = Number(process.argv[4] ?? 512);
const fps = 25;
const rate = 48_000;

function frame(k: number): Uint8Array {
  const f = new Uint8Array(i420Size(size, size));
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const u = x + 2 * k;
      f[y * size + x] = 128 + 60 * Math.sin(u / 7) * Math.cos(y / 11) + ((u * 31 + y * 17) % 23);
    }
  }
  const bx = (k * 5) % (size - 64);
  for (let y = 200; y < 264; y++) f.fill(235, y * size + bx, y * size + bx + 64);
  f.fill(128, size * size);
  return f;
}

const dir = mkdtempSync(join(tmpdir(), 'encode-bench-'));
const path = join(dir, 'bench.mp4');
const writer = await Mp4Writer.open(path, { width: size, height: size, fps, sampleRate: rate, x264Preset: preset });
const audio = new Float32Array(rate / fps).map((_, i) => 0.3 * Math.sin((2 * Math.PI * 220 * i) / rate));
const pictures = Array.from({ length: frames }, (_, k) => frame(k));
const cpu0 = process.cpuUsage();
const t0 = performance.now();
for (let k = 0; k < frames; k++) {
  await writer.writeVideo(pictures[k]);
  await writer.writeAudio(audio);
}
const result = await writer.close();
const wallMs = performance.now() - t0;
const cpu = process.cpuUsage(cpu0);
console.log(
  JSON.stringify({
    preset,
    size,
    frames: result.videoFrames,
    encodeMsPerFrame: Number(result.encodeMsPerFrame.toFixed(2)),
    // x264 runs frame threads: time inside encode() calls understates the work; CPU time does not
    wallMsPerFrame: Number((wallMs / frames).toFixed(2)),
    cpuMsPerFrame: Number(((cpu.user + cpu.system) / 1000 / frames).toFixed(2)),
    kbps: Math.round((statSync(path).size * 8) / 1000 / result.durationSec),
  }),
);
rmSync(dir, { recursive: true });
