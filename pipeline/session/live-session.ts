/**
 * Thin real-time adapter around LiveTimeline: owns a TalkingHeadEngine, ticks the timeline on a
 * wall clock (setInterval), renders the frames the engine has ready and emits them, and emits the
 * playout audio on its own:
 *   - audio: each 10 ms chunk as soon as the timeline has passed it, in pts order;
 *   - frames: each as soon as the engine has rendered it, in pts order.
 * Audio therefore runs ahead of the frame that shows it by the engine's window + lookahead (and
 * more when a render is late), less `leadMs` while speech is queued (the engine takes it that much
 * ahead: LiveTimeline); the consumer aligns them by pts (server/media/media-pacer.ts sends both at
 * pts + one constant delay). Audio never waits for video: a stalled render delays frames, not the
 * voice.
 *
 * Late video policy: frames are rendered one batch at a time; a tick that finds a render still
 * running does not advance the timeline (the next one does, with everything since). Audio is
 * never dropped.
 *
 * pause() (nobody watches): the timeline goes on (speech is taken, queued and passes on the wall
 * clock, audio chunks are emitted, silent: nobody hears them) but the engine gets nothing and
 * renders nothing, and the speech is not even resampled (LiveTimeline.setPassing). resume(): the
 * engine is reset and starts again at the next frame boundary, its frames numbered from there, so
 * the first frame (the face at rest) follows after the engine's window and lookahead. The engine
 * must drop frames it rendered before a reset (WorkerEngine does).
 */
import type { TimedPhone } from '../phonemes/phones.js';
import type { TalkingHeadEngine } from '../engine/EngineTypes.js';
import { CLOCK_RATE, framePts, type AvatarFrame, type Pts } from '../records.js';
import { EngineGate } from './engine-gate.js';
import { LiveTimeline, type LiveTimelineStats, type PcmChunkIn } from './live-timeline.js';

/** 10 ms at CLOCK_RATE */
export const AUDIO_CHUNK_SAMPLES = CLOCK_RATE / 100;

export interface SessionAudio {
  /** CLOCK_RATE units */
  pts: Pts;
  /** AUDIO_CHUNK_SAMPLES mono samples at CLOCK_RATE */
  samples: Float32Array;
}

export interface LiveSessionEvents {
  frame: [AvatarFrame];
  audio: [SessionAudio];
  /** a render failed; the session goes on */
  error: [Error];
}

export interface LiveSessionOptions {
  /** milliseconds between ticks (default 10) */
  tickMs: number;
  /** seconds of speech that may wait (default 30) */
  maxQueuedSeconds: number;
  /** ms of queued speech the engine may take ahead of the wall clock (default 0; LiveTimeline) */
  leadMs: number;
  /** milliseconds, monotonic (default performance.now) */
  clock: () => number;
}

type Listener<K extends keyof LiveSessionEvents> = (...args: LiveSessionEvents[K]) => void;

export class LiveSession {
  readonly engine: TalkingHeadEngine;
  readonly timeline: LiveTimeline;
  /** clock time (ms) at which media pts 0 plays */
  readonly startMs: number;
  private readonly clock: () => number;
  private readonly timer: NodeJS.Timeout;
  private readonly listeners: { [K in keyof LiveSessionEvents]: Set<Listener<K>> } = {
    frame: new Set(),
    audio: new Set(),
    error: new Set(),
  };
  private rendering: Promise<void> | null = null;
  /** index of the next frame to emit */
  private nextFrame = 0;
  private readonly gate: EngineGate;
  /** the engine's frame 0 is this session's frame `frameBase` (after a resume) */
  private frameBase = 0;
  private pausedFrames = false;
  /** counts pauses and resumes */
  private epoch = 0;
  /** pts of the next audio chunk to emit */
  private nextAudio: Pts = 0;
  private closing: Promise<void> | null = null;

  constructor(engine: TalkingHeadEngine, options: Partial<LiveSessionOptions> = {}) {
    const tickMs = options.tickMs ?? 10;
    if (!(tickMs >= 1 && tickMs <= 1000)) throw new TypeError(`LiveSession: tickMs must be milliseconds in [1, 1000], got ${tickMs}`);
    this.engine = engine;
    this.clock = options.clock ?? (() => performance.now());
    this.startMs = this.clock();
    this.gate = new EngineGate(engine);
    this.timeline = new LiveTimeline(this.gate, { startMs: this.startMs, maxQueuedSeconds: options.maxQueuedSeconds ?? 30, leadMs: options.leadMs ?? 0 });
    this.timer = setInterval(() => this.onTick(), tickMs);
  }

  get closed(): boolean {
    return this.closing !== null;
  }

  on<K extends keyof LiveSessionEvents>(event: K, listener: Listener<K>): this {
    this.listeners[event].add(listener);
    return this;
  }

  off<K extends keyof LiveSessionEvents>(event: K, listener: Listener<K>): this {
    this.listeners[event].delete(listener);
    return this;
  }

