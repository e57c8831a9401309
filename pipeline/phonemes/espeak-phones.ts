/**
 * espeak-ng as a library (libespeak-ng.so.1, the Debian package's; through koffi, no compiler
 * needed): one sentence -> its audio and the phonemes espeak-ng spoke, each with the sample it
 * starts at. The phoneme events come from the same synthesis as the audio, so they are exact.
 *
 * The library keeps global state and synthesises on the calling thread: call it from one thread of
 * a process only (server/voice runs it in a worker, espeak-worker.ts; tests and the CLI may call it
 * directly).
 */
import { createRequire } from 'node:module';
import type { TimedPhone } from './phones.js';

const require = createRequire(import.meta.url);

/** espeak-ng's event types (speak_lib.h) */
const EVENT = { LIST_TERMINATED: 0, WORD: 1, SENTENCE: 2, MARK: 3, PLAY: 4, END: 5, MSG_TERMINATED: 6, PHONEME: 7 } as const;
const AUDIO_OUTPUT_SYNCHRONOUS = 2;
const INITIALIZE_PHONEME_EVENTS = 0x0001;
const POS_CHARACTER = 1;
const CHARS_UTF8 = 1;
const PARAM_RATE = 1;

export interface EspeakSpeech {
  samples: Float32Array;
  sampleRate: number;
  /** the phonemes in order, times in seconds from the start of `samples` (pauses included, as "_") */
  phones: TimedPhone[];
}

export class EspeakUnavailableError extends Error {
  override readonly name = 'EspeakUnavailableError';
}

/** The synthesis was stopped by its caller's `stop` (a timeout or a cancelled sentence). */
export class EspeakStoppedError extends Error {
  override readonly name = 'EspeakStoppedError';
}

type Lib = {
  koffi: typeof import('koffi');
  EventT: unknown;
  setVoice: (name: string) => number;
  setVoiceByProperties: (v: { name: string | null; languages: string; identifier: string | null; gender: number; age: number; variant: number; xx1: number; score: number; spare: null }) => number;
  setParameter: (p: number, v: number, rel: number) => number;
  synth: (text: Buffer, size: number, pos: number, posType: number, end: number, flags: number, uid: null, user: null) => number;
  sync: () => number;
  sampleRate: number;
  /** the languages espeak-ng's voices speak ("en-gb", "cmn"), lower case */
  languages: Set<string>;
  /** the current synthesis' collector; `stop` is asked at each callback (true: the library stops) */
  sink: { parts: Int16Array[]; events: { type: number; sample: number; name: string }[]; stop: () => boolean; stopped: boolean } | undefined;
};

let lib: Lib | undefined;

function load(): Lib {
  if (lib) return lib;
  let koffi: typeof import('koffi');
  let so: ReturnType<typeof import('koffi').load>;
  try {
    koffi = require('koffi') as typeof import('koffi');
    so = koffi.load('libespeak-ng.so.1');
  } catch (e) {
    throw new EspeakUnavailableError(`libespeak-ng is not available (${(e as Error).message}): apt-get install -y espeak-ng`, { cause: e });
  }
  const EventT = koffi.struct('espeak_EVENT', {
    type: 'int', unique_identifier: 'uint', text_position: 'int', length: 'int', audio_position: 'int', sample: 'int', user_data: 'void*',
    id: koffi.union('espeak_EVENT_id', { number: 'int', name: 'const char*', string: koffi.array('uint8', 8) }),
  });
  const VoiceT = koffi.struct('espeak_VOICE', {
    name: 'const char*', languages: 'const char*', identifier: 'const char*', gender: 'uint8', age: 'uint8', variant: 'uint8', xx1: 'uint8', score: 'int', spare: 'void*',
  });
  const SynthCb = koffi.proto('int espeak_synth_cb(int16_t *wav, int numsamples, espeak_EVENT *events)');
  const init = so.func('int espeak_Initialize(int output, int buflength, const char *path, int options)');
  const setCallback = so.func('void espeak_SetSynthCallback(espeak_synth_cb *cb)');
  const l: Lib = {
    koffi,
    EventT,
    setVoice: so.func('int espeak_SetVoiceByName(const char *name)'),
    setVoiceByProperties: so.func('int espeak_SetVoiceByProperties(espeak_VOICE *voice_spec)'),
    setParameter: so.func('int espeak_SetParameter(int parameter, int value, int relative)'),
    synth: so.func('int espeak_Synth(const void *text, size_t size, unsigned int position, int position_type, unsigned int end_position, unsigned int flags, unsigned int *unique_identifier, void *user_data)'),
    sync: so.func('int espeak_Synchronize()'),
    sampleRate: 0,
    languages: new Set(),
    sink: undefined,
  };
  l.sampleRate = init(AUDIO_OUTPUT_SYNCHRONOUS, 200, null, INITIALIZE_PHONEME_EVENTS) as number;
  if (!(l.sampleRate > 0)) throw new EspeakUnavailableError(`espeak_Initialize failed (${l.sampleRate}): is espeak-ng-data installed? apt-get install -y espeak-ng`);
  // every voice's first language (the field is a priority byte, then the name)
  const listVoices = so.func('const espeak_VOICE **espeak_ListVoices(espeak_VOICE *voice_spec)');
  const list = listVoices(null);
  for (let i = 0; list; i++) {
    const ptr = koffi.decode(list, i * koffi.sizeof('void *'), 'void *');
    if (!ptr) break;
    const v = koffi.decode(ptr, VoiceT) as { languages: string | null };
    if (v.languages && v.languages.length > 1) l.languages.add(v.languages.slice(1).toLowerCase());
  }
  const size = koffi.sizeof(EventT);
  const cb = koffi.register((wav: unknown, n: number, events: unknown) => {
    const sink = l.sink;
    if (!sink) return 0;
    if (sink.stopped || sink.stop()) {
      sink.stopped = true;
      return 1; // espeak-ng: 1 aborts the synthesis
    }
    if (n > 0 && wav) sink.parts.push(Int16Array.from(koffi.decode(wav, 'int16_t', n) as number[]));
    for (let i = 0; ; i++) {
      const e = koffi.decode(events, i * size, EventT) as { type: number; sample: number; id: { string: number[] } };
      if (e.type === EVENT.LIST_TERMINATED) break;
      if (e.type === EVENT.PHONEME) {
        const bytes = e.id.string;
        let name = '';
        for (const b of bytes) {
          if (b === 0) break;
          name += String.fromCharCode(b);
        }
        sink.events.push({ type: e.type, sample: e.sample, name });
      }
    }
    return 0;
  }, koffi.pointer(SynthCb));
  setCallback(cb);
  lib = l;
  return l;
}

