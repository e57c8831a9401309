import { describe, expect, it } from 'vitest';
import { PacerCore, pacingDelayMs } from '../../server/media/media-pacer.js';
import type { AvatarFrame } from '../../pipeline/records.js';

const frame = (index: number): AvatarFrame => ({ kind: 'frame', pts: index * 1920, index } as unknown as AvatarFrame);
const chunk = (pts: number) => ({ pts, samples: new Float32Array(480) });

describe('pacingDelayMs', () => {
  it('lets audio leave as soon as the frame shown with it can be ready, not a whole frame offset later', () => {
    // 25 fps, 25 ms lookahead, a 25 ms margin, frames 20 + 30 ms after their audio (the defaults until 2026-12-05)
    expect(pacingDelayMs({ fps: 25, lookaheadMs: 25, marginMs: 25, videoOffsetMs: 50 })).toBe(45);
    // the frame leaves at delay + offset = 95 ms after its pts: its window, lookahead and margin fit
    const d = pacingDelayMs({ fps: 25, lookaheadMs: 25, marginMs: 25, videoOffsetMs: 50 });
    expect(d + 50).toBeGreaterThanOrEqual(40 + 25 + 25);
  });

  it('never lets audio leave before its chunk is emitted (10 ms + a tick + margin)', () => {
    expect(pacingDelayMs({ fps: 25, lookaheadMs: 0, marginMs: 5, videoOffsetMs: 200 })).toBe(25);
  });

  it('waits longer for audio when frames are to lead it (a negative video offset)', () => {
    expect(pacingDelayMs({ fps: 25, lookaheadMs: 25, marginMs: 25, videoOffsetMs: -30 })).toBe(120);
  });

  it('takes the engine lead on queued speech off the frame readiness, never below what the audio needs', () => {
    // frames 20 ms after their audio: without a lead the audio waits for them (70 ms)
    expect(pacingDelayMs({ fps: 25, lookaheadMs: 25, marginMs: 25, videoOffsetMs: 20 })).toBe(70);
    expect(pacingDelayMs({ fps: 25, lookaheadMs: 25, marginMs: 25, videoOffsetMs: 20, leadMs: 10 })).toBe(60);
    expect(pacingDelayMs({ fps: 25, lookaheadMs: 25, marginMs: 25, videoOffsetMs: 20, leadMs: 40 })).toBe(45);
  });
});

describe('PacerCore', () => {
  it('releases audio at pts + delay and the frame videoOffset later, a frame before the audio of its own start', () => {
    const core = new PacerCore(1000, 45, 50);
    core.pushFrame(frame(0), 1000);
    for (let p = 0; p < 1920; p += 480) core.pushAudio(chunk(p), 1000);
    expect(core.due(1044)).toEqual([]);
    const first = core.due(1045);
    expect(first.map((r) => r.kind)).toEqual(['audio']);
    expect(core.due(1094).map((r) => r.kind)).toEqual(['audio', 'audio', 'audio']);
    expect(core.due(1095).map((r) => r.kind)).toEqual(['frame']);
    expect(core.stats().late).toBe(0);
  });

  it('sends only the newest of several late frames and counts the rest dropped', () => {
    const core = new PacerCore(0, 45, 50);
    for (let k = 0; k < 3; k++) core.pushFrame(frame(k), 1000);
    const out = core.due(1000);
    expect(out.filter((r) => r.kind === 'frame').map((r) => (r.kind === 'frame' ? r.frame.index : -1))).toEqual([2]);
    expect(core.stats().framesDropped).toBe(2);
    expect(core.stats().late).toBe(3);
  });
});