  /** Queues speech (see LiveTimeline.ingest: throws AudioFormatError or QueueFullError). */
  /** `phones`: the utterance's phones (times from its start), when its TTS knows them. */
  ingest(chunk: PcmChunkIn, phones?: readonly TimedPhone[]): { accepted: number } {
    this.assertOpen('ingest');
    return this.timeline.ingest(chunk, this.clock(), phones);
  }

  /**
   * Barge-in: drops queued and not yet emitted speech; the face is at rest by the next frame. The
   * audio of frames already emitted is kept, up to the media position: frames emitted beyond it
   * (rendered from speech the engine took ahead, leadMs) show speech that will not be heard, and
   * are the consumer's to drop (timeline.enginePts).
   */
  interrupt(): { dropped: number } {
    this.assertOpen('interrupt');
    const shown = Math.min(framePts(this.nextFrame, this.engine.info.fps), this.timeline.mediaPts);
    return this.timeline.interrupt(this.clock(), Math.max(shown, this.nextAudio));
  }

  segmentEnd(): void {
    this.assertOpen('segmentEnd');
    this.timeline.segmentEnd();
  }

  /** the engine renders nothing (pause()) */
  get paused(): boolean {
    return this.pausedFrames;
  }

  /** Nobody watches: the timeline goes on, the engine gets nothing and renders nothing. */
  pause(): void {
    this.assertOpen('pause');
    if (this.pausedFrames) return;
    this.pausedFrames = true;
    this.epoch += 1;
    this.gate.detach();
    this.timeline.setPassing(true);
  }

  /**
   * Somebody watches again: the engine starts over (reset) at the next frame boundary of the
   * timeline; its frames carry this session's numbering and pts from there on.
   */
  resume(): void {
    this.assertOpen('resume');
    if (!this.pausedFrames) return;
    this.pausedFrames = false;
    this.epoch += 1;
    this.timeline.setPassing(false);
    const { analysisRate, fps } = this.engine.info;
    const k = Math.max(this.nextFrame, Math.ceil((this.gate.position * fps) / analysisRate - 1e-9));
    this.engine.reset();
    this.frameBase = k;
    this.nextFrame = k;
    this.gate.attachFrom(Math.round((k * analysisRate) / fps));
  }

  stats(): LiveTimelineStats & { framesEmitted: number; audioEmittedPts: Pts } {
    return { ...this.timeline.stats(), framesEmitted: this.nextFrame, audioEmittedPts: this.nextAudio };
  }

  /** Stops the clock, waits for a render in flight and closes the engine. Safe to call twice. */
  close(): Promise<void> {
    if (!this.closing) {
      clearInterval(this.timer);
      this.closing = (async () => {
        try {
          await this.rendering;
        } finally {
          await this.engine.close();
        }
      })();
    }
    return this.closing;
  }

  private onTick(): void {
    if (this.closing || this.rendering) return;
    try {
      this.timeline.tick(this.clock());
    } catch (e) {
      // an engine that failed (e.g. its worker thread died) must not take the process down with a timer
      this.emit('error', e instanceof Error ? e : new Error(String(e)));
      return;
    }
    this.emitAudio();
    if (this.pausedFrames || this.engine.framesReady() === 0) return;
    this.rendering = this.renderBatch().finally(() => {
      this.rendering = null;
    });
  }

  private async renderBatch(): Promise<void> {
    const epoch = this.epoch;
    let frames: AvatarFrame[];
    try {
      frames = await this.engine.renderReady();
    } catch (e) {
      this.emit('error', e instanceof Error ? e : new Error(String(e)));
      return;
    }
    // a pause or resume came while the engine rendered: those frames belong to the engine's old timeline
    if (epoch !== this.epoch) return;
    const base = this.frameBase;
    for (const f of frames) {
      const frame = base === 0 ? f : { ...f, index: f.index + base, pts: framePts(f.index + base, this.engine.info.fps) };
      this.emit('frame', frame);
      this.nextFrame = frame.index + 1;
    }
  }

  /** Emits the 10 ms chunks of playout audio the timeline has passed. */
  private emitAudio(): void {
    const until = this.timeline.mediaPts;
    while (this.nextAudio + AUDIO_CHUNK_SAMPLES <= until) {
      const pts = this.nextAudio;
      const samples = this.timeline.playout.takeAudio(pts, pts + AUDIO_CHUNK_SAMPLES);
      this.nextAudio = pts + AUDIO_CHUNK_SAMPLES;
      this.emit('audio', { pts, samples });
    }
  }

  /** Calls each listener; one that throws cannot break the session (reported on 'error'). */
  private emit<K extends keyof LiveSessionEvents>(event: K, ...args: LiveSessionEvents[K]): void {
    for (const l of this.listeners[event]) {
      try {
        (l as (...a: LiveSessionEvents[K]) => void)(...args);
      } catch (e) {
        if (event !== 'error') this.emit('error', e instanceof Error ? e : new Error(String(e)));
        else console.error('LiveSession: an error listener threw', e);
      }
    }
  }

  private assertOpen(op: string): void {
    if (this.closing) throw new Error(`LiveSession.${op}: the session is closed`);
  }
}
