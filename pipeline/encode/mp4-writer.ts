/**
 * Writes I420 video frames and mono float audio into an MP4 file: H.264 (libx264, yuv420p) and
 * AAC-LC (FFmpeg's native encoder), through beamcoder. Packets go to FFmpeg's interleaving
 * writer (av_interleaved_write_frame), which emits them in dts order across the two streams.
 *
 * Time: video frame k has pts k in 1/fps; audio sample n has pts n in 1/sampleRate. The AAC
 * encoder's priming delay is trimmed by the edit list the MP4 muxer writes, so players see
 * duration = the longer of the two streams (give them equal lengths for duration = audio's).
 */
import { open } from 'node:fs/promises';
import { i420Size } from '../records.js';
import { beamcoder, type Beamcoder } from '../media/beamcoder.js';
import { i420ToFrame } from './video-planes.js';
import { rescale, type Rational } from './timebase.js';
import { validateWriterOptions, type Mp4WriterOptions } from './mp4-options.js';

export type { Mp4WriterOptions } from './mp4-options.js';

export interface Mp4WriterResult {
  videoFrames: number;
  /** audio samples written (mono, at options.sampleRate) */
  audioSamples: number;
  /** seconds: the longer of video (frames / fps) and audio (samples / sampleRate) */
  durationSec: number;
  /** milliseconds spent in the H.264 encoder per frame, on average */
  encodeMsPerFrame: number;
}

/** AAC-LC codes 1024 samples per frame. */
const AAC_FRAME = 1024;

export class Mp4Writer {
  readonly path: string;
  readonly options: Readonly<Required<Mp4WriterOptions>>;

  private readonly bc: Beamcoder;
  private readonly muxer: Beamcoder;
  private readonly videoStream: Beamcoder;
  private readonly audioStream: Beamcoder;
  private readonly videoEncoder: Beamcoder;
  private readonly audioEncoder: Beamcoder;
  private readonly videoTb: Rational;
  private readonly audioTb: Rational;
  private headerWritten = false;
  /** packets produced before the header could be written (x264 opens on the first frame) */
  private early: { p: Beamcoder; kind: 'video' | 'audio' }[] = [];
  private readonly audioBuf = new Float32Array(AAC_FRAME);
  private audioFill = 0;
  private audioPts = 0;
  private videoFrames = 0;
  private audioSamples = 0;
  private encodeMs = 0;
  private closed = false;
  /** serialises writes: callers may fire writeVideo/writeAudio without awaiting each */
  private chain: Promise<void> = Promise.resolve();
  private failure: Error | undefined;

  private constructor(path: string, options: Required<Mp4WriterOptions>, bc: Beamcoder, muxer: Beamcoder) {
    this.path = path;
    this.options = Object.freeze(options);
    this.bc = bc;
    this.muxer = muxer;
    const { width, height, fps, sampleRate } = options;
    this.videoTb = [1, fps];
    this.audioTb = [1, sampleRate];
    this.videoEncoder = bc.encoder({
      name: 'libx264',
      width,
      height,
      pix_fmt: 'yuv420p',
      time_base: this.videoTb,
      framerate: [fps, 1],
      // MP4 wants SPS/PPS once in the avcC box, not in every keyframe
      flags: { GLOBAL_HEADER: true },
      priv_data: { preset: options.x264Preset, crf: options.crf },
    });
    this.audioEncoder = bc.encoder({
      name: 'aac',
      sample_rate: sampleRate,
      sample_fmt: 'fltp',
      channels: 1,
      channel_layout: 'mono',
      bit_rate: options.audioBitrate,
      time_base: this.audioTb,
      flags: { GLOBAL_HEADER: true },
    });
    this.videoStream = muxer.newStream({ name: 'h264', time_base: [1, 90_000] });
    Object.assign(this.videoStream.codecpar, { width, height, format: 'yuv420p' });
    this.videoStream.avg_frame_rate = [fps, 1];
    this.audioStream = muxer.newStream({ name: 'aac', time_base: this.audioTb });
    Object.assign(this.audioStream.codecpar, this.audioEncoder.extractParams());
  }

