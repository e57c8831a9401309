/**
 * The encoder path's publisher (media.encoder: x264): the session's frames and audio are encoded
 * here (server/media/live-encoder.ts: x264 `zerolatency` + Opus, on libuv's thread pool), cut into
 * RTP (server/media/rtp-packets.ts) and handed to the router through a mediasoup DirectTransport
 * (`producer.send`): no WebRTC stack, no ICE, DTLS or SRTP inside this process, no sockets.
 *
 * Lip sync: both producers carry one RTCP CNAME; the router's sender reports map each stream's RTP
 * time to the wall clock at which its packets reached the router, and the pacer hands frames and
 * their audio over on the same wall clock, so the kiosk's browser lines them up as it does for the
 * wrtc publisher.
 *
 * Keyframes: the router forwards a kiosk's PLI / FIR as RTCP on the DirectTransport; the next frame
 * is then a keyframe (at most one forced every KEYFRAME_MIN_GAP_MS, so a lossy kiosk cannot turn
 * every frame into one for all the others). A kiosk whose video starts gets one at once (keyframeNow),
 * once per kiosk, outside that throttle.
 */
import { randomInt } from 'node:crypto';
import type { types as ms } from 'mediasoup';
import { i420Size, type AvatarFrame } from '../../pipeline/records.js';
import { LiveEncoder, type LiveEncoderStats, type X264Preset } from './live-encoder.js';
import { RtpWriter, asksForKeyframe, h264Payloads } from './rtp-packets.js';

const VIDEO_PT = 102;
const AUDIO_PT = 100;
const KEYFRAME_MIN_GAP_MS = 300;
const MAX_RESTARTS_PER_MINUTE = 3;

/**
 * What a SessionMediaSource hands every frame and 10 ms of audio to: a frame with the wall time it
 * is sent (its capture time, as wrtc would stamp it), audio with the wall time its content plays
 * (so its RTP time stays contiguous, sample for sample).
 */
export interface MediaSink {
  frame(f: AvatarFrame, sentAtMs: number): void;
  audio(samples: Float32Array, playsAtMs: number): void;
}

export type EncodedFeedStats = LiveEncoderStats & { keyframeRequests: number; encoderRestarts: number; framesRefused: number };

export interface EncodedFeedOptions {
  width: number;
  height: number;
  fps: number;
  maxKbps: number;
  preset: X264Preset;
  /** groups the two streams for the browser's lip sync */
  cname: string;
  onError(e: Error): void;
}

/** The H.264 codec the router offers and the encoder makes: constrained baseline, packetization-mode 1. */
export const H264_PARAMETERS = { 'packetization-mode': 1, 'profile-level-id': '42e01f', 'level-asymmetry-allowed': 1 };

export class EncodedFeed implements MediaSink {
  readonly producers: ms.Producer[];
  private readonly transport: ms.DirectTransport;
  private encoder: LiveEncoder;
  private readonly opts: EncodedFeedOptions;
  private readonly video: ms.Producer;
  private readonly audioProducer: ms.Producer;
  /** wall times of encoder restarts in the last minute (at most MAX_RESTARTS_PER_MINUTE) */
  private restarts: number[] = [];
  private restartCount = 0;
  private refusedFrames = 0;
  private readonly videoRtp: RtpWriter;
  private readonly audioRtp: RtpWriter;
  private readonly videoBase = randomInt(0, 0x1_0000_0000);
  private readonly audioBase = randomInt(0, 0x1_0000_0000);
  private lastKeyAt = -Infinity;
  private keyTimer: NodeJS.Timeout | undefined;
  private keyRequests = 0;
  private closed = false;

  private constructor(transport: ms.DirectTransport, video: ms.Producer, audio: ms.Producer, opts: EncodedFeedOptions) {
    this.transport = transport;
    this.producers = [video, audio];
    this.videoRtp = new RtpWriter(video.rtpParameters.encodings![0]!.ssrc!, VIDEO_PT);
    this.audioRtp = new RtpWriter(audio.rtpParameters.encodings![0]!.ssrc!, AUDIO_PT);
    this.opts = opts;
    this.video = video;
    this.audioProducer = audio;
    this.encoder = this.newEncoder();
    transport.on('rtcp', (packet: Buffer) => {
      if (asksForKeyframe(packet, this.videoRtp.ssrc)) this.keyframeAsked();
    });
  }

