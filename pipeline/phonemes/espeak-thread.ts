/**
 * Worker entry: owns libespeak-ng for the process (espeak-phones.ts) and serves one request at a
 * time: { id, text, voice, rateWpm } -> { id, samples (transferred), sampleRate, phones }; with
 * `alignTo` (another voice's audio of the same text) -> { id, phones on that audio, cost }
 * (align.ts); failures -> { id, error, kind }. workerData.cancel (an Int32Array on shared memory)
 * holds the id of a request the main thread gave up on (timeout, abort): the synthesis stops at its
 * next callback and answers kind 'stopped'.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { alignPhones } from './align.js';
import { EspeakStoppedError, EspeakUnavailableError, espeakSpeak } from './espeak-phones.js';

export interface EspeakRequest {
  id: number;
  text: string;
  voice: string;
  rateWpm: number;
  alignTo?: { samples: Float32Array; sampleRate: number };
}

export type EspeakReply =
  | { id: number; samples: Float32Array; sampleRate: number; phones: { phone: string; start: number; end: number }[] }
  | { id: number; aligned: { phone: string; start: number; end: number }[]; cost: number }
  | { id: number; error: string; kind: 'unavailable' | 'voice' | 'failed' | 'stopped' };

export interface EspeakThreadData {
  cancel: Int32Array;
}

const port = parentPort;
if (!port) throw new Error('espeak-thread must run in a worker thread');
const { cancel } = workerData as EspeakThreadData;
port.on('message', (r: EspeakRequest) => {
  try {
    const s = espeakSpeak(r.text, r.voice, r.rateWpm, () => Atomics.load(cancel, 0) === r.id);
    if (r.alignTo) {
      const { phones, cost } = alignPhones(s, r.alignTo);
      port.postMessage({ id: r.id, aligned: phones, cost } satisfies EspeakReply);
      return;
    }
    port.postMessage({ id: r.id, samples: s.samples, sampleRate: s.sampleRate, phones: s.phones } satisfies EspeakReply, [s.samples.buffer as ArrayBuffer]);
  } catch (e) {
    const kind = e instanceof EspeakUnavailableError ? 'unavailable' : e instanceof EspeakStoppedError ? 'stopped' : e instanceof RangeError ? 'voice' : 'failed';
    port.postMessage({ id: r.id, error: (e as Error).message, kind } satisfies EspeakReply);
  }
});
