/**
 * Offline rendering: an audio file and a portrait in, an H.264 + AAC MP4 out, through the same
 * engine the live server streams from. The video has round(duration * fps) frames, so its
 * duration equals the audio's within half a frame.
 */
import { rm } from 'node:fs/promises';
import { ANALYSIS_RATE, CLOCK_RATE } from '../records.js';
import type { TimedPhone } from '../phonemes/phones.js';
import type { Config } from '../../config/schema.js';
import { decodeAudioFile } from '../audio/decode-file.js';
import { resample } from '../audio/resampler.js';
import { enrolOptions, enrolPortrait } from '../../models/face/enrol.js';
import { createEngine } from '../engine/create-engine.js';
import { SonicEngine } from '../engine/sonic-engine.js';
import { Mp4Writer } from '../encode/mp4-writer.js';
import type { EngineStats } from '../engine/EngineTypes.js';

export interface RenderRequest {
  /** path (or bytes) of the audio file */
  audio: string | Uint8Array;
  /** path (or bytes) of the portrait image */
  portrait: string | Uint8Array;
  /** path of the MP4 to write */
  out: string;
  config: Config;
  /** called after each frame with (frames done, frames total) */
  onProgress?: (done: number, total: number) => void;
  /** stop early: the MP4 is closed and holds the frames rendered so far */
  signal?: AbortSignal;
  /** the phones of the audio (times in seconds from its start), when the TTS that spoke it knows them */
  phones?: readonly TimedPhone[];
}

export interface RenderResult {
  frames: number;
  width: number;
  height: number;
  fps: number;
  /** seconds of audio (and video) */
  durationSec: number;
  /** seconds of wall time the render took, decode and enrolment included */
  wallSec: number;
  /** time per stage, ms */
  stages: Record<string, number>;
  engine: EngineStats;
}

/** Analysis audio is pushed in pieces this long, as a live stream would deliver it. */
const PUSH_SAMPLES = ANALYSIS_RATE / 5;

export async function renderToMp4(req: RenderRequest): Promise<RenderResult> {
  const t0 = performance.now();
  const stages: Record<string, number> = {};
  const mark = (name: string, since: number) => {
    stages[name] = (stages[name] ?? 0) + (performance.now() - since);
    return performance.now();
  };
  const { config } = req;
  const fps = config.avatar.fps;

  let t = performance.now();
  const decoded = await decodeAudioFile(req.audio);
  const analysis = resample(decoded.samples, decoded.sampleRate, ANALYSIS_RATE);
  const playout = resample(decoded.samples, decoded.sampleRate, CLOCK_RATE);
  t = mark('decode', t);

  const portrait = await enrolPortrait(req.portrait, enrolOptions(config.avatar, config.runtime.cache_dir));
  t = mark('enrol', t);

  const engine = await createEngine(portrait, config);
  const total = Math.round(decoded.durationSec * fps);
  let writer: Mp4Writer | undefined;
  let done = 0;
  let finished = false;
  let closeError: unknown;
  try {
    writer = await Mp4Writer.open(req.out, {
      width: engine.info.width,
      height: engine.info.height,
      fps,
      sampleRate: CLOCK_RATE,
      x264Preset: config.encoder.x264_preset,
      crf: config.encoder.crf,
      audioBitrate: config.encoder.audio_bitrate,
    });
    const out = writer;
    const drain = async () => {
      const frames = await engine.renderReady();
      for (const f of frames) {
        if (done >= total) break;
        await out.writeVideo(f.i420);
        done++;
        req.onProgress?.(done, total);
      }
    };
    if (engine instanceof SonicEngine && config.sonic.render_mode === 'offline') {
      // Sonic offline: the whole clip at once, as the reference samples it
      await engine.renderClip(analysis, total, async (f) => {
        await out.writeVideo(f.i420);
        done++;
        req.onProgress?.(done, total);
      }, req.signal);
    } else {
      // Sonic takes no phones (it shapes the mouth from the audio itself)
      if (req.phones && req.phones.length > 0 && !(engine instanceof SonicEngine)) engine.pushPhones?.(req.phones);
      for (let off = 0; off < analysis.length && !req.signal?.aborted; off += PUSH_SAMPLES) {
        engine.pushAudio(analysis.subarray(off, off + PUSH_SAMPLES));
        await drain();
      }
      // the tail: silence lets the engine's lookahead run out so the last frames render
      const hop = Math.round(ANALYSIS_RATE / fps);
      while (done < total && !req.signal?.aborted) {
        engine.pushSilence(hop);
        await drain();
      }
    }
    await writer.writeAudio(playout);
    t = mark('render+encode', t);
    finished = true;
  } finally {
    try {
      await writer?.close();
    } catch (e) {
      closeError = e;
    }
    await engine.close();
    // a render that failed leaves no half-written file that could pass for a good one
    if (!finished || closeError) await rm(req.out, { force: true });
  }
  if (closeError) throw closeError;
  const st = engine.stats();
  return {
    frames: done,
    width: engine.info.width,
    height: engine.info.height,
    fps,
    durationSec: decoded.durationSec,
    wallSec: (performance.now() - t0) / 1000,
    stages,
    engine: st,
  };
}
