/**
 * Memory over a long render: the engine alone (what a live session runs for hours), or the
 * engine + an Mp4Writer (to /tmp, video and audio; what `npm run render` runs) for
 * `minutes` of media, the speech clip looped. process.memoryUsage() is sampled every
 * `minutes * 3` s of media (30 s for 10 minutes), after a full GC when one can be had.
 *
 * Criterion (both rss and heapUsed, from the 20% mark — 2 min of 10 — to the end):
 *   growth  = last sample − sample at the 20% mark            < 20 MB
 *   trend   = least-squares slope over those samples × window  < 20 MB  (a lucky last sample can't hide a climb)
 *   no monotonic climb: not (every step >= 0 and growth > 5 MB)
 * The first 20% is left out: ONNX Runtime arenas, x264 lookahead buffers and V8's heap settle there.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Config } from '../config/schema.js';
import type { EnrolledPortrait } from '../models/face/PortraitTypes.js';
import { PortraitEngine } from '../pipeline/engine/portrait-engine.js';
import { Mp4Writer } from '../pipeline/encode/mp4-writer.js';
import { CLOCK_RATE } from '../pipeline/records.js';
import { MB, slope, type SpeechClip } from './common.js';

export interface MemSample { mediaSec: number; wallSec: number; rss: number; heapUsed: number; external: number; arrayBuffers: number; load1: number }

export interface MetricVerdict { growthMB: number; trendMB: number; monotonic: boolean; ok: boolean }

export interface MemoryResult {
  minutes: number;
  frames: number;
  gc: boolean;
  samples: MemSample[];
  baselineSec: number;
  rss: MetricVerdict;
  heapUsed: MetricVerdict;
  pass: boolean;
  wallSec: number;
  mp4MB: number;
}

export const GROWTH_LIMIT_MB = 20;
export const MONOTONIC_MIN_MB = 5;

function verdict(samples: MemSample[], from: number, key: 'rss' | 'heapUsed'): MetricVerdict {
  const win = samples.slice(from);
  const ys = win.map((s) => MB(s[key]));
  const xs = win.map((s) => s.mediaSec);
  const growthMB = ys[ys.length - 1]! - ys[0]!;
  const trendMB = slope(xs, ys) * (xs[xs.length - 1]! - xs[0]!);
  let monotonic = ys.length > 2;
  for (let i = 1; i < ys.length; i++) if (ys[i]! < ys[i - 1]!) monotonic = false;
  monotonic &&= growthMB > MONOTONIC_MIN_MB;
  return { growthMB, trendMB, monotonic, ok: growthMB < GROWTH_LIMIT_MB && trendMB < GROWTH_LIMIT_MB && !monotonic };
}

export async function benchMemory(
  portrait: EnrolledPortrait,
  config: Config,
  clip: SpeechClip,
  minutes: number,
  gc: (() => void) | undefined,
  onSample?: (s: MemSample) => void,
  /** encode and mux to MP4 as well (a render), or run the engine alone (a live session) */
  withWriter = true,
): Promise<MemoryResult> {
  const dir = mkdtempSync(join(tmpdir(), 'kiosk-bench-memory-'));
  const path = join(dir, 'long.mp4');
  const engine = await PortraitEngine.create(portrait, config);
  const { fps } = engine.info;
  const hop = engine.info.analysisRate / fps;
  const playHop = CLOCK_RATE / fps;
  const totalFrames = Math.round(minutes * 60 * fps);
  const sampleEvery = Math.round((minutes * 3) * fps); // 30 s of media at 10 minutes
  const writer = withWriter
    ? await Mp4Writer.open(path, {
      width: engine.info.width, height: engine.info.height, fps, sampleRate: CLOCK_RATE,
      x264Preset: config.encoder.x264_preset, crf: config.encoder.crf, audioBitrate: config.encoder.audio_bitrate,
    })
    : undefined;
  const samples: MemSample[] = [];
  const t0 = performance.now();
  const sample = (frame: number) => {
    gc?.();
    const m = process.memoryUsage();
    const s: MemSample = {
      mediaSec: frame / fps, wallSec: (performance.now() - t0) / 1000,
      rss: m.rss, heapUsed: m.heapUsed, external: m.external, arrayBuffers: m.arrayBuffers,
      load1: loadavg()[0]!,
    };
    samples.push(s);
    onSample?.(s);
  };
  let done = 0;
  let pushed = 0; // frames of audio pushed
  try {
    sample(0);
    const aFrames = Math.floor(clip.analysis.length / hop);
    while (done < totalFrames) {
      const k = pushed % aFrames; // loop the speech
      engine.pushAudio(clip.analysis.subarray(k * hop, (k + 1) * hop));
      await writer?.writeAudio(clip.playout.subarray(k * playHop, (k + 1) * playHop));
      pushed++;
      for (const fr of await engine.renderReady()) {
        if (done >= totalFrames) break;
        await writer?.writeVideo(fr.i420);
        done++;
        if (done % sampleEvery === 0) sample(done);
      }
    }
  } finally {
    await writer?.close();
    await engine.close();
  }
  const wallSec = (performance.now() - t0) / 1000;
  const mp4MB = writer ? MB(statSync(path).size) : 0;
  rmSync(dir, { recursive: true, force: true });
  const from = samples.findIndex((s) => s.mediaSec >= minutes * 60 * 0.2 - 1e-6);
  const rss = verdict(samples, from, 'rss');
  const heapUsed = verdict(samples, from, 'heapUsed');
  return {
    minutes, frames: done, gc: gc !== undefined, samples, baselineSec: samples[from]!.mediaSec,
    rss, heapUsed, pass: rss.ok && heapUsed.ok, wallSec, mp4MB,
  };
}
