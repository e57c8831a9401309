/** The microphone's voice-activity gate with the real Silero model: speech passes, silence and room noise do not. */
import { afterEach, describe, expect, it } from 'vitest';
import { voiceSchema } from '../../config/schema.js';
import { AudioFormatError } from '../../pipeline/audio/errors.js';
import { encodePcmS16 } from '../../pipeline/audio/pcm.js';
import { resample } from '../../pipeline/audio/resampler.js';
import { VoiceGate, type GatedSink } from '../../server/voice/voice-gate.js';
import { speakWav, wavSamples } from '../helpers/speech.js';

const vadConfig = voiceSchema.parse({}).vad;

class Sink implements GatedSink {
  parts: Float32Array[] = [];
  segmentEnds = 0;
  quietMs: number[] = [];
  onsetAgoMs: number[] = [];
  ingestSamples32(samples: Float32Array): void {
    this.parts.push(samples);
  }
  segmentEnd(quietMs = 0): void {
    this.segmentEnds += 1;
    this.quietMs.push(quietMs);
  }
  opened(onsetAgoMs: number): void {
    this.onsetAgoMs.push(onsetAgoMs);
  }
  get total(): number {
    return this.parts.reduce((a, p) => a + p.length, 0);
  }
}

/** seeded white noise at `rms` */
function noise(n: number, rms: number, seed = 7): Float32Array {
  let s = seed;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1103515245) + 12345) & 0x7fffffff;
    out[i] = ((s / 0x7fffffff) * 2 - 1) * rms * Math.sqrt(3);
  }
  return out;
}

/** s16-quantised, as the gate sees it after decoding */
const quantise = (x: Float32Array) => Float32Array.from(new Int16Array(encodePcmS16(x).slice().buffer), (v) => v / 32768);

async function feed(gate: VoiceGate, x: Float32Array, rate: number, chunkMs = 20) {
  const step = Math.round((rate * chunkMs) / 1000);
  const results = [];
  for (let i = 0; i < x.length; i += step) {
    results.push(await gate.push(encodePcmS16(x.subarray(i, Math.min(x.length, i + step))), { encoding: 's16le', sampleRate: rate, channels: 1 }));
  }
  return results;
}

let gate: VoiceGate | undefined;
afterEach(async () => {
  await gate?.close();
  gate = undefined;
});

describe('VoiceGate (Silero VAD)', () => {
  it('passes speech with its pre-roll and ends the utterance after it; the silence and noise around it do not pass', async () => {
    const rate = 48_000;
    const speech = wavSamples(speakWav('Hello, welcome to the service hall. Please take a number.'));
    const voice = resample(speech.samples, speech.sampleRate, rate);
    const pad = rate; // 1 s each side
    const x = noise(voice.length + 2 * pad, 0.003);
    for (let i = 0; i < voice.length; i++) x[pad + i]! += voice[i]!;
    const sink = new Sink();
    gate = await VoiceGate.create(sink, vadConfig);
    const results = await feed(gate, x, rate);

    const speechMs = (voice.length * 1000) / rate;
    const forwardedMs = (sink.total * 1000) / rate;
    expect(results.some((r) => r.speech)).toBe(true);
    expect(results.at(-1)!.speech).toBe(false); // closed again in the trailing second
    expect(sink.segmentEnds).toBeGreaterThanOrEqual(1);
    expect(gate.counts.utterances).toBe(sink.segmentEnds);
    // each opening says how long ago its speech began (the run that opened it, at least min_speech_ms,
    // plus audio not yet analysed: under a VAD frame and a chunk); each close how long the quiet tail is
    expect(sink.onsetAgoMs.length).toBe(sink.segmentEnds);
    for (const ms of sink.onsetAgoMs) expect(ms).toBeGreaterThanOrEqual(vadConfig.min_speech_ms);
    for (const ms of sink.onsetAgoMs) expect(ms).toBeLessThan(vadConfig.min_speech_ms + 32 + 32 + 20);
    for (const ms of sink.quietMs) expect(ms).toBeGreaterThanOrEqual(vadConfig.hangover_ms);
    for (const ms of sink.quietMs) expect(ms).toBeLessThan(vadConfig.hangover_ms + 32);
    expect(forwardedMs).toBeGreaterThan(0.8 * speechMs);
    expect(forwardedMs).toBeLessThan(speechMs + 900);
    expect(gate.counts.gatedMs).toBeGreaterThan(1200); // most of the 2 s of padding stayed out

    // the first audio forwarded is the original audio from just before the voice starts (pre-roll)
    const q = quantise(x);
    const first = sink.parts[0]!;
    let at = -1;
    for (let i = 0; i + 64 <= q.length && at < 0; i++) if (q[i] === first[0] && q.subarray(i, i + 64).every((v, k) => v === first[k])) at = i;
    const onset = pad + voice.findIndex((v) => Math.abs(v) > 0.02);
    expect(at).toBeGreaterThanOrEqual(0);
    const leadMs = ((onset - at) * 1000) / rate;
    expect(leadMs).toBeGreaterThan(0); // the start of the first word is not cut off
    expect(leadMs).toBeLessThan(vadConfig.preroll_ms + vadConfig.min_speech_ms + 100);
  });

  it('lets nothing through for silence and room noise', async () => {
    const sink = new Sink();
    gate = await VoiceGate.create(sink, vadConfig);
    const results = await feed(gate, noise(3 * 16_000, 0.01), 16_000);
    expect(results.every((r) => !r.speech && r.forwardedMs === 0)).toBe(true);
    expect(sink.total).toBe(0);
    expect(gate.counts.frames).toBeGreaterThan(80);
  });

  it('refuses a malformed chunk with a clear error and goes on with the next', async () => {
    const sink = new Sink();
    gate = await VoiceGate.create(sink, vadConfig);
    expect(() => gate!.push(new Uint8Array(3), { encoding: 's16le', sampleRate: 16_000, channels: 1 })).toThrow(AudioFormatError);
    expect(() => gate!.push(new Uint8Array(4), { encoding: 's16le', sampleRate: 96_000, channels: 1 })).toThrow(/sample rate|Hz/);
    const ok = await gate.push(encodePcmS16(new Float32Array(1600)), { encoding: 's16le', sampleRate: 16_000, channels: 1 });
    expect(ok.speech).toBe(false);
  });

  it('answers a live source at once and refuses chunks once the analysis is 25 chunks behind', async () => {
    const sink = new Sink();
    gate = await VoiceGate.create(sink, vadConfig);
    const chunk = encodePcmS16(new Float32Array(320));
    const fmt = { encoding: 's16le' as const, sampleRate: 16_000, channels: 1 as const };
    const answers = [];
    for (let i = 0; i < 25; i++) answers.push(gate.accept(chunk, fmt));
    expect(answers.every((a) => a.speech === false && a.forwardedMs === 0)).toBe(true);
    expect(() => gate!.accept(chunk, fmt)).toThrow(/25 chunks behind/);
    await gate.end(); // the backlog drains
    expect(() => gate!.accept(chunk, fmt)).not.toThrow();
  });

  it('ends an open utterance when the source stops', async () => {
    const speech = wavSamples(speakWav('Good morning, how can I help you today?'));
    const sink = new Sink();
    gate = await VoiceGate.create(sink, vadConfig);
    const half = speech.samples.subarray(0, Math.floor(speech.samples.length * 0.6));
    const results = await feed(gate, half, speech.sampleRate);
    expect(results.at(-1)!.speech).toBe(true);
    await gate.end();
    expect(gate.speaking).toBe(false);
    expect(sink.segmentEnds).toBe(1);
  });
});
