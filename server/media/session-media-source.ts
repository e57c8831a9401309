/**
 * The outgoing media of one avatar session, fed with the frames a LiveSession emits and the very
 * audio that drove them, in pts order, and handed on to
 * - wrtc's RTCVideoSource (I420 frames) and RTCAudioSource (10 ms of 48 kHz s16 mono), made on the
 *   first createTrack(): the wrtc publisher of the SFU path and each direct peer connection take
 *   tracks from them;
 * - sinks (addSink): the encoder path's publisher (server/media/encoded-feed.ts), with the wall
 *   time each frame and chunk plays at.
 * So there is one source of truth for what the session shows, and no wrtc source where nothing
 * takes a track.
 *
 * Frames and their audio arrive together (LiveSession emits frame k, then the audio of its
 * interval), so the capture times libwebrtc stamps on them agree and the browser, which gets
 * both tracks in one MediaStream, plays them in sync.
 */
import { floatToS16 } from '../../pipeline/audio/pcm.js';
import type { AvatarFrame } from '../../pipeline/records.js';
import { CLOCK_RATE } from '../../pipeline/records.js';
import type { SessionAudio } from '../../pipeline/session/live-session.js';
import { loadWrtc, type Wrtc } from './wrtc.js';
import type { MediaSink } from './encoded-feed.js';

type VideoSource = InstanceType<Wrtc['nonstandard']['RTCVideoSource']>;
type AudioSource = InstanceType<Wrtc['nonstandard']['RTCAudioSource']>;

export interface MediaSourceStats {
  framesSent: number;
  audioChunksSent: number;
  /** frames per second sent over the last ~2 s */
  fps: number;
  /** ms between a frame's audio end (media time) and sending it: lookahead + render + tick, last frame */
  frameLatencyMs: number;
  /** ms spent handing the last frame over (wrtc: copy + hand-off to its encoder thread; sinks: to their queue) */
  sendMsLast: number;
}

export class SessionMediaSource {
  readonly width: number;
  readonly height: number;
  readonly fps: number;
  private video: VideoSource | undefined;
  private audio: AudioSource | undefined;
  private readonly sinks = new Set<MediaSink>();
  private readonly tracks = new Set<MediaStreamTrack>();
  private readonly pcm = new Int16Array(CLOCK_RATE / 100);
  private framesSent = 0;
  private audioChunksSent = 0;
  private readonly sendTimes: number[] = [];
  private frameLatencyMs = 0;
  private sendMsLast = 0;
  private closed = false;
  /** wall-clock ms at which media pts 0 plays (the session's start) */
  private startMs: number;
  private readonly clock: () => number;

  constructor(opts: { width: number; height: number; fps: number; startMs: number; clock?: () => number }) {
    this.width = opts.width;
    this.height = opts.height;
    this.fps = opts.fps;
    this.startMs = opts.startMs;
    this.clock = opts.clock ?? (() => performance.now());
  }

  /** A new track on the video or audio source; stopped at close(). */
  createTrack(kind: 'video' | 'audio'): MediaStreamTrack {
    if (this.closed) throw new Error('SessionMediaSource: closed');
    const { nonstandard } = loadWrtc();
    const track = kind === 'video' ? (this.video ??= new nonstandard.RTCVideoSource({ isScreencast: false })).createTrack() : (this.audio ??= new nonstandard.RTCAudioSource()).createTrack();
    this.tracks.add(track);
    return track;
  }

  /** Forgets (and stops) a track made by createTrack. */
  releaseTrack(track: MediaStreamTrack): void {
    if (this.tracks.delete(track)) track.stop();
  }

  /** Hands every frame and audio chunk from now on to `sink` as well; returns its removal. */
  addSink(sink: MediaSink): () => void {
    if (this.closed) throw new Error('SessionMediaSource: closed');
    this.sinks.add(sink);
    return () => void this.sinks.delete(sink);
  }

  /** Wall-clock ms at which media pts `pts` plays. */
  private playsAt(pts: number): number {
    return this.startMs + (pts * 1000) / CLOCK_RATE;
  }

  sendFrame(frame: AvatarFrame): void {
    if (this.closed) return;
    const t0 = this.clock();
    this.video?.onFrame({ width: frame.width, height: frame.height, data: frame.i420 });
    // a frame is stamped with the time it is handed over, as wrtc stamps its capture time: a frame
    // sent out of schedule (barge-in's frame at rest) or late then looks on time to the browser
    for (const sink of this.sinks) sink.frame(frame, t0);
    const t1 = this.clock();
    this.sendMsLast = t1 - t0;
    const audioEndMs = this.playsAt(frame.pts + CLOCK_RATE / this.fps);
    this.frameLatencyMs = t1 - audioEndMs;
    this.framesSent += 1;
    this.sendTimes.push(t1);
    while (this.sendTimes.length > 0 && this.sendTimes[0]! < t1 - 2000) this.sendTimes.shift();
  }

  /** 10 ms of 48 kHz mono float audio. */
  sendAudio(chunk: SessionAudio): void {
    if (this.closed) return;
    const s = chunk.samples;
    if (s.length !== this.pcm.length) throw new TypeError(`SessionMediaSource.sendAudio: expected ${this.pcm.length} samples, got ${s.length}`);
    if (this.audio) {
      floatToS16(s, this.pcm);
      this.audio.onData({ samples: this.pcm, sampleRate: CLOCK_RATE, bitsPerSample: 16, channelCount: 1, numberOfFrames: this.pcm.length });
    }
    if (this.sinks.size > 0) {
      const at = this.playsAt(chunk.pts);
      for (const sink of this.sinks) sink.audio(s, at);
    }
    this.audioChunksSent += 1;
  }

  /** A new engine started: its media pts 0 plays at `startMs` (wall clock, ms). */
  restartClock(startMs: number): void {
    this.startMs = startMs;
  }

  stats(): MediaSourceStats {
    const now = this.clock();
    const recent = this.sendTimes.filter((t) => t >= now - 2000);
    const span = recent.length > 1 ? (recent[recent.length - 1]! - recent[0]!) / 1000 : 0;
    return {
      framesSent: this.framesSent,
      audioChunksSent: this.audioChunksSent,
      fps: span > 0 && now - recent[recent.length - 1]! < 500 ? (recent.length - 1) / span : 0,
      frameLatencyMs: this.frameLatencyMs,
      sendMsLast: this.sendMsLast,
    };
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const t of this.tracks) t.stop();
    this.tracks.clear();
    this.sinks.clear();
  }
}