/**
 * Speaks `text` (UTF-8, plain text) in `voice` (an espeak-ng voice name, "en-us", "en+f3", "cmn")
 * at `rateWpm` words per minute. Throws EspeakUnavailableError without the library, RangeError for
 * a voice espeak-ng does not know, EspeakStoppedError once `stop` (asked every few ms of audio made)
 * says true: a thread that stops this way stays usable, where terminating it inside the library
 * would bring the whole process down.
 */
export function espeakSpeak(text: string, voice: string, rateWpm = 175, stop: () => boolean = () => false): EspeakSpeech {
  const l = load();
  // as the espeak-ng command: a voice name ("en-us", "en+f3"), else a language ("en-gb")
  const language = voice.split('+')[0]!.toLowerCase();
  if (l.setVoice(voice) !== 0 && (!l.languages.has(language) || l.setVoiceByProperties({ name: null, languages: voice, identifier: null, gender: 0, age: 0, variant: 0, xx1: 0, score: 0, spare: null }) !== 0)) {
    throw new RangeError(`espeak-ng has no voice "${voice}" (list them with espeak-ng --voices)`);
  }
  l.setParameter(PARAM_RATE, Math.round(rateWpm), 0);
  const sink: NonNullable<Lib['sink']> = { parts: [], events: [], stop, stopped: false };
  l.sink = sink;
  try {
    const b = Buffer.from(`${text}\0`, 'utf8');
    const rc = l.synth(b, b.length, 0, POS_CHARACTER, 0, CHARS_UTF8, null, null);
    if (rc !== 0) throw new Error(`espeak_Synth failed (${rc})`);
    l.sync();
  } finally {
    l.sink = undefined;
  }
  if (sink.stopped) throw new EspeakStoppedError('espeak-ng was stopped before the end of the text');
  const total = sink.parts.reduce((a, p) => a + p.length, 0);
  const samples = new Float32Array(total);
  let o = 0;
  for (const p of sink.parts) {
    for (let i = 0; i < p.length; i++) samples[o + i] = p[i]! / 32768;
    o += p.length;
  }
  const rate = l.sampleRate;
  const phones: TimedPhone[] = [];
  const evs = sink.events.filter((e) => !/^\(.*\)$/.test(e.name)); // "(en)": a language switch, not a sound
  for (let i = 0; i < evs.length; i++) {
    const start = Math.min(evs[i]!.sample, total) / rate;
    const end = (i + 1 < evs.length ? Math.min(evs[i + 1]!.sample, total) : total) / rate;
    if (end > start) phones.push({ phone: evs[i]!.name, start, end });
  }
  return { samples, sampleRate: rate, phones };
}
