import { describe, expect, it } from 'vitest';
import { SlidingWindowScheduler } from '../../pipeline/motion/scheduler.js';

describe('SlidingWindowScheduler', () => {
  it('per-frame engine: frame k is ready once the timeline reaches (k+1) frames + lookahead', () => {
    const s = new SlidingWindowScheduler({ window: 640, hop: 640, lookahead: 271, sampleRate: 16_000 });
    for (let k = 0; k < 50; k++) {
      const at = (k + 1) * 640 + 271;
      expect(s.readyAt(k)).toBe(at);
      expect(s.windowsReady(at - 1)).toBe(k);
      expect(s.windowsReady(at)).toBe(k + 1);
      expect(s.framesReady(at, 640)).toBe(k + 1);
    }
    expect(s.latencyMs).toBeCloseTo(((640 + 271) / 16_000) * 1000, 9);
  });

  it('windowed engine: 25-frame windows every 8 frames', () => {
    const F = 640;
    const s = new SlidingWindowScheduler({ window: 25 * F, hop: 8 * F, lookahead: 3 * F, sampleRate: 16_000 });
    expect(s.windowsReady(28 * F - 1)).toBe(0);
    expect(s.windowsReady(28 * F)).toBe(1);
    expect(s.framesReady(28 * F, F)).toBe(25);
    expect(s.windowsReady(36 * F)).toBe(2);
    expect(s.framesReady(36 * F, F)).toBe(33);
    expect(s.windowStart(2)).toBe(16 * F);
    expect(s.windowEnd(2)).toBe(41 * F);
    // brute force against the definition
    for (let len = 0; len < 80 * F; len += 97) {
      let n = 0;
      while ((n * 8 + 25 + 3) * F <= len) n++;
      expect(s.windowsReady(len)).toBe(n);
    }
    expect(s.latencyMs).toBe(((28 * F) / 16_000) * 1000);
  });

  it('rejects bad sizes', () => {
    expect(() => new SlidingWindowScheduler({ window: 0, hop: 1 })).toThrow(/window/);
    expect(() => new SlidingWindowScheduler({ window: 10, hop: 2.5 })).toThrow(/hop/);
    expect(() => new SlidingWindowScheduler({ window: 10, hop: 2, lookahead: -1 })).toThrow(/lookahead/);
    expect(() => new SlidingWindowScheduler({ window: 10, hop: 2 }).windowsReady(-1)).toThrow(/length/);
  });
});
