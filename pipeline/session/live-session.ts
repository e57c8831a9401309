/**
 * Thin real-time adapter around LiveTimeline: owns a TalkingHeadEngine, ticks the timeline on a
 * wall clock (setInterval), renders the frames the engine has ready and emits them with the
 * playout audio of their interval, in pts order:
 *   frame k, then the 10 ms audio chunks that end by frame k + 1's pts.
 * A frame is ready `lookaheadMs` after its audio arrived on the timeline, and its audio is emitted
 * together with it, so audio is delayed by the same lookahead and the browser plays them together.
 *
 * Late video policy: frames are rendered one batch at a time; a tick that finds a render still
 * running does nothing (the next one renders everything ready). Audio is never dropped.
 */
import type { TalkingHeadEngine } from '../engine/EngineTypes.js';
import { CLOCK_RATE, framePts, type AvatarFrame, type Pts } from '../records.js';
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
  /** milliseconds, monotonic (default performance.now) */
  clock: () => number;
}

type Listener<K extends keyof LiveSessionEvents> = (...args: LiveSessionEvents[K]) => void;

export class LiveSession {
  readonly engine: TalkingHeadEngine;
  readonly timeline: LiveTimeline;
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
  /** pts of the next audio chunk to emit */
  private nextAudio: Pts = 0;
  private closing: Promise<void> | null = null;

  constructor(engine: TalkingHeadEngine, options: Partial<LiveSessionOptions> = {}) {
    const tickMs = options.tickMs ?? 10;
    if (!(tickMs >= 1 && tickMs <= 1000)) throw new TypeError(`LiveSession: tickMs must be milliseconds in [1, 1000], got ${tickMs}`);
    this.engine = engine;
    this.clock = options.clock ?? (() => performance.now());
    this.timeline = new LiveTimeline(engine, { startMs: this.clock(), maxQueuedSeconds: options.maxQueuedSeconds ?? 30 });
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
  ingest(chunk: PcmChunkIn): { accepted: number } {
    this.assertOpen('ingest');
    return this.timeline.ingest(chunk, this.clock());
  }

  /** Barge-in: drops queued and not yet emitted speech; the face is at rest by the next frame. */
  interrupt(): { dropped: number } {
    this.assertOpen('interrupt');
    return this.timeline.interrupt(this.clock(), Math.max(framePts(this.nextFrame, this.engine.info.fps), this.nextAudio));
  }

  segmentEnd(): void {
    this.assertOpen('segmentEnd');
    this.timeline.segmentEnd();
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
    this.timeline.tick(this.clock());
    if (this.engine.framesReady() === 0) return;
    this.rendering = this.renderBatch().finally(() => {
      this.rendering = null;
    });
  }

  private async renderBatch(): Promise<void> {
    let frames: AvatarFrame[];
    try {
      frames = await this.engine.renderReady();
    } catch (e) {
      this.emit('error', e instanceof Error ? e : new Error(String(e)));
      return;
    }
    const fps = this.engine.info.fps;
    for (const frame of frames) {
      this.emit('frame', frame);
      this.nextFrame = frame.index + 1;
      const end = framePts(this.nextFrame, fps);
      while (this.nextAudio + AUDIO_CHUNK_SAMPLES <= end) {
        const pts = this.nextAudio;
        const samples = this.timeline.playout.takeAudio(pts, pts + AUDIO_CHUNK_SAMPLES);
        this.nextAudio = pts + AUDIO_CHUNK_SAMPLES;
        this.emit('audio', { pts, samples });
      }
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
