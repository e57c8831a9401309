/**
 * The live encoders of one session on the encoder path: H.264 (libx264 through beamcoder,
 * `zerolatency`: no B-frames, no lookahead, one frame in, one frame out) on libuv's thread pool, so
 * the main thread only copies the frame in; Opus (10 ms packets) synchronously on the main thread
 * (server/media/opus-encoder.ts: a packet leaves in the tick its audio is released, which keeps the
 * kiosk's audio jitter buffer short).
 *
 * Timestamps come from the wall clock (ms): the video's in 90 kHz ticks, the audio's in 48 kHz
 * samples, so both RTP clocks run on from one engine to the next and jump over the time a paused
 * (unwatched) session sent nothing.
 *
 * A frame that comes while the previous one is still in x264 waits in a one-frame slot; a newer
 * frame replaces it (counted in `framesSkipped`): a late frame is worth less than the current one.
 * Audio is never skipped.
 */
import { beamcoder, type Beamcoder } from '../../pipeline/media/beamcoder.js';
import { writeI420 } from '../../pipeline/encode/video-planes.js';
import { CLOCK_RATE } from '../../pipeline/records.js';
import { OpusEncoder } from './opus-encoder.js';

export const VIDEO_CLOCK = 90_000;
const AUDIO_CHUNK = CLOCK_RATE / 100;

export type X264Preset = 'ultrafast' | 'superfast' | 'veryfast' | 'faster' | 'fast' | 'medium';

export interface LiveEncoderOptions {
  width: number;
  height: number;
  fps: number;
  /** the bit rate x264 may not exceed over half a second, kbit/s */
  maxKbps: number;
  preset: X264Preset;
  /** an access unit (Annex B) at its 90 kHz timestamp */
  onVideo(accessUnit: Buffer, ts: number, key: boolean): void;
  /** one Opus packet at its 48 kHz timestamp (called inside encodeAudio) */
  onAudio(packet: Buffer, ts: number): void;
  onError(e: Error): void;
}

export interface LiveEncoderStats {
  framesEncoded: number;
  framesSkipped: number;
  keyframes: number;
  audioPackets: number;
  /** mean ms a frame spent in x264 (thread pool), over the last 100 frames */
  videoEncodeMs: number;
}

export class LiveEncoder {
  private readonly opts: LiveEncoderOptions;
  private readonly bc: Beamcoder;
  private readonly video: Beamcoder;
  private readonly audio: OpusEncoder;
  /**
   * One input frame, written again for every frame: x264 copies its input inside encode(). (A new
   * FFmpeg frame per picture and per 10 ms of audio left thousands of native finalizers to the
   * garbage collector, which then stopped the main thread for 200+ ms at a time.)
   */
  private readonly videoFrame: Beamcoder;
  private videoBusy = false;
  private pendingFrame: { i420: Uint8Array; atMs: number } | undefined;
  private keyframeWanted = true;
  private lastVideoPts = -Infinity;
  private lastAudioPts = -Infinity;
  private readonly encodeMs: number[] = [];
  private readonly counts = { framesEncoded: 0, framesSkipped: 0, keyframes: 0, audioPackets: 0 };
  private closed = false;

  constructor(opts: LiveEncoderOptions) {
    this.opts = opts;
    this.bc = beamcoder();
    const { width, height, fps, maxKbps, preset } = opts;
    const maxRate = maxKbps * 1000;
    this.video = this.bc.encoder({
      name: 'libx264',
      width,
      height,
      pix_fmt: 'yuv420p',
      time_base: [1, VIDEO_CLOCK],
      framerate: [fps, 1],
      // a keyframe every 10 s as a floor; kiosks that join or lose packets ask for one (PLI/FIR)
      gop_size: fps * 10,
      max_b_frames: 0,
      // one thread per session: sessions, not slices, use the cores
      thread_count: 1,
      rc_max_rate: maxRate,
      rc_buffer_size: Math.round(maxRate / 2),
      // constrained baseline (profile-level-id 42e01f): what every WebRTC H.264 decoder takes
      priv_data: { preset, tune: 'zerolatency', profile: 'baseline', crf: 23, 'x264-params': 'repeat-headers=1' },
    });
    this.videoFrame = this.bc.frame({ width, height, format: 'yuv420p', pts: 0 }).alloc();
    // last: its memory lives in a WebAssembly heap until close(), so nothing may throw after it
    this.audio = new OpusEncoder();
  }

