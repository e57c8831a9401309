import { describe, expect, it } from 'vitest';
import { AudioFormatError } from '../../pipeline/audio/errors.js';
import { encodePcmS16 } from '../../pipeline/audio/pcm.js';
import { REST_Y, TestPatternEngine, readTestCard } from '../../pipeline/engine/test-pattern-engine.js';
import type { AvatarFrame } from '../../pipeline/records.js';
import { LiveTimeline, QueueFullError, type PcmChunkIn } from '../../pipeline/session/live-timeline.js';

const MS = 48; // CLOCK_RATE samples per millisecond

function tone(ms: number, rate = 16_000, amp = 0.5, hz = 440): PcmChunkIn {
  const n = Math.round((ms * rate) / 1000);
  const x = new Float32Array(n);
  for (let i = 0; i < n; i++) x[i] = amp * Math.sin((2 * Math.PI * hz * i) / rate);
  return { pcm: encodePcmS16(x), format: { encoding: 's16le', sampleRate: rate, channels: 1 } };
}

function rms(x: Float32Array): number {
  let s = 0;
  for (const v of x) s += v * v;
  return Math.sqrt(s / Math.max(1, x.length));
}

/** A timeline over a TestPatternEngine with a fake clock: run(t) ticks every 10 ms up to t and renders. */
function harness(opts: { maxQueuedSeconds?: number; lookaheadMs?: number; leadMs?: number } = {}) {
  const engine = new TestPatternEngine({ lookaheadMs: opts.lookaheadMs ?? 0 });
  const tl = new LiveTimeline(engine, { startMs: 0, maxQueuedSeconds: opts.maxQueuedSeconds, leadMs: opts.leadMs });
  const frames: AvatarFrame[] = [];
  let now = 0;
  return {
    engine,
    tl,
    frames,
    now: () => now,
    async run(toMs: number) {
      while (now < toMs) {
        now = Math.min(toMs, now + 10);
        tl.tick(now);
        frames.push(...(await engine.renderReady()));
      }
    },
    level: (k: number) => readTestCard(frames[k].i420, 64, 64).level,
    /** consumes [fromMs, toMs) of playout audio */
    audio: (fromMs: number, toMs: number) => tl.playout.takeAudio(fromMs * MS, toMs * MS),
  };
}

