/**
 * Phones on the live say path (issue 18): the local TTS (libespeak-ng) gives a sentence's audio
 * with its phones; the live timeline hands them to the engine just before the sentence's first
 * sample, whatever was queued before it; through the inference worker the portrait engine closes
 * the lips on the frame of every p / b / m.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { voiceSchema } from '../../config/schema.js';
import { encodePcmS16 } from '../../pipeline/audio/pcm.js';
import { TestPatternEngine } from '../../pipeline/engine/test-pattern-engine.js';
import { WorkerEngine } from '../../pipeline/engine/worker-engine.js';
import { mouthClass, type TimedPhone } from '../../pipeline/phonemes/phones.js';
import type { AvatarFrame } from '../../pipeline/records.js';
import { LiveTimeline, type PcmChunkIn } from '../../pipeline/session/live-timeline.js';
import { EspeakTts } from '../../server/voice/espeak-tts.js';
import { ASTRONAUT } from '../helpers/speech.js';

const ENGINE = new URL('../../pipeline/engine/portrait-engine-module.ts', import.meta.url).href;
const voice = voiceSchema.parse({});
const never = new AbortController().signal;

function tone(ms: number, rate = 16_000): PcmChunkIn {
  const n = Math.round((ms * rate) / 1000);
  const x = Float32Array.from({ length: n }, (_, i) => 0.4 * Math.sin(i * 0.2));
  return { pcm: encodePcmS16(x), format: { encoding: 's16le', sampleRate: rate, channels: 1 } };
}

/** A TestPatternEngine that notes where on its timeline phones arrive. */
class NotingEngine extends TestPatternEngine {
  position = 0;
  readonly phonesAt: { at: number; phones: readonly TimedPhone[] }[] = [];
  override pushAudio(samples: Float32Array): void {
    super.pushAudio(samples);
    this.position += samples.length;
  }
  override pushSilence(count: number): void {
    super.pushSilence(count);
    this.position += count;
  }
  pushPhones(phones: readonly TimedPhone[]): void {
    this.phonesAt.push({ at: this.position, phones });
  }
}

const P = (phone: string, start: number, end: number): TimedPhone => ({ phone, start, end });

describe('phones on the live timeline', () => {
  it('reach the engine just before their utterance, after what was queued and the silence before it', () => {
    const e = new NotingEngine({ lookaheadMs: 0 });
    const tl = new LiveTimeline(e, { startMs: 0 });
    tl.tick(100); // 100 ms of idle silence: the next speech starts at sample 1600
    tl.ingest(tone(300), 100); // an utterance without phones (a microphone, a file)
    tl.segmentEnd();
    const second = [P('b', 0, 0.05), P('a', 0.05, 0.2)];
    tl.ingest(tone(200, 22_050), 100, second); // the say path's next sentence, at another rate
    tl.segmentEnd();
    for (let t = 110; t <= 800; t += 10) tl.tick(t);
    expect(e.phonesAt).toHaveLength(1);
    expect(e.phonesAt[0]!.phones).toEqual(second);
    expect(e.phonesAt[0]!.at).toBe(1600 + 4800); // idle, then 300 ms at 16 kHz
  });

  it('a barge-in drops the phones of speech it drops', () => {
    const e = new NotingEngine({ lookaheadMs: 0 });
    const tl = new LiveTimeline(e, { startMs: 0 });
    tl.ingest(tone(500), 0);
    tl.ingest(tone(300), 0, [P('m', 0, 0.1)]);
    tl.tick(200);
    tl.interrupt(200);
    for (let t = 210; t <= 1200; t += 10) tl.tick(t);
    expect(e.phonesAt).toEqual([]);
  });
});