  /** Creates the file and the encoders. Rejects with a clear Error on bad options or an unwritable path. */
  static async open(path: string, options: Mp4WriterOptions): Promise<Mp4Writer> {
    if (typeof path !== 'string' || path.length === 0) throw new TypeError('Mp4Writer.open: path must be a non-empty string');
    const opts = validateWriterOptions(options);
    // Create the file from Node first: its errors (ENOENT, EACCES, EISDIR) are clear, and FFmpeg's
    // open through beamcoder was seen to resolve now and then for a path in a missing folder.
    try {
      await (await open(path, 'w')).close();
    } catch (e) {
      throw new Error(`Mp4Writer: cannot open "${path}" for writing: ${errorText(e)}`);
    }
    const bc = beamcoder();
    const muxer = bc.muxer({ format_name: 'mp4' });
    const writer = new Mp4Writer(path, opts, bc, muxer);
    try {
      await muxer.openIO({ url: `file:${path}` });
    } catch (e) {
      throw new Error(`Mp4Writer: cannot open "${path}" for writing: ${errorText(e)}`);
    }
    return writer;
  }

  /** Appends one I420 frame of options.width x options.height. Resolves once it is encoded. */
  writeVideo(i420: Uint8Array): Promise<void> {
    this.assertOpen('writeVideo');
    const { width, height } = this.options;
    if (!(i420 instanceof Uint8Array) || i420.length !== i420Size(width, height)) {
      throw new TypeError(
        `Mp4Writer.writeVideo: expected an I420 Uint8Array of ${i420Size(width, height)} bytes (${width}x${height}), got ${describe(i420)}`,
      );
    }
    const frame = i420ToFrame(this.bc, i420, width, height, this.videoFrames);
    this.videoFrames += 1;
    return this.enqueue(async () => {
      const t0 = performance.now();
      const { packets } = await this.videoEncoder.encode(frame);
      this.encodeMs += performance.now() - t0;
      await this.mux(packets, 'video');
    });
  }

  /** Appends mono samples in [-1, 1] at options.sampleRate. Resolves once whole AAC frames are encoded. */
  writeAudio(samples: Float32Array): Promise<void> {
    this.assertOpen('writeAudio');
    if (!(samples instanceof Float32Array)) {
      throw new TypeError(`Mp4Writer.writeAudio: expected a Float32Array of mono samples, got ${describe(samples)}`);
    }
    const frames: Beamcoder[] = [];
    let i = 0;
    while (i < samples.length) {
      const n = Math.min(AAC_FRAME - this.audioFill, samples.length - i);
      this.audioBuf.set(samples.subarray(i, i + n), this.audioFill);
      this.audioFill += n;
      i += n;
      if (this.audioFill === AAC_FRAME) frames.push(this.takeAudioFrame());
    }
    this.audioSamples += samples.length;
    if (frames.length === 0) return this.chain;
    return this.enqueue(async () => {
      const { packets } = await this.audioEncoder.encode(frames);
      await this.mux(packets, 'audio');
    });
  }

  /** Flushes both encoders, writes the trailer (moov first: +faststart) and closes the file. */
  async close(): Promise<Mp4WriterResult> {
    this.assertOpen('close');
    this.closed = true;
    const tail = this.audioFill > 0 ? [this.takeAudioFrame()] : [];
    try {
      await this.chain;
      if (this.failure) throw this.failure;
      if (this.videoFrames === 0) throw new Error('Mp4Writer: no video frames were written; an MP4 needs at least one');
      if (tail.length) await this.mux((await this.audioEncoder.encode(tail)).packets, 'audio');
      const t0 = performance.now();
      const vFlush = (await this.videoEncoder.flush()).packets;
      this.encodeMs += performance.now() - t0;
      await this.mux(vFlush, 'video');
      await this.mux((await this.audioEncoder.flush()).packets, 'audio');
      await this.muxer.writeTrailer();
    } catch (e) {
      this.abandon();
      throw e instanceof Error && e.message.startsWith('Mp4Writer') ? e : new Error(`Mp4Writer: finishing "${this.path}" failed: ${errorText(e)}`);
    }
    const { fps, sampleRate } = this.options;
    return {
      videoFrames: this.videoFrames,
      audioSamples: this.audioSamples,
      durationSec: Math.max(this.videoFrames / fps, this.audioSamples / sampleRate),
      encodeMsPerFrame: this.encodeMs / this.videoFrames,
    };
  }