  /** The next frame encoded is a keyframe (a kiosk joined, or lost packets it cannot recover). */
  requestKeyframe(): void {
    this.keyframeWanted = true;
  }

  /**
   * One I420 frame stamped `atMs` (wall clock); encoded when x264 is free. The buffer is read
   * then, not copied now: the caller does not write into a frame it has sent.
   */
  encodeFrame(i420: Uint8Array, atMs: number): void {
    if (this.closed) return;
    if (this.pendingFrame) this.counts.framesSkipped += 1;
    this.pendingFrame = { i420, atMs };
    if (!this.videoBusy) void this.runVideo();
  }

  /** 10 ms of mono audio at 48 kHz in [-1, 1] that plays at `atMs`: encoded and handed to onAudio now. */
  encodeAudio(samples: Float32Array, atMs: number): void {
    if (this.closed) return;
    if (samples.length !== AUDIO_CHUNK) throw new RangeError(`LiveEncoder.encodeAudio: expected ${AUDIO_CHUNK} samples (10 ms at 48 kHz), got ${samples.length}`);
    let packet: Buffer;
    try {
      packet = this.audio.encode(samples);
    } catch (e) {
      return this.fail(e, 'Opus');
    }
    // strictly increasing, sample for sample, whatever the clock did
    const pts = Math.max(Math.round(atMs * (CLOCK_RATE / 1000)), this.lastAudioPts + AUDIO_CHUNK);
    this.lastAudioPts = pts;
    this.counts.audioPackets += 1;
    this.opts.onAudio(packet, pts);
  }

  stats(): LiveEncoderStats {
    const ms = this.encodeMs.length ? this.encodeMs.reduce((a, b) => a + b, 0) / this.encodeMs.length : 0;
    return { ...this.counts, videoEncodeMs: ms };
  }

  close(): void {
    this.closed = true;
    this.pendingFrame = undefined;
    this.audio.close();
  }

  private async runVideo(): Promise<void> {
    this.videoBusy = true;
    try {
      while (!this.closed && this.pendingFrame) {
        const { i420, atMs } = this.pendingFrame;
        this.pendingFrame = undefined;
        // strictly increasing pts, whatever the clock did (x264 refuses a repeated one)
        const pts = Math.max(Math.round(atMs * (VIDEO_CLOCK / 1000)), this.lastVideoPts + 1);
        this.lastVideoPts = pts;
        const frame = this.videoFrame;
        writeI420(frame, i420, this.opts.width, this.opts.height);
        frame.pts = pts;
        frame.pict_type = this.keyframeWanted ? 'I' : 'NONE';
        this.keyframeWanted = false;
        const t0 = performance.now();
        const { packets } = await this.video.encode(frame);
        this.encodeMs.push(performance.now() - t0);
        if (this.encodeMs.length > 100) this.encodeMs.shift();
        if (this.closed) return;
        for (const p of packets as Beamcoder[]) {
          const key = p.flags?.KEY === true;
          this.counts.framesEncoded += 1;
          if (key) this.counts.keyframes += 1;
          this.opts.onVideo(payload(p), p.pts as number, key);
        }
      }
    } catch (e) {
      this.fail(e, 'H.264');
    } finally {
      this.videoBusy = false;
    }
  }

  private fail(e: unknown, what: string): void {
    if (this.closed) return;
    this.close();
    const err = new Error(`the ${what} encoder failed: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
    this.opts.onError(err);
  }
}

/** A packet's bytes: beamcoder's `data` also holds FFmpeg's 64 bytes of zero padding past `size`. */
function payload(p: Beamcoder): Buffer {
  return (p.data as Buffer).subarray(0, p.size as number);
}