describe('the say path with phones, through the inference worker', () => {
  it('the local TTS gives phones with its audio; the portrait engine closes the lips on each p / b / m', async () => {
    const spoken = await new EspeakTts(voice.local).synthesize('Bob will pay for my map, please.', never);
    expect(spoken.sampleRate).toBe(22_050);
    const phones = spoken.phones ?? [];
    const bilabials = phones.filter((p) => mouthClass(p.phone) === 'closed');
    expect(bilabials.map((p) => p.phone)).toEqual(['b', 'b', 'p', 'm', 'm', 'p', 'p']);
    expect(phones.at(-1)!.end).toBeLessThanOrEqual(spoken.samples.length / spoken.sampleRate);
    // another espeak-ng command (a wrapper, another build) speaks without phones
    const viaCommand = await new EspeakTts({ ...voice.local, command: '/usr/bin/espeak-ng' }).synthesize('Bob will pay.', never);
    expect(viaCommand.phones).toBeUndefined();

    const engine = await WorkerEngine.start({
      engineModule: ENGINE,
      engineOptions: { portrait: ASTRONAUT, config: { avatar: { width: null, height: null }, runtime: { cache_dir: mkdtempSync(join(tmpdir(), 'phones-live-')) } } },
      ringSeconds: 8,
      maxBufferedFrames: 1000,
    });
    const frames: AvatarFrame[] = [];
    try {
      const tl = new LiveTimeline(engine, { startMs: 0 });
      const pcm = spoken.samples;
      tl.ingest({ pcm: new Uint8Array(pcm.buffer, pcm.byteOffset, pcm.byteLength), format: { encoding: 'f32le', sampleRate: spoken.sampleRate, channels: 1 } }, 0, phones);
      tl.segmentEnd();
      const endMs = Math.ceil((1000 * pcm.length) / spoken.sampleRate) + 400;
      for (let t = 20; t <= endMs; t += 20) {
        tl.tick(t);
        frames.push(...(await engine.renderReady()));
        if (t % 400 === 0) await new Promise((r) => setTimeout(r, 5)); // let the worker post
      }
      for (let i = 0; i < 100 && frames.length < Math.floor((endMs * 25) / 1000) - 2; i++) {
        await new Promise((r) => setTimeout(r, 50));
        frames.push(...(await engine.renderReady()));
      }
    } finally {
      await engine.close();
    }
    const byIndex = new Map(frames.map((f) => [f.index, f]));
    // pressed: a closure. A pause rests the lips together too (phone-mouth.ts `rest`), and the phone
    // just before or after it on its way: frames within 40 ms of a pause or after the last phone, and
    // presses under half, are left out here
    const lastEnd = Math.max(...phones.map((p) => p.end));
    const pauses = phones.filter((p) => mouthClass(p.phone) === 'pause');
    const inPause = (k: number) => {
      const t = (k + 0.5) / 25;
      return t >= lastEnd || pauses.some((p) => t > p.start - 0.04 && t < p.end + 0.04);
    };
    const pressed = new Set(frames.filter((f) => f.params.lipPress >= 0.5 && !inPause(f.index)).map((f) => f.index));
    expect(frames.some((f) => inPause(f.index) && f.params.lipPress === 1)).toBe(true);
    for (const p of bilabials) {
      const k = Math.floor(((p.start + p.end) / 2) * 25);
      const f = byIndex.get(k);
      expect(f, `frame ${k} (${p.phone} at ${p.start.toFixed(3)} s) was not rendered`).toBeDefined();
      expect(f!.params.lipPress).toBe(1);
      expect(f!.params.jawOpen).toBe(0);
    }
    // and only there: every pressed frame holds (or is held by) a bilabial
    for (const k of pressed) {
      expect(bilabials.some((p) => Math.abs((p.start + p.end) / 2 - (k + 0.5) / 25) < 0.04 + (p.end - p.start) / 2)).toBe(true);
    }
    // the vowels between open the mouth
    const vowelFrames = phones.filter((p) => mouthClass(p.phone) === 'open').map((p) => byIndex.get(Math.floor(((p.start + p.end) / 2) * 25))!);
    expect(Math.max(...vowelFrames.map((f) => f.params.jawOpen))).toBeGreaterThan(0.3);
  }, 60_000);
});
