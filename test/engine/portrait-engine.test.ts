/** The embedded portrait engine against its contract (EngineTypes.ts), with the real models. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../config/load.js';
import { enrolPortrait } from '../../models/face/enrol.js';
import type { EnrolledPortrait } from '../../models/face/PortraitTypes.js';
import { resample } from '../../pipeline/audio/resampler.js';
import { InvalidStateError, PortraitEngine } from '../../pipeline/engine/portrait-engine.js';
import { ANALYSIS_RATE, CLOCK_RATE, i420Size, type AvatarFrame } from '../../pipeline/records.js';
import { ASTRONAUT, speakWav, wavSamples } from '../helpers/speech.js';
import { meanLuma, mouthBox } from '../helpers/video-measures.js';

const cacheDir = mkdtempSync(join(tmpdir(), 'engine-cache-'));
const config = parseConfig({ runtime: { cache_dir: cacheDir } });
const FRAME = ANALYSIS_RATE / config.avatar.fps; // 640 samples at 16 kHz

let portrait: EnrolledPortrait;
let speech: Float32Array;

beforeAll(async () => {
  portrait = await enrolPortrait(ASTRONAUT, { minResolution: 512, expandRatio: 0.5, cacheDir });
  const { samples, sampleRate } = wavSamples(speakWav('Good morning. How can I help you today?'));
  speech = resample(samples, sampleRate, ANALYSIS_RATE);
});

const engines: PortraitEngine[] = [];
async function engine(overrides: object = {}): Promise<PortraitEngine> {
  const e = await PortraitEngine.create(portrait, parseConfig({ runtime: { cache_dir: cacheDir }, ...overrides }));
  engines.push(e);
  return e;
}
afterAll(async () => {
  for (const e of engines) await e.close();
});

describe('PortraitEngine', () => {
  it('describes itself: 512x512 at 25 fps, 16 kHz analysis, lookahead within 80 ms', async () => {
    const e = await engine();
    expect(e.info).toMatchObject({ name: 'portrait', width: 512, height: 512, fps: 25, analysisRate: ANALYSIS_RATE });
    expect(e.info.lookaheadMs).toBeGreaterThan(0);
    expect(e.info.lookaheadMs + e.info.windowMs).toBeLessThanOrEqual(80);
  });

  it('renders frame k once the timeline reaches its end plus the lookahead, with pts on the 48 kHz clock', async () => {
    const e = await engine();
    const look = Math.ceil((e.info.lookaheadMs * ANALYSIS_RATE) / 1000);
    e.pushSilence(3 * FRAME + look - 1);
    expect(e.framesReady()).toBe(2);
    e.pushSilence(1);
    expect(e.framesReady()).toBe(3);
    const frames = await e.renderReady();
    expect(frames.map((f) => f.index)).toEqual([0, 1, 2]);
    expect(frames.map((f) => f.pts)).toEqual([0, CLOCK_RATE / 25, (2 * CLOCK_RATE) / 25]);
    for (const f of frames) expect(f.i420.length).toBe(i420Size(512, 512));
    expect(e.framesReady()).toBe(0);
    expect(e.stats().framesRendered).toBe(3);
  });

  it('a configured lookahead longer than the analysis needs holds frames back by the difference', async () => {
    const e = await engine({ avatar: { lookahead_ms: 80 } });
    expect(e.info.lookaheadMs).toBe(80);
    e.pushSilence(3 * FRAME + (80 * ANALYSIS_RATE) / 1000);
    expect(e.framesReady()).toBe(3);
    const e0 = await engine();
    e0.pushSilence(3 * FRAME + (80 * ANALYSIS_RATE) / 1000);
    expect(e0.framesReady()).toBeGreaterThan(3);
  });

  it('interrupt: the next frame shows the mouth at rest, and dropped speech is never shown', async () => {
    const e = await engine();
    const box = mouthBox(portrait);
    e.pushSilence(10 * FRAME);
    const rest = (await e.renderReady()).at(-1)!;
    // speak until the mouth is well open
    let open: AvatarFrame | undefined;
    for (let off = 0; off < speech.length && !open; off += FRAME) {
      e.pushAudio(speech.subarray(off, off + FRAME));
      open = (await e.renderReady()).find((f) => f.params.jawOpen > 0.3);
    }
    expect(open, 'the mouth opened during speech').toBeDefined();
    // the rest of the sentence is queued, then the kiosk user touches "stop"
    e.pushAudio(speech.subarray(Math.min(speech.length, (open!.index - 10 + 4) * FRAME)));
    e.interrupt();
    e.pushSilence(10 * FRAME);
    const after = await e.renderReady();
    expect(after.length).toBeGreaterThan(5);
    expect(after[0]!.params.jawOpen).toBe(0);
    expect(after[0]!.speaking).toBe(false);
    // the mouth looks like the rest frame again: far closer to it than the open mouth was
    const restLuma = meanLuma(rest.i420, 512, box);
    const openDiff = Math.abs(meanLuma(open!.i420, 512, box) - restLuma);
    expect(openDiff).toBeGreaterThan(10);
    for (const f of after) {
      expect(f.params.jawOpen).toBeLessThan(0.05);
      expect(Math.abs(meanLuma(f.i420, 512, box) - restLuma)).toBeLessThan(openDiff * 0.3);
    }
    // pts stay monotonic across the interrupt
    expect(after[0]!.index).toBeGreaterThan(open!.index);
  });

  it('refuses a second renderReady() while one runs, and any call after close()', async () => {
    const e = await engine();
    e.pushSilence(20 * FRAME);
    const first = e.renderReady();
    await expect(e.renderReady()).rejects.toBeInstanceOf(InvalidStateError);
    expect((await first).length).toBeGreaterThan(0);
    await e.close();
    await e.close(); // twice is fine
    expect(() => e.pushSilence(1)).toThrow(InvalidStateError);
    expect(e.framesReady()).toBe(0);
  });

  it('reports the time of each stage against the 40 ms budget', async () => {
    const e = await engine();
    e.pushAudio(speech.subarray(0, 25 * FRAME));
    e.pushSilence(5 * FRAME);
    await e.renderReady();
    const s = e.stats();
    expect(s.budgetMs).toBe(40);
    expect(Object.keys(s.stages)).toEqual(['features', 'motion', 'render']);
    for (const st of Object.values(s.stages)) {
      expect(st.count).toBe(s.framesRendered);
      expect(st.totalMs).toBeGreaterThan(0);
    }
  });
});