describe('LiveTimeline', () => {
  it('renders idle frames at exactly 25 fps of media time, at rest', async () => {
    const h = harness();
    await h.run(2000);
    expect(h.frames).toHaveLength(50);
    h.frames.forEach((f, k) => {
      expect(f.pts).toBe(k * 1920);
      const card = readTestCard(f.i420, 64, 64);
      expect(card.index).toBe(k);
      expect(card.level).toBe(REST_Y);
      expect(f.speaking).toBe(false);
    });
    expect(h.tl.stats()).toMatchObject({ mediaPts: 2000 * MS, state: 'idle', queuedMs: 0 });
    expect(rms(h.audio(0, 2000))).toBe(0);
  });

  it('plays a speech burst ingested at 1000 ms in the frames and the audio at the same pts', async () => {
    const h = harness();
    await h.run(995);
    const { accepted } = h.tl.ingest(tone(500), 1000);
    expect(accepted).toBe(500 * MS);
    expect(h.tl.stats().state).toBe('speaking');
    await h.run(2000);
    // frames 25..36 ([1000, 1480) ms) are all speech; 24 and from 38 ([1520 ms..) on rest
    for (let k = 0; k < 50; k++) {
      if (k >= 25 && k <= 36) {
        expect(h.frames[k].speaking, `frame ${k}`).toBe(true);
        expect(h.level(k)).toBeGreaterThan(150);
      } else if (k !== 37) {
        expect(h.frames[k].speaking, `frame ${k}`).toBe(false);
        expect(h.level(k)).toBe(REST_Y);
      }
    }
    expect(rms(h.audio(0, 999))).toBe(0);
    const speech = h.audio(999, 1501);
    expect(rms(speech.subarray(2 * MS, 498 * MS))).toBeCloseTo(0.5 / Math.SQRT2, 2);
    // the audio starts at the very pts the engine saw it (within the resampler's filter)
    expect(rms(speech.subarray(0, MS))).toBeLessThan(0.02);
    expect(rms(speech.subarray(2 * MS, 3 * MS))).toBeGreaterThan(0.3);
    expect(rms(h.audio(1502, 2000))).toBe(0);
    expect(h.tl.stats().state).toBe('idle');
  });

  it('appends a chunk that arrives while speech is queued right after it (24 kHz input)', async () => {
    const h = harness();
    await h.run(1000);
    h.tl.ingest(tone(200, 24_000), 1000);
    await h.run(1100);
    h.tl.ingest(tone(200, 24_000), 1100);
    h.tl.segmentEnd();
    await h.run(1600);
    for (let k = 25; k < 35; k++) expect(h.level(k), `frame ${k}`).toBeGreaterThan(150);
    expect(h.level(24)).toBe(REST_Y);
    expect(h.level(36)).toBe(REST_Y);
    const a = h.audio(1000, 1400);
    // contiguous: every millisecond (but the filter's edges) carries the tone
    for (let m = 1; m < 399; m++) expect(rms(a.subarray(m * MS, (m + 1) * MS)), `ms ${m}`).toBeGreaterThan(0.2);
    expect(rms(h.audio(1402, 1600))).toBe(0);
  });

  it('interrupt drops the rest of the speech; later speech plays again', async () => {
    const h = harness();
    await h.run(1000);
    h.tl.ingest(tone(1000), 1000);
    await h.run(1300);
    const { dropped } = h.tl.interrupt(1300);
    // frame 32 ([1280, 1320) ms) is not shown yet: the engine silences it, so the playout drops it too
    expect(dropped).toBeGreaterThanOrEqual(720 * MS - 100);
    expect(dropped).toBeLessThanOrEqual(720 * MS);
    expect(h.tl.stats()).toMatchObject({ state: 'idle', queuedMs: 0 });
    await h.run(2000);
    for (let k = 25; k < 32; k++) expect(h.level(k), `frame ${k}`).toBeGreaterThan(150);
    for (let k = 32; k < 50; k++) expect(h.level(k), `frame ${k}`).toBe(REST_Y);
    expect(rms(h.audio(1000, 1280).subarray(2 * MS))).toBeGreaterThan(0.3);
    expect(rms(h.audio(1280, 2000))).toBe(0);
    h.tl.ingest(tone(200), 2000);
    await h.run(2400);
    for (let k = 50; k < 55; k++) expect(h.level(k), `frame ${k}`).toBeGreaterThan(150);
    expect(h.level(56)).toBe(REST_Y);
    expect(rms(h.audio(2000, 2200).subarray(2 * MS, 198 * MS))).toBeGreaterThan(0.3);
  });

  it('interrupt with an engine lookahead silences the playout from the first frame not yet shown', async () => {
    const h = harness({ lookaheadMs: 80 });
    await h.run(1000);
    h.tl.ingest(tone(1000), 1000);
    await h.run(1300);
    // frames up to [1160, 1200) are rendered (1200 + 80 <= 1300); 1200.. is not shown yet
    expect(h.frames.at(-1)!.pts).toBe(1160 * MS);
    h.tl.interrupt(1300);
    await h.run(2000);
    expect(h.level(30)).toBe(REST_Y);
    expect(rms(h.audio(1000, 1199).subarray(2 * MS))).toBeGreaterThan(0.3);
    expect(rms(h.audio(1200, 2000))).toBe(0);
  });

  it('refuses a malformed chunk with AudioFormatError and goes on', async () => {
    const h = harness();
    await h.run(500);
    const odd: PcmChunkIn = { pcm: new Uint8Array(321), format: { encoding: 's16le', sampleRate: 16_000, channels: 1 } };
    expect(() => h.tl.ingest(odd, 500)).toThrow(AudioFormatError);
    const fast = { ...tone(100), format: { encoding: 's16le' as const, sampleRate: 96_000, channels: 1 as const } };
    expect(() => h.tl.ingest(fast, 500)).toThrow(AudioFormatError);
    expect(h.tl.stats()).toMatchObject({ chunksRefused: 2, chunksAccepted: 0, state: 'idle', queuedMs: 0 });
    h.tl.ingest(tone(200), 1000);
    await h.run(1500);
    expect(h.frames).toHaveLength(37);
    h.frames.forEach((f, k) => expect(f.pts).toBe(k * 1920));
    for (let k = 25; k < 30; k++) expect(h.level(k)).toBeGreaterThan(150);
    expect(h.level(24)).toBe(REST_Y);
  });

  it('refuses a chunk beyond maxQueuedSeconds whole with QueueFullError', async () => {
    const h = harness({ maxQueuedSeconds: 1 });
    h.tl.ingest(tone(600), 0);
    expect(() => h.tl.ingest(tone(600), 0)).toThrow(QueueFullError);
    expect(() => h.tl.ingest(tone(600), 0)).toThrow(/queue full: \d+ ms queued, this chunk adds 600 ms, the limit is 1000 ms/);
    expect(h.tl.stats()).toMatchObject({ chunksAccepted: 1, chunksRefused: 2 });
    expect(h.tl.stats().queuedMs).toBeGreaterThanOrEqual(598);
    await h.run(300);
    h.tl.ingest(tone(600), 300);
    h.tl.segmentEnd();
    await h.run(1500);
    for (let k = 0; k < 30; k++) expect(h.level(k), `frame ${k}`).toBeGreaterThan(150);
    expect(h.level(31)).toBe(REST_Y);
  });

  it('passing (nobody watches): speech takes its wall-clock time unresampled; resampling resumes where the queue stands', async () => {
    const h = harness();
    const pushed = { audio: 0 };
    const push = h.engine.pushAudio.bind(h.engine);
    h.engine.pushAudio = (x: Float32Array) => {
      pushed.audio += x.length;
      push(x);
    };
    h.tl.setPassing(true);
    h.tl.ingest(tone(1000, 22_050), h.now()); // an input rate that does not divide the analysis rate
    await h.run(400);
    expect(h.tl.stats().state).toBe('speaking');
    expect(Math.abs(h.tl.stats().queuedMs - 600)).toBeLessThanOrEqual(15);
    expect(pushed.audio).toBe(0); // the engine had silence
    expect(rms(h.audio(0, 400))).toBe(0); // nothing to play
    expect(h.frames.every((f) => !f.speaking)).toBe(true);
    h.tl.setPassing(false);
    await h.run(1400);
    // the rest of the tone plays from 400 ms to its end at 1000 ms, as it would have without passing
    expect(rms(h.audio(420, 980))).toBeGreaterThan(0.3);
    expect(rms(h.audio(1020, 1400))).toBe(0);
    expect(Math.abs(pushed.audio - 600 * 16)).toBeLessThanOrEqual(16 * 15);
    expect(h.frames.filter((f) => f.speaking && f.pts >= 480 * MS && f.pts < 920 * MS)).toHaveLength(11);
    expect(h.tl.stats()).toMatchObject({ state: 'idle', queuedMs: 0 });
  });

  it('passing drains several queued chunks at the wall-clock rate, then idles', async () => {
    const h = harness();
    h.tl.setPassing(true);
    for (let i = 0; i < 3; i++) h.tl.ingest(tone(300, 24_000), h.now());
    await h.run(500);
    expect(Math.abs(h.tl.stats().queuedMs - 400)).toBeLessThanOrEqual(15);
    await h.run(880);
    expect(h.tl.stats().state).toBe('speaking');
    await h.run(940);
    expect(h.tl.stats()).toMatchObject({ state: 'idle', queuedMs: 0 });
  });

  describe('with a lead (the engine takes queued speech ahead of the wall clock)', () => {
    it('renders speech frames one lead sooner, with the same frames and audio at the same pts', async () => {
      const plain = harness({ lookaheadMs: 25 });
      const ahead = harness({ lookaheadMs: 25, leadMs: 60 });
      const counts: [number, number][] = [];
      for (const h of [plain, ahead]) {
        await h.run(995);
        h.tl.ingest(tone(500), 1000);
      }
      for (let t = 1000; t <= 2000; t += 10) {
        await plain.run(t);
        await ahead.run(t);
        counts.push([plain.frames.length, ahead.frames.length]);
      }
      // frame k is rendered once the engine has audio to 40k + 40 + 25 ms. Frame 25 ([1000, 1040))
      // needs 1065: on the wall clock at 1070, with the lead at 1010 (with frame 24, whose
      // lookahead reaches into the speech)
      expect(counts[1]).toEqual([24, 26]);
      expect(counts[7]).toEqual([26, 27]);
      // while the speech lasts the engine is a lead ahead: frames a lead sooner
      expect(counts[30]).toEqual([31, 33]);
      // silence is not taken ahead: once the speech has played, both render on the wall clock
      expect(counts[100]).toEqual([49, 49]);
      for (let k = 0; k < 49; k++) {
        expect(ahead.frames[k].pts).toBe(plain.frames[k].pts);
        expect(ahead.frames[k].speaking, `frame ${k}`).toBe(plain.frames[k].speaking);
        expect(ahead.level(k), `frame ${k}`).toBe(plain.level(k));
      }
      expect(ahead.audio(0, 2000)).toEqual(plain.audio(0, 2000));
      expect(ahead.tl.enginePts).toBe(ahead.tl.mediaPts);
    });

    it('speech arriving while idle starts at the current position; speech arriving while it plays is appended', async () => {
      const h = harness({ leadMs: 60 });
      await h.run(1000);
      h.tl.ingest(tone(200), 1000);
      expect(h.tl.enginePts).toBe(1060 * MS);
      expect(h.tl.mediaPts).toBe(1000 * MS);
      await h.run(1100);
      h.tl.ingest(tone(200), 1100); // appended: plays 1200..1400
      await h.run(1600);
      for (let k = 25; k < 35; k++) expect(h.level(k), `frame ${k}`).toBeGreaterThan(150);
      expect(h.level(36)).toBe(REST_Y);
      expect(rms(h.audio(1002, 1398))).toBeGreaterThan(0.3);
      expect(rms(h.audio(1402, 1600))).toBe(0);
    });

    it('a barge-in silences what the engine took ahead; the frames it rendered from it lie before enginePts', async () => {
      const h = harness({ leadMs: 60 });
      await h.run(1000);
      h.tl.ingest(tone(1000), 1000);
      await h.run(1300);
      const before = h.tl.enginePts;
      expect(before).toBe(1360 * MS);
      h.tl.interrupt(1300, h.tl.mediaPts);
      expect(h.tl.stats()).toMatchObject({ state: 'idle', queuedMs: 0 });
      await h.run(2000);
      // frames from the interrupt's media position to enginePts were rendered with speech (the
      // consumer drops them); every frame from enginePts on is at rest
      for (const f of h.frames.filter((f) => f.pts >= before)) expect(readTestCard(f.i420, 64, 64).level, `pts ${f.pts}`).toBe(REST_Y);
      expect(rms(h.audio(1300, 2000))).toBe(0);
      expect(h.tl.enginePts).toBe(h.tl.mediaPts);
    });

    it('speech right after a barge-in starts where the engine stands (at most the lead later), in frames and audio alike', async () => {
      const h = harness({ leadMs: 60 });
      await h.run(1000);
      h.tl.ingest(tone(1000), 1000);
      await h.run(1300);
      h.tl.interrupt(1300, h.tl.mediaPts);
      h.tl.ingest(tone(200, 16_000, 0.5), 1300);
      await h.run(2000);
      // the engine stood at 1360: the new speech plays 1360..1560 in the audio and in the frames
      expect(rms(h.audio(1300, 1358))).toBe(0);
      expect(rms(h.audio(1362, 1558))).toBeGreaterThan(0.3);
      expect(rms(h.audio(1562, 2000))).toBe(0);
      for (let k = 35; k < 38; k++) expect(h.level(k), `frame ${k}`).toBeGreaterThan(150);
      for (let k = 40; k < 50; k++) expect(h.level(k), `frame ${k}`).toBe(REST_Y);
    });

    it('passing while the engine is ahead: the speech still takes its wall-clock time', async () => {
      const h = harness({ leadMs: 60 });
      h.tl.ingest(tone(600, 24_000), h.now());
      await h.run(200);
      h.tl.setPassing(true);
      await h.run(500);
      expect(Math.abs(h.tl.stats().queuedMs - 100)).toBeLessThanOrEqual(15);
      await h.run(640);
      expect(h.tl.stats()).toMatchObject({ state: 'idle', queuedMs: 0 });
      h.tl.setPassing(false);
      h.tl.ingest(tone(200), h.now());
      await h.run(1000);
      expect(rms(h.audio(642, 838))).toBeGreaterThan(0.3);
      expect(h.frames.filter((f) => f.speaking && f.pts >= 640 * MS && f.pts < 840 * MS)).toHaveLength(5);
    });
  });

  it('rejects a non-numeric clock', () => {
    const h = harness();
    expect(() => h.tl.tick(Number.NaN)).toThrow(TypeError);
  });
});
