/**
 * H.264 encode cost of the rendered frames: a pure writeVideo() loop through Mp4Writer (the
 * config's preset and crf, no audio). x264 encodes on its own frame threads, so the cost is the
 * process CPU time (process.cpuUsage, all threads) per frame, close()'s flush included in the
 * mean. Per-frame p95 comes from the CPU delta around each call: x264's pipelining moves work
 * between calls, so the mean is exact and the p95 is indicative.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Config } from '../config/schema.js';
import { Mp4Writer } from '../pipeline/encode/mp4-writer.js';
import { OpusEncoder } from '../server/media/opus-encoder.js';
import { summarise, type Summary } from './common.js';

export interface EncodeResult {
  frames: number;
  preset: string;
  crf: number;
  /** process CPU per frame (all threads), total incl. flush / frames */
  cpuMsPerFrame: number;
  /** per-call CPU deltas */
  cpuPerCall: Summary;
  wallMsPerFrame: number;
  /** Mp4Writer's own figure: wall time inside the encoder calls */
  writerEncodeMsPerFrame: number;
  kbps: number;
}

export async function benchEncode(frames: Uint8Array[], width: number, height: number, fps: number, config: Config): Promise<EncodeResult> {
  const dir = mkdtempSync(join(tmpdir(), 'kiosk-bench-encode-'));
  const path = join(dir, 'encode.mp4');
  try {
    const writer = await Mp4Writer.open(path, {
      width, height, fps, sampleRate: 48_000,
      x264Preset: config.encoder.x264_preset, crf: config.encoder.crf, audioBitrate: config.encoder.audio_bitrate,
    });
    const per: number[] = [];
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    let c = process.cpuUsage();
    for (const fr of frames) {
      await writer.writeVideo(fr);
      const d = process.cpuUsage(c);
      c = process.cpuUsage();
      per.push((d.user + d.system) / 1000);
    }
    const res = await writer.close();
    const wall = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    return {
      frames: frames.length,
      preset: config.encoder.x264_preset,
      crf: config.encoder.crf,
      cpuMsPerFrame: (cpu.user + cpu.system) / 1000 / frames.length,
      cpuPerCall: summarise(per),
      wallMsPerFrame: wall / frames.length,
      writerEncodeMsPerFrame: res.encodeMsPerFrame,
      kbps: (statSync(path).size * 8) / 1000 / (frames.length / fps),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A live session's Opus cost: one 10 ms packet a call, on the calling (main) thread. */
export interface OpusResult {
  packets: number;
  msPerPacket: Summary;
  /** share of one core a session's audio takes (100 packets a second) */
  coreShare: number;
}

/** Encodes 48 kHz mono speech in 10 ms packets as the live path does, timing each call. */
export function benchOpus(playout: Float32Array): OpusResult {
  const enc = new OpusEncoder();
  try {
    const chunks = Math.floor(playout.length / 480);
    // warm-up: the WebAssembly tiers up
    for (let k = 0; k < Math.min(200, chunks); k++) enc.encode(playout.subarray(k * 480, k * 480 + 480));
    const per: number[] = [];
    for (let k = 0; k < chunks; k++) {
      const t0 = performance.now();
      enc.encode(playout.subarray(k * 480, k * 480 + 480));
      per.push(performance.now() - t0);
    }
    const s = summarise(per);
    return { packets: chunks, msPerPacket: s, coreShare: (s.mean * 100) / 1000 };
  } finally {
    enc.close();
  }
}
