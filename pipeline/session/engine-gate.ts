/**
 * Between a LiveTimeline and its engine: passes the engine's timeline through while attached, and
 * drops it while detached (a session nobody watches: no analysis, no render), always counting the
 * position (analysis-rate samples since the start). Pure: no timers, no engine state of its own.
 *
 * attachFrom(pos) attaches again from timeline position `pos` (>= the current one): samples before
 * it are still dropped, a push that straddles it is split, so the engine's new timeline starts
 * exactly at `pos` (a frame boundary, chosen by the caller).
 */
import type { TimedPhone } from '../phonemes/phones.js';
import type { EngineTimelineSink } from './live-timeline.js';

export class EngineGate implements EngineTimelineSink {
  /** analysis-rate samples the timeline has pushed since the start (attached or not) */
  private pos = 0;
  /** where the engine's timeline (re)starts; Infinity while detached */
  private from = 0;

  constructor(private readonly engine: EngineTimelineSink) {}

  get info() {
    return this.engine.info;
  }

  get position(): number {
    return this.pos;
  }

  get attached(): boolean {
    return this.from !== Infinity;
  }

  detach(): void {
    this.from = Infinity;
  }

  attachFrom(pos: number): void {
    if (!Number.isInteger(pos) || pos < this.pos) throw new RangeError(`EngineGate.attachFrom: position ${pos} is before the current ${this.pos}`);
    this.from = pos;
  }

  pushAudio(samples: Float32Array): void {
    const skip = this.skip(samples.length);
    if (skip < samples.length) this.engine.pushAudio(skip === 0 ? samples : samples.subarray(skip));
    this.pos += samples.length;
  }

  pushSilence(count: number): void {
    const skip = this.skip(count);
    if (skip < count) this.engine.pushSilence(count - skip);
    this.pos += count;
  }

  interrupt(): void {
    if (this.pos >= this.from) this.engine.interrupt();
  }

  /** Passed on while attached (speech that starts before a pending attach point loses its phones: the loudness path shapes it). */
  pushPhones(phones: readonly TimedPhone[]): void {
    if (this.pos >= this.from) this.engine.pushPhones?.(phones);
  }

  /** how many of the next `n` samples fall before the attach point */
  private skip(n: number): number {
    return Math.min(n, Math.max(0, this.from - this.pos));
  }
}
