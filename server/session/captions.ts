/**
 * Captions of a session: each sentence of a say request is shown while the avatar speaks it. A
 * sentence handed to the avatar starts playing after the speech queued ahead of it (`startsInMs`)
 * plus the pacing delay (media leaves the server that much after its place on the timeline); it is
 * shown then for its duration, and cleared at its end unless the next one has begun, or at once on
 * an interrupt. Emits CaptionEvents; the clock and timers are Node's.
 */
import type { CaptionEvent } from '../protocol.js';

export class CaptionTimeline {
  private readonly timers = new Set<NodeJS.Timeout>();
  /** the caption on screen now, if any (a number per shown sentence) */
  private showing = 0;
  private shown = 0;

  constructor(
    private readonly emit: (c: CaptionEvent) => void,
    /** ms between a sample's place on the timeline and its leaving the server (the pacer's delay) */
    private readonly delayMs: () => number,
  ) {}

  sentence(text: string, startsInMs: number, durationMs: number): void {
    this.after(startsInMs + this.delayMs(), () => {
      const id = ++this.shown;
      this.showing = id;
      this.emit({ text, durationMs: Math.round(durationMs) });
      this.after(durationMs, () => {
        if (this.showing !== id) return; // the next sentence took over
        this.showing = 0;
        this.emit({ text: null, durationMs: 0 });
      });
    });
  }

  /** Barge-in: nothing more is shown, and what is shown goes now. */
  clear(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    if (this.showing) {
      this.showing = 0;
      this.emit({ text: null, durationMs: 0 });
    }
  }

  close(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }

  private after(ms: number, fn: () => void): void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      fn();
    }, Math.max(0, ms));
    this.timers.add(t);
  }
}
