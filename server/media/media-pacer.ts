/**
 * Paces a session's media onto the wall clock: frame k and each 10 ms audio chunk leave at
 *
 *     release(pts) = startMs + pts / 48 + delayMs
 *
 * ONE constant delay for both tracks, so the capture times wrtc stamps on them (the time each is
 * handed over) keep the same relation as their pts, and packets leave evenly. Without it a frame
 * and its 40 ms of audio leave in one burst as soon as the frame is rendered; the browser then
 * buffers audio far more than video and plays them out of sync for seconds
 * (measured: audio jitter buffer 240-340 ms, mouth 160-190 ms ahead of the voice).
 *
 * `delayMs` must cover a frame's readiness: its window (1000/fps) + the engine's lookahead + render
 * and scheduling time. Items that arrive after their release time leave at once (counted late);
 * when several frames are due at once only the newest is sent (late video is dropped, counted);
 * audio is never dropped. interrupt() (barge-in) drops the frames not yet sent and silences the
 * audio not yet sent, so the first frame at rest follows right away and the voice stops now.
 *
 * Pure core (`PacerCore`, clock passed in) + a timer adapter (`MediaPacer`).
 */
import type { AvatarFrame } from '../../pipeline/records.js';
import { CLOCK_RATE } from '../../pipeline/records.js';
import type { SessionAudio } from '../../pipeline/session/live-session.js';

/**
 * The pacer's delay (audio of pts p leaves at its wall time + delay; its frame videoOffsetMs later).
 * It must cover
 * - the frame: it is ready once the audio of its window and the engine's lookahead has come, plus
 *   render and scheduling time (marginMs); it leaves videoOffsetMs after its audio, so the audio
 *   need not wait that part: window + lookahead + margin - videoOffset;
 * - the audio: a 10 ms chunk is emitted one timeline tick after its end: 10 ms + tickMs + margin.
 * (Before 2026-12-05 the delay was window + lookahead + margin and the frame's offset came on top:
 * with the defaults 90 ms for audio, 140 for frames; then 45 and 95 (x264: 115); with the speech
 * lead, margin 15 and the recalibrated offset, 35 and 70; with `video_delay_ms` 5 (Opus sent in the
 * pacer's tick, 2026-12-05), 35 and 60.)
 * `leadMs`: the engine takes queued speech that much ahead of the wall clock (LiveTimeline), so a
 * frame of speech is ready that much sooner. Frames of silence are not: they may leave late (at
 * once when ready), which shows nothing, as the mouth is at rest.
 */
export function pacingDelayMs(o: { fps: number; lookaheadMs: number; marginMs: number; videoOffsetMs: number; tickMs?: number; leadMs?: number }): number {
  const frame = 1000 / o.fps + o.lookaheadMs + o.marginMs - o.videoOffsetMs - (o.leadMs ?? 0);
  const audio = 10 + (o.tickMs ?? 10) + o.marginMs;
  return Math.max(frame, audio);
}

export interface PacerStats {
  framesSent: number;
  framesDropped: number;
  audioSent: number;
  /** items that arrived after their release time */
  late: number;
  /** ms, the largest lateness seen */
  maxLateMs: number;
  queuedFrames: number;
  queuedAudio: number;
}

export type Released = { kind: 'frame'; frame: AvatarFrame } | { kind: 'audio'; audio: SessionAudio };

export class PacerCore {
  private startMs: number;
  readonly delayMs: number;
  /** ms frames leave after the audio of the same pts (negative: before) */
  readonly videoOffsetMs: number;
  private frames: AvatarFrame[] = [];
  private audio: SessionAudio[] = [];
  private readonly s: PacerStats = { framesSent: 0, framesDropped: 0, audioSent: 0, late: 0, maxLateMs: 0, queuedFrames: 0, queuedAudio: 0 };

  constructor(startMs: number, delayMs: number, videoOffsetMs = 0) {
    if (!(delayMs >= 0 && delayMs <= 2000)) throw new TypeError(`PacerCore: delayMs must be in [0, 2000], got ${delayMs}`);
    if (!(Math.abs(videoOffsetMs) <= 1000)) throw new TypeError(`PacerCore: videoOffsetMs must be in [-1000, 1000], got ${videoOffsetMs}`);
    this.startMs = startMs;
    this.delayMs = delayMs;
    this.videoOffsetMs = videoOffsetMs;
  }

  /** When audio of this pts leaves. */
  releaseAt(pts: number): number {
    return this.startMs + (pts * 1000) / CLOCK_RATE + this.delayMs;
  }

  /** When the frame of this pts leaves. */
  frameReleaseAt(pts: number): number {
    return this.releaseAt(pts) + this.videoOffsetMs;
  }

  pushFrame(f: AvatarFrame, nowMs: number): void {
    this.noteLate(this.frameReleaseAt(f.pts), nowMs);
    this.frames.push(f);
  }

  pushAudio(a: SessionAudio, nowMs: number): void {
    this.noteLate(this.releaseAt(a.pts), nowMs);
    this.audio.push(a);
  }

