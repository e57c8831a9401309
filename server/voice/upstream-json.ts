/**
 * An upstream TTS answer as JSON (`application/json`), for services that know the phones they
 * spoke (Piper, Coqui and the like phonemise with espeak-ng; a cloud TTS may report phoneme or
 * viseme marks). Its phones then shape the mouth as espeak-ng's do, and nothing is aligned.
 *
 *   {
 *     "audio": "<base64>",           the sentence's audio: a WAV file, or s16le mono with sample_rate
 *     "sample_rate": 22050,          Hz, for raw s16le audio (not a WAV)
 *     "phones": [                    optional: seconds from the start of the audio, in order
 *       { "phone": "p", "start": 0.12, "end": 0.19 }, ...
 *     ],
 *     "alphabet": "ipa"              how the phones are written: "ipa" (default), "espeak"
 *   }                                (espeak-ng mnemonics) or "arpabet" (CMU: "p", "uw1", "ay")
 *
 * Anything else in the object is ignored. Phones that do not fit the audio (not in order,
 * overlapping, past its end) make the whole answer unusable, with the reason: a service that
 * reports wrong timings would move the lips out of time, which is worse than none.
 */
import { decodeS16Mono, MAX_SAMPLE_RATE, MIN_SAMPLE_RATE } from '../../pipeline/audio/pcm.js';
import { decodeWavSamples, parseWavHeader } from '../../pipeline/audio/wav.js';
import { cmuAsEspeak } from '../../pipeline/phonemes/cmu-phones.js';
import { ipaAsEspeak } from '../../pipeline/phonemes/ipa-phones.js';
import type { TimedPhone } from '../../pipeline/phonemes/phones.js';
import type { SpeechAudio } from './tts-provider.js';

/** ARPAbet's unstressed AH (AH0) is a schwa, not the open vowel of AH1 */
const arpabet = (p: string) => cmuAsEspeak(/^ah0$/i.test(p) ? 'ax' : p.replace(/[0-9]$/, ''));
const ALPHABETS = { ipa: ipaAsEspeak, espeak: (p: string) => p, arpabet } as const;
const MAX_PHONES = 20_000;
/** s a phone may end past the audio (rounding in the service's clock) */
const END_SLACK = 0.05;

/** The audio and phones of a JSON answer; throws an Error that says what is wrong. */
export function decodeJsonAnswer(body: Buffer): SpeechAudio {
  let j: unknown;
  try {
    j = JSON.parse(body.toString('utf8'));
  } catch {
    throw new Error('the JSON answer does not parse');
  }
  if (typeof j !== 'object' || j === null || Array.isArray(j)) throw new Error('the JSON answer is not an object');
  const o = j as Record<string, unknown>;
  if (typeof o.audio !== 'string' || o.audio.length === 0) throw new Error('the JSON answer has no "audio" (base64)');
  const bytes = Buffer.from(o.audio, 'base64');
  const isWav = bytes.subarray(0, 4).toString('latin1') === 'RIFF';
  let samples: Float32Array, sampleRate: number;
  if (isWav) {
    const info = parseWavHeader(bytes);
    samples = decodeWavSamples(bytes, info);
    sampleRate = info.sampleRate;
  } else {
    const rate = o.sample_rate;
    if (typeof rate !== 'number' || !Number.isInteger(rate) || rate < MIN_SAMPLE_RATE || rate > MAX_SAMPLE_RATE) {
      throw new Error(`"audio" is not a WAV file, so "sample_rate" (${MIN_SAMPLE_RATE}..${MAX_SAMPLE_RATE}) must say the rate of its s16le samples`);
    }
    samples = decodeS16Mono(bytes);
    sampleRate = rate;
  }
  if (samples.length === 0) throw new Error('"audio" holds no samples');
  if (o.phones === undefined || o.phones === null) return { samples, sampleRate };
  const alphabet = o.alphabet ?? 'ipa';
  if (typeof alphabet !== 'string' || !(alphabet in ALPHABETS)) throw new Error(`"alphabet" ${JSON.stringify(alphabet)}: expected "ipa", "espeak" or "arpabet"`);
  return { samples, sampleRate, phones: readPhones(o.phones, samples.length / sampleRate, ALPHABETS[alphabet as keyof typeof ALPHABETS]) };
}

function readPhones(raw: unknown, duration: number, asEspeak: (p: string) => string): TimedPhone[] {
  if (!Array.isArray(raw)) throw new Error('"phones" is not an array');
  if (raw.length > MAX_PHONES) throw new Error(`"phones" has ${raw.length} entries (at most ${MAX_PHONES})`);
  const out: TimedPhone[] = [];
  let last = 0;
  raw.forEach((p: unknown, i) => {
    const q = p as { phone?: unknown; start?: unknown; end?: unknown } | null;
    if (typeof q !== 'object' || q === null || typeof q.phone !== 'string' || q.phone.length > 16 || typeof q.start !== 'number' || typeof q.end !== 'number') {
      throw new Error(`phones[${i}] is not { phone (text), start, end (seconds) }`);
    }
    const { start, end } = q;
    if (!(Number.isFinite(start) && Number.isFinite(end) && start >= 0 && end > start)) throw new Error(`phones[${i}]: start ${start}, end ${end} (need 0 <= start < end)`);
    if (start < last - 1e-6) throw new Error(`phones[${i}] starts at ${start} s, before the phone before it ends (${last} s): phones must be in order, not overlapping`);
    if (end > duration + END_SLACK) throw new Error(`phones[${i}] ends at ${end} s, past the audio's ${duration.toFixed(3)} s`);
    out.push({ phone: asEspeak(q.phone), start, end: Math.min(end, duration) });
    last = end;
  });
  return out;
}