  static async create(router: ms.Router, opts: EncodedFeedOptions): Promise<EncodedFeed> {
    const transport = await router.createDirectTransport();
    try {
      const rtcp = { cname: opts.cname, reducedSize: true };
      const video = await transport.produce({
        kind: 'video',
        rtpParameters: {
          codecs: [
            {
              mimeType: 'video/H264',
              payloadType: VIDEO_PT,
              clockRate: 90_000,
              parameters: H264_PARAMETERS,
              rtcpFeedback: [{ type: 'nack' }, { type: 'nack', parameter: 'pli' }, { type: 'ccm', parameter: 'fir' }],
            },
          ],
          encodings: [{ ssrc: randomInt(1, 0xffff_ffff) }],
          rtcp,
        },
      });
      const audio = await transport.produce({
        kind: 'audio',
        rtpParameters: {
          codecs: [{ mimeType: 'audio/opus', payloadType: AUDIO_PT, clockRate: 48_000, channels: 2, parameters: { useinbandfec: 1, usedtx: 0 } }],
          encodings: [{ ssrc: randomInt(1, 0xffff_ffff) }],
          rtcp,
        },
      });
      return new EncodedFeed(transport, video, audio, opts);
    } catch (e) {
      transport.close();
      throw e;
    }
  }

  frame(f: AvatarFrame, sentAtMs: number): void {
    if (this.closed) return;
    const { width, height } = this.opts;
    if (f.width !== width || f.height !== height || f.i420.length !== i420Size(width, height)) {
      // the stream's size is fixed when it starts: a frame of another size is dropped, said once per 100
      if (this.refusedFrames++ % 100 === 0) {
        this.opts.onError(new Error(`the encoder takes ${width}x${height} I420 frames; a ${f.width}x${f.height} frame (${f.i420.length} bytes) was dropped (${this.refusedFrames} so far)`));
      }
      return;
    }
    this.encoder.encodeFrame(f.i420, sentAtMs);
  }

  audio(samples: Float32Array, playsAtMs: number): void {
    if (!this.closed) this.encoder.encodeAudio(samples, playsAtMs);
  }

  stats(): EncodedFeedStats {
    return { ...this.encoder.stats(), keyframeRequests: this.keyRequests, encoderRestarts: this.restartCount, framesRefused: this.refusedFrames };
  }

  private newEncoder(): LiveEncoder {
    const video = this.video;
    const audio = this.audioProducer;
    return new LiveEncoder({
      width: this.opts.width,
      height: this.opts.height,
      fps: this.opts.fps,
      maxKbps: this.opts.maxKbps,
      preset: this.opts.preset,
      onVideo: (au, ts, key) => {
        if (this.closed || video.closed) return;
        if (key) this.lastKeyAt = performance.now();
        for (const p of this.videoRtp.frame(h264Payloads(au), this.videoBase + ts)) video.send(p);
      },
      onAudio: (packet, ts) => {
        if (this.closed || audio.closed) return;
        audio.send(this.audioRtp.packet(packet, this.audioBase + ts, false));
      },
      onError: (e) => this.encoderFailed(e),
    });
  }

  /**
   * An encoder failed: said, and a new one takes over (its first frame a keyframe, its RTP clocks
   * the same wall clock), at most MAX_RESTARTS_PER_MINUTE times a minute; past that the picture
   * stops and the session's error says why.
   */
  private encoderFailed(e: Error): void {
    if (this.closed) return;
    const now = performance.now();
    this.restarts = this.restarts.filter((t) => t > now - 60_000);
    if (this.restarts.length >= MAX_RESTARTS_PER_MINUTE) {
      this.opts.onError(new Error(`${e.message}; it failed ${this.restarts.length + 1} times within a minute and is not started again`, { cause: e }));
      return;
    }
    this.restarts.push(now);
    this.restartCount += 1;
    this.opts.onError(new Error(`${e.message}; a new encoder takes over`, { cause: e }));
    this.encoder = this.newEncoder();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.keyTimer);
    this.encoder.close();
    this.transport.close();
  }

  /** A kiosk starts to watch: the next frame is a keyframe, throttle or not (SfuRoom.resume: once per kiosk). */
  keyframeNow(): void {
    if (this.closed) return;
    clearTimeout(this.keyTimer);
    this.keyTimer = undefined;
    this.encoder.requestKeyframe();
  }

  private keyframeAsked(): void {
    this.keyRequests += 1;
    if (this.keyTimer) return;
    const wait = this.lastKeyAt + KEYFRAME_MIN_GAP_MS - performance.now();
    if (wait <= 0) return this.encoder.requestKeyframe();
    this.keyTimer = setTimeout(() => {
      this.keyTimer = undefined;
      if (!this.closed) this.encoder.requestKeyframe();
    }, wait);
  }
}

