/**
 * The playout side of a live session: speech audio at CLOCK_RATE (48 kHz) placed at the pts where
 * it plays, the same pts the engine's timeline gave it. The media sender takes audio by pts range,
 * so the audio sent with a frame's interval is the very audio that drove that frame.
 *
 * Only speech is stored; a range with no speech reads as silence. Pure: no timers, no clock.
 * Queue policy: audio is never dropped while it is ahead of the reader, except by an explicit
 * `dropFrom` (barge-in). Audio that nobody took stays at most `maxHeldSamples` behind the newest
 * write; older is discarded as stale (counted in stats), so an absent reader cannot grow memory.
 */
import { CLOCK_RATE, type Pts } from '../records.js';

interface Segment {
  pts: Pts;
  samples: Float32Array;
}

export interface AvPairingStats {
  /** speech samples held (not yet taken) */
  heldSamples: number;
  /** samples handed out by takeAudio (speech and silence) */
  takenSamples: number;
  /** speech samples discarded by dropFrom */
  droppedSamples: number;
  /** speech samples discarded because nobody took them in time */
  staleSamples: number;
}

export class AvPairing {
  private segments: Segment[] = [];
  /** everything before this pts has been taken or discarded */
  private readPts: Pts = 0;
  private readonly maxHeld: number;
  private taken = 0;
  private dropped = 0;
  private stale = 0;

  /** `maxHeldSamples`: CLOCK_RATE samples kept behind the newest write (default 10 s) */
  constructor(maxHeldSamples = 10 * CLOCK_RATE) {
    if (!Number.isInteger(maxHeldSamples) || maxHeldSamples <= 0) {
      throw new TypeError(`AvPairing: maxHeldSamples must be a positive integer, got ${maxHeldSamples}`);
    }
    this.maxHeld = maxHeldSamples;
  }

  /** Places speech at `pts` (CLOCK_RATE units). Writes before the read position are clipped. */
  write(pts: Pts, samples: Float32Array): void {
    if (!Number.isInteger(pts)) throw new TypeError(`AvPairing.write: pts must be an integer, got ${pts}`);
    if (samples.length === 0) return;
    let s = samples;
    let p = pts;
    if (p < this.readPts) {
      const skip = this.readPts - p;
      if (skip >= s.length) return;
      s = s.subarray(skip);
      p = this.readPts;
    }
    this.segments.push({ pts: p, samples: s.slice() });
    this.segments.sort((a, b) => a.pts - b.pts);
    const end = p + s.length;
    const staleBefore = end - this.maxHeld;
    if (staleBefore > this.readPts) this.stale += this.discardBefore(staleBefore);
  }

  /**
   * Audio for [fromPts, toPts), silence where no speech was written. Everything before `toPts` is
   * consumed: a later call cannot read it again.
   */
  takeAudio(fromPts: Pts, toPts: Pts): Float32Array {
    if (!Number.isInteger(fromPts) || !Number.isInteger(toPts) || toPts < fromPts) {
      throw new TypeError(`AvPairing.takeAudio: expected integer pts with from <= to, got [${fromPts}, ${toPts})`);
    }
    const out = new Float32Array(toPts - fromPts);
    for (const seg of this.segments) {
      const a = Math.max(fromPts, seg.pts);
      const b = Math.min(toPts, seg.pts + seg.samples.length);
      if (a < b) out.set(seg.samples.subarray(a - seg.pts, b - seg.pts), a - fromPts);
    }
    this.discardBefore(toPts);
    this.taken += out.length;
    return out;
  }

  /** Barge-in: discards speech at or after `pts`. Returns how many speech samples were dropped. */
  dropFrom(pts: Pts): number {
    let n = 0;
    const kept: Segment[] = [];
    for (const seg of this.segments) {
      const end = seg.pts + seg.samples.length;
      if (end <= pts) kept.push(seg);
      else if (seg.pts >= pts) n += seg.samples.length;
      else {
        n += end - pts;
        kept.push({ pts: seg.pts, samples: seg.samples.subarray(0, pts - seg.pts) });
      }
    }
    this.segments = kept;
    this.dropped += n;
    return n;
  }

  stats(): AvPairingStats {
    let held = 0;
    for (const seg of this.segments) held += seg.samples.length;
    return { heldSamples: held, takenSamples: this.taken, droppedSamples: this.dropped, staleSamples: this.stale };
  }

  /** Discards speech before `pts`; returns the count discarded. */
  private discardBefore(pts: Pts): number {
    if (pts > this.readPts) this.readPts = pts;
    let n = 0;
    const kept: Segment[] = [];
    for (const seg of this.segments) {
      const end = seg.pts + seg.samples.length;
      if (end <= pts) n += seg.samples.length;
      else if (seg.pts >= pts) kept.push(seg);
      else {
        n += pts - seg.pts;
        kept.push({ pts, samples: seg.samples.subarray(pts - seg.pts) });
      }
    }
    this.segments = kept;
    return n;
  }
}
