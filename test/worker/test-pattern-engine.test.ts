import { describe, expect, it } from 'vitest';
import { REST_Y, TestPatternEngine, readTestCard, testCardLevel } from '../../pipeline/engine/test-pattern-engine.js';
import { framePts, i420Size } from '../../pipeline/records.js';

const HOP = 640; // 16 kHz / 25 fps

const sine = (n: number, amplitude: number): Float32Array => Float32Array.from({ length: n }, (_, i) => amplitude * Math.sin(i / 3));

describe('TestPatternEngine', () => {
  it('draws a card whose Y level follows the RMS of each frame and whose U plane holds the index', async () => {
    const e = new TestPatternEngine({ width: 32, height: 48 });
    e.pushAudio(sine(HOP, 0.4));
    e.pushSilence(HOP);
    e.pushAudio(sine(HOP, 0.1));
    const frames = await e.renderReady();
    expect(frames.map((f) => f.index)).toEqual([0, 1, 2]);
    expect(frames.map((f) => f.pts)).toEqual([0, 1, 2].map((k) => framePts(k, 25)));
    const cards = frames.map((f) => readTestCard(f.i420, 32, 48));
    expect(frames[0].i420.length).toBe(i420Size(32, 48));
    expect(cards[1].level).toBe(REST_Y);
    expect(cards[0].level).toBeGreaterThan(cards[2].level);
    expect(cards[2].level).toBeGreaterThan(REST_Y);
    // RMS of a sine is amplitude / sqrt(2) (within the rounding of a short window)
    expect(Math.abs(cards[0].level - testCardLevel(0.4 / Math.SQRT2))).toBeLessThanOrEqual(2);
    expect(cards.map((c) => c.index)).toEqual([0, 1, 2]);
    expect(cards.map((c) => c.speaking)).toEqual([true, false, true]);
  });

  it('encodes large frame indices recoverably', async () => {
    const e = new TestPatternEngine();
    e.pushSilence(HOP * 300);
    const frames = await e.renderReady();
    expect(frames).toHaveLength(300);
    for (const k of [0, 1, 3, 4, 63, 64, 255, 256, 299]) expect(readTestCard(frames[k].i420, 64, 64).index).toBe(k);
  });

  it('waits for its lookahead before a frame is ready', async () => {
    const e = new TestPatternEngine({ lookaheadMs: 40 });
    e.pushAudio(sine(HOP, 0.3));
    expect(e.framesReady()).toBe(0);
    e.pushAudio(sine(HOP - 1, 0.3));
    expect(e.framesReady()).toBe(0);
    e.pushAudio(sine(1, 0.3));
    expect(e.framesReady()).toBe(1);
    expect(await e.renderReady()).toHaveLength(1);
    expect(e.framesReady()).toBe(0);
  });

  it('interrupt: audio not yet shown renders as rest, the next frame is at rest, later audio shows again', async () => {
    const e = new TestPatternEngine();
    e.pushAudio(sine(HOP * 2 + 100, 0.5));
    const [first] = await e.renderReady(1);
    expect(readTestCard(first.i420, 64, 64).level).toBeGreaterThan(150);
    e.interrupt();
    e.pushAudio(sine(HOP * 3, 0.5));
    const after = (await e.renderReady()).map((f) => readTestCard(f.i420, 64, 64).level);
    expect(after[0]).toBe(REST_Y);
    expect(after.slice(-2).every((l) => l > 150)).toBe(true);
    // the timeline kept its length: 2 * HOP + 100 + 3 * HOP samples = 5 whole frames
    expect(1 + after.length).toBe(5);
  });

  it('reset goes back to frame 0', async () => {
    const e = new TestPatternEngine();
    e.pushSilence(HOP * 3);
    await e.renderReady();
    e.reset();
    e.pushSilence(HOP);
    const [f] = await e.renderReady();
    expect(f.index).toBe(0);
    expect(f.pts).toBe(0);
  });

  it('rejects bad options and input, and use after close', async () => {
    expect(() => new TestPatternEngine({ width: 63 })).toThrow(/width must be an even integer/);
    expect(() => new TestPatternEngine({ fps: 0 })).toThrow(/fps must be an integer/);
    const e = new TestPatternEngine();
    expect(() => e.pushSilence(-1)).toThrow(/non-negative integer/);
    // @ts-expect-error: deliberately not a Float32Array
    expect(() => e.pushAudio([0.1])).toThrow(/Float32Array/);
    await e.close();
    expect(() => e.pushSilence(1)).toThrow(/closed/);
  });
});