  private takeAudioFrame(): Beamcoder {
    const n = this.audioFill;
    const frame = this.bc
      .frame({ format: 'fltp', sample_rate: this.options.sampleRate, channels: 1, channel_layout: 'mono', nb_samples: n, pts: this.audioPts })
      .alloc();
    const plane: Buffer = frame.data[0];
    new Float32Array(plane.buffer, plane.byteOffset, n).set(this.audioBuf.subarray(0, n));
    this.audioPts += n;
    this.audioFill = 0;
    return frame;
  }

  /** Rescales encoder timestamps into the muxer's stream time bases and hands packets to FFmpeg. */
  private async mux(packets: Beamcoder[], kind: 'video' | 'audio'): Promise<void> {
    if (!this.headerWritten) {
      if (kind === 'video' || this.videoFrames > 0) await this.writeHeader();
      else {
        this.early.push(...packets.map((p) => ({ p, kind })));
        return;
      }
    }
    for (const p of packets) await this.writePacket(p, kind);
  }

  private async writeHeader(): Promise<void> {
    // x264 opens on its first frame; only then is its SPS/PPS (extradata) known.
    const params = this.videoEncoder.extractParams();
    if (!params.extradata) throw new Error('Mp4Writer: libx264 produced no SPS/PPS header');
    Object.assign(this.videoStream.codecpar, { extradata: params.extradata, profile: params.profile, level: params.level });
    // faststart: the trailer rewrites the file with moov ahead of mdat, so playback starts before download ends
    const res = await this.muxer.writeHeader({ options: { movflags: 'faststart' } });
    if (res?.unset?.movflags !== undefined) throw new Error('Mp4Writer: the MP4 muxer refused movflags=faststart');
    this.headerWritten = true;
    const early = this.early;
    this.early = [];
    for (const { p, kind } of early) await this.writePacket(p, kind);
  }

  private async writePacket(p: Beamcoder, kind: 'video' | 'audio'): Promise<void> {
    const stream = kind === 'video' ? this.videoStream : this.audioStream;
    const from = kind === 'video' ? this.videoTb : this.audioTb;
    const to: Rational = stream.time_base;
    p.stream_index = stream.index;
    p.pts = rescale(p.pts, from, to);
    p.dts = rescale(p.dts, from, to);
    p.duration = rescale(p.duration > 0 ? p.duration : kind === 'video' ? 1 : AAC_FRAME, from, to);
    await this.muxer.writeFrame(p);
  }

  private enqueue(work: () => Promise<void>): Promise<void> {
    const next = this.chain.then(async () => {
      if (this.failure) return;
      try {
        await work();
      } catch (e) {
        this.failure = new Error(`Mp4Writer: encoding or writing "${this.path}" failed: ${errorText(e)}`);
      }
    });
    this.chain = next;
    return next.then(() => {
      if (this.failure) throw this.failure;
    });
  }

  private assertOpen(op: string): void {
    if (this.closed) throw new Error(`Mp4Writer.${op}: the writer is closed`);
  }

  private abandon(): void {
    try {
      this.muxer.forceClose();
    } catch {
      // already closed by FFmpeg: nothing left to release
    }
  }
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function describe(v: unknown): string {
  if (ArrayBuffer.isView(v)) return `${v.constructor.name}(${(v as Uint8Array).length})`;
  return v === null ? 'null' : typeof v;
}
