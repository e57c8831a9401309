/**
 * Phones for audio whose text is known but whose voice gave none (issue 18: an upstream TTS): the
 * text spoken by espeak-ng, warped onto the audio (pipeline/phonemes/align.ts). Measured against the
 * other voice's own phone timings: other espeak-ng voices and rates than the reference's (the only
 * voices with exact timings here; a neural upstream voice is not measured).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { voiceSchema } from '../../config/schema.js';
import { alignPhones } from '../../pipeline/phonemes/align.js';
import { espeakSpeak } from '../../pipeline/phonemes/espeak-phones.js';
import { speakWithLibrary } from '../../pipeline/phonemes/espeak-library.js';
import { mouthClass } from '../../pipeline/phonemes/phones.js';
import { createLogger } from '../../server/log.js';
import { EspeakTts } from '../../server/voice/espeak-tts.js';
import { TtsRouter } from '../../server/voice/tts-router.js';
import { UpstreamTts } from '../../server/voice/upstream-tts.js';
import { StandInTts } from '../helpers/stand-in-tts.js';

const TEXT = 'Please bring both forms to the blue desk by the map, and we will help you.';
const voice = voiceSchema.parse({});
const never = new AbortController().signal;

describe('aligning the known text to another voice', () => {
  const reference = espeakSpeak(TEXT, 'en-us', 165);
  for (const [v, rate] of [['en-gb-x-rp', 140], ['en+m3', 120], ['en-gb-scotland', 190]] as const) {
    it(`${v} at ${rate} wpm: boundaries within a few ms, every p/b/m lands on one`, () => {
      const target = espeakSpeak(TEXT, v, rate);
      const { phones, cost } = alignPhones(reference, target);
      const errors = phones.map((p) => Math.min(...target.phones.map((t) => Math.abs(t.start - p.start))) * 1000).sort((a, b) => a - b);
      const median = errors[Math.floor(errors.length / 2)]!;
      const p90 = errors[Math.floor(0.9 * errors.length)]!;
      const bilabials = phones.filter((p) => mouthClass(p.phone) === 'closed');
      const onOne = bilabials.filter((p) => {
        const mid = (p.start + p.end) / 2;
        return target.phones.some((t) => mouthClass(t.phone) === 'closed' && mid >= t.start - 0.02 && mid < t.end + 0.02);
      });
      console.log(`[align] ${v} ${rate} wpm: cost ${cost.toFixed(1)}, boundary error median ${median.toFixed(1)} ms, p90 ${p90.toFixed(1)} ms, p/b/m on a p/b/m ${onOne.length}/${bilabials.length}`);
      expect(bilabials.length).toBeGreaterThanOrEqual(6);
      expect(onOne.length / bilabials.length).toBeGreaterThanOrEqual(0.9);
      expect(median).toBeLessThanOrEqual(15);
      expect(p90).toBeLessThanOrEqual(40);
      expect(cost).toBeLessThan(42);
    });
  }

  it('audio of another text warps badly (its cost is above the bound the TTS uses)', () => {
    const other = espeakSpeak('The weather today is warm and sunny in the north of the country.', 'en-gb-x-rp', 150);
    expect(alignPhones(reference, other).cost).toBeGreaterThan(42);
  });
});

describe('the TTS router gives upstream audio phones', () => {
  let service: StandInTts;
  beforeAll(async () => {
    service = new StandInTts({ pieces: 2, pieceGapMs: 5 });
    await service.start();
  });
  afterAll(() => service.stop());

  it('aligned from the text (the stand-in upstream speaks en-gb, the reference en-us), within the sentence', async () => {
    const local = new EspeakTts(voice.local);
    const router = new TtsRouter({ upstream: new UpstreamTts({ ...voice.upstream, url: service.url }), local, probeIntervalMs: 1000, log: createLogger('silent'), align: (t, a) => local.alignPhones(t, a) });
    try {
      await router.speak('Warm up.', never);
      const t0 = performance.now();
      const spoken = await router.speak(TEXT, never);
      const ms = performance.now() - t0;
      expect(spoken.provider).toBe('upstream');
      const phones = spoken.phones ?? [];
      console.log(`[align] upstream sentence (${(spoken.samples.length / spoken.sampleRate).toFixed(2)} s) with ${phones.length} phones in ${ms.toFixed(0)} ms`);
      expect(phones.filter((p) => mouthClass(p.phone) === 'closed').length).toBeGreaterThanOrEqual(6);
      expect(phones.at(-1)!.end).toBeLessThanOrEqual(spoken.samples.length / spoken.sampleRate + 1e-9);
      // noise instead of speech: no phones (the loudness path shapes the mouth)
      const noise = Float32Array.from({ length: 44_100 }, () => Math.random() - 0.5);
      expect(await local.alignPhones(TEXT, { samples: noise, sampleRate: 22_050 })).toBeUndefined();
    } finally {
      router.close();
    }
  });

  it("an upstream that sends its own phones (a JSON answer): those are used, nothing is aligned", async () => {
    const own = new StandInTts({ format: 'json', pieces: 2, pieceGapMs: 5 });
    await own.start();
    let aligned = 0;
    const local = new EspeakTts(voice.local);
    const router = new TtsRouter({ upstream: new UpstreamTts({ ...voice.upstream, url: own.url }), local, probeIntervalMs: 1000, log: createLogger('silent'), align: (t, a) => (aligned++, local.alignPhones(t, a)) });
    try {
      const spoken = await router.speak(TEXT, never);
      expect(spoken.provider).toBe('upstream');
      expect(aligned).toBe(0);
      const theirs = (await speakWithLibrary(TEXT, 'en-gb', 175, 10_000)).phones; // the espeak thread, as the stand-in
      expect(spoken.phones!.map((p) => p.phone)).toEqual(theirs.map((p) => p.phone));
    } finally {
      router.close();
      await own.stop();
    }
  });
});
