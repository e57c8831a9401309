/** CaptionTimeline: when a sentence's caption shows and goes, on Node's timers (faked here). */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { CaptionEvent } from '../../server/protocol.js';
import { CaptionTimeline } from '../../server/session/captions.js';

describe('CaptionTimeline', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('shows a sentence after the speech ahead of it plus the pacing delay, for its duration; the next one follows without a gap', () => {
    const seen: [number, CaptionEvent][] = [];
    const t0 = Date.now();
    const c = new CaptionTimeline((e) => seen.push([Date.now() - t0, e]), () => 80);
    c.sentence('One.', 0, 1000);
    c.sentence('Two.', 1000, 500);
    vi.advanceTimersByTime(3000);
    expect(seen).toEqual([
      [80, { text: 'One.', durationMs: 1000 }],
      [1080, { text: 'Two.', durationMs: 500 }],
      [1580, { text: null, durationMs: 0 }],
    ]);
  });

  it('an interrupt clears what shows at once and cancels what was to come', () => {
    const seen: CaptionEvent[] = [];
    const c = new CaptionTimeline((e) => seen.push(e), () => 50);
    c.sentence('One.', 0, 1000);
    c.sentence('Two.', 1000, 1000);
    vi.advanceTimersByTime(300);
    c.clear();
    vi.advanceTimersByTime(5000);
    expect(seen).toEqual([{ text: 'One.', durationMs: 1000 }, { text: null, durationMs: 0 }]);
    // nothing showing: a clear says nothing
    c.clear();
    expect(seen).toHaveLength(2);
  });
});