  /** Everything due at `nowMs`, in pts order (a frame before the audio of its own start). */
  due(nowMs: number): Released[] {
    const out: Released[] = [];
    let frameDue = 0;
    while (frameDue < this.frames.length && this.frameReleaseAt(this.frames[frameDue]!.pts) <= nowMs) frameDue++;
    if (frameDue > 1) {
      // several frames due at once: they are late; show only the newest
      this.s.framesDropped += frameDue - 1;
      this.frames.splice(0, frameDue - 1);
      frameDue = 1;
    }
    const frame = frameDue === 1 ? this.frames.shift()! : undefined;
    let audioDue = 0;
    while (audioDue < this.audio.length && this.releaseAt(this.audio[audioDue]!.pts) <= nowMs) audioDue++;
    const audio = this.audio.splice(0, audioDue);
    let i = 0;
    while (i < audio.length && frame && this.releaseAt(audio[i]!.pts) < this.frameReleaseAt(frame.pts)) out.push({ kind: 'audio', audio: audio[i++]! });
    if (frame) out.push({ kind: 'frame', frame });
    while (i < audio.length) out.push({ kind: 'audio', audio: audio[i++]! });
    this.s.framesSent += frame ? 1 : 0;
    this.s.audioSent += audio.length;
    return out;
  }

  /** ms until the next item is due (Infinity when nothing waits). */
  nextDueIn(nowMs: number): number {
    const f = this.frames[0];
    const a = this.audio[0];
    const t = Math.min(f ? this.frameReleaseAt(f.pts) : Infinity, a ? this.releaseAt(a.pts) : Infinity);
    return Math.max(0, t - nowMs);
  }

  /**
   * Barge-in: frames not yet sent are dropped, audio not yet sent is silenced (its timing kept).
   * The caller may then send a frame at rest at once (MediaPacer.interrupt does).
   */
  interrupt(): void {
    this.s.framesDropped += this.frames.length;
    this.frames = [];
    this.audio = this.audio.map((a) => ({ pts: a.pts, samples: new Float32Array(a.samples.length) }));
  }

  /** A new timeline (engine restart): media pts 0 now plays at `startMs`; queued items are dropped. */
  restart(startMs: number): void {
    this.startMs = startMs;
    this.s.framesDropped += this.frames.length;
    this.frames = [];
    this.audio = [];
  }

  stats(): PacerStats {
    return { ...this.s, queuedFrames: this.frames.length, queuedAudio: this.audio.length };
  }

  private noteLate(releaseAt: number, nowMs: number): void {
    const late = nowMs - releaseAt;
    if (late > 0) {
      this.s.late += 1;
      if (late > this.s.maxLateMs) this.s.maxLateMs = late;
    }
  }
}

/** The timer adapter: releases items on time to the given sinks. */
export class MediaPacer {
  readonly core: PacerCore;
  private readonly clock: () => number;
  private readonly sink: { frame(f: AvatarFrame): void; audio(a: SessionAudio): void };
  private readonly frameMs: number;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  /** after a barge-in: the rest frame, repeated each frame interval until scheduled frames flow again */
  private filler: AvatarFrame | undefined;
  private lastFrameAt = -Infinity;

  constructor(opts: { startMs: number; delayMs: number; videoOffsetMs?: number; fps: number; clock?: () => number; frame(f: AvatarFrame): void; audio(a: SessionAudio): void }) {
    this.core = new PacerCore(opts.startMs, opts.delayMs, opts.videoOffsetMs);
    this.clock = opts.clock ?? (() => performance.now());
    this.sink = { frame: opts.frame, audio: opts.audio };
    this.frameMs = 1000 / opts.fps;
  }

  pushFrame(f: AvatarFrame): void {
    this.core.pushFrame(f, this.clock());
    this.schedule();
  }

  pushAudio(a: SessionAudio): void {
    this.core.pushAudio(a, this.clock());
    this.schedule();
  }

  /**
   * Barge-in: drops the frames not yet sent, silences the audio not yet sent, and sends `rest` (a
   * frame at rest) now, ahead of the schedule: while the voice is silent there is nothing to keep
   * in sync, and the face returns to rest one pacing delay sooner.
   */
  interrupt(rest?: AvatarFrame): void {
    this.core.interrupt();
    if (!rest) return;
    // repeated until scheduled frames resume: an encoder may drop a frame that comes too soon after
    // the previous one, and without repeats the picture would stand still for one pacing delay
    this.filler = rest;
    this.sendFrame(rest);
    this.schedule();
  }

  restart(startMs: number): void {
    this.core.restart(startMs);
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private schedule(): void {
    if (this.closed || this.timer) return;
    const now = this.clock();
    let wait = this.core.nextDueIn(now);
    if (this.filler) wait = Math.min(wait, Math.max(0, this.lastFrameAt + this.frameMs - now));
    if (!Number.isFinite(wait)) return;
    this.timer = setTimeout(() => this.fire(), wait);
  }

  private fire(): void {
    this.timer = undefined;
    if (this.closed) return;
    const now = this.clock();
    for (const item of this.core.due(now)) {
      if (item.kind === 'frame') {
        this.filler = undefined;
        this.sendFrame(item.frame);
      } else this.sink.audio(item.audio);
    }
    if (this.filler && now - this.lastFrameAt >= this.frameMs - 1) this.sendFrame(this.filler);
    this.schedule();
  }

  private sendFrame(f: AvatarFrame): void {
    this.lastFrameAt = this.clock();
    this.sink.frame(f);
  }
}
