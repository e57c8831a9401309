/**
 * Worker entry: owns libespeak-ng for the process (espeak-phones.ts) and serves one request at a
 * time: { id, text, voice, rateWpm } -> { id, samples (transferred), sampleRate, phones }; with
 * `alignTo` (another voice's audio of the same text) -> { id, phones on that audio, cost }
 * (align.ts); failures -> { id, error, kind }.
 */
import { parentPort } from 'node:worker_threads';
import { alignPhones } from './align.js';
import { EspeakUnavailableError, espeakSpeak } from './espeak-phones.js';

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
  | { id: number; error: string; kind: 'unavailable' | 'voice' | 'failed' };

const port = parentPort;
if (!port) throw new Error('espeak-thread must run in a worker thread');
port.on('message', (r: EspeakRequest) => {
  try {
    const s = espeakSpeak(r.text, r.voice, r.rateWpm);
    if (r.alignTo) {
      const { phones, cost } = alignPhones(s, r.alignTo);
      port.postMessage({ id: r.id, aligned: phones, cost } satisfies EspeakReply);
      return;
    }
    port.postMessage({ id: r.id, samples: s.samples, sampleRate: s.sampleRate, phones: s.phones } satisfies EspeakReply, [s.samples.buffer as ArrayBuffer]);
  } catch (e) {
    const kind = e instanceof EspeakUnavailableError ? 'unavailable' : e instanceof RangeError ? 'voice' : 'failed';
    port.postMessage({ id: r.id, error: (e as Error).message, kind } satisfies EspeakReply);
  }
});
