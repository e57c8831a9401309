/**
 * A kiosk microphone in listen mode, played from a test: 20 ms `listen` chunks (16 kHz s16le) at
 * the pace of a live microphone over a kiosk token's /audio socket, as the kiosk page sends them.
 */
import { decodeWavSamples, parseWavHeader } from '../../pipeline/audio/wav.js';
import type { AudioSocket } from './test-server.js';

export const MIC_FORMAT = { encoding: 's16le' as const, sampleRate: 16_000, channels: 1 as const };
/** samples per chunk: 20 ms */
export const MIC_CHUNK = 320;

export type Heard = { speech: boolean; echo: boolean };

/** a WAV's samples at 16 kHz (linear interpolation; espeak-ng speaks at 22050 Hz) */
export function samplesAt16k(wav: Buffer): Float32Array {
  const info = parseWavHeader(wav);
  const mono = decodeWavSamples(wav, info);
  const n = Math.floor((mono.length * 16_000) / info.sampleRate);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const x = (i * info.sampleRate) / 16_000;
    const k = Math.floor(x);
    out[i] = (mono[k] ?? 0) + ((mono[k + 1] ?? 0) - (mono[k] ?? 0)) * (x - k);
  }
  return out;
}

export const pcm16 = (s: Float32Array) => Buffer.from(Int16Array.from(s, (v) => Math.max(-32768, Math.min(32767, Math.round(v * 32767)))).buffer);

export const silence16k = (ms: number) => new Float32Array((16_000 * ms) / 1000);

/** `s` followed by 900 ms of quiet (the gate's hangover closes the utterance) */
export function withSilence(s: Float32Array): Float32Array {
  const out = new Float32Array(s.length + silence16k(900).length);
  out.set(s);
  return out;
}

async function send(s: AudioSocket, chunk: Float32Array): Promise<Heard> {
  const r = (await s.timeout(5000).emitWithAck('listen', MIC_FORMAT, pcm16(chunk))) as { ok: boolean; speech: boolean; echo: boolean; error?: string };
  if (!r.ok) throw new Error(r.error);
  return { speech: r.speech, echo: r.echo };
}

/** Sends `samples` once, at a live pace; the server's answer to each chunk. `onChunk(k)` just before chunk k is sent. */
export async function listenOnce(s: AudioSocket, samples: Float32Array, onChunk?: (k: number) => void): Promise<Heard[]> {
  const out: Heard[] = [];
  const t0 = performance.now();
  for (let i = 0, k = 0; i < samples.length; i += MIC_CHUNK, k++) {
    onChunk?.(k);
    out.push(await send(s, samples.subarray(i, i + MIC_CHUNK)));
    const wait = t0 + (k + 1) * 20 - performance.now();
    if (wait > 0) await new Promise((res) => setTimeout(res, wait));
  }
  return out;
}

/** A microphone that is always on: silence unless something plays into it. */
export class LiveMic {
  private queue: { samples: Float32Array; at: number; onChunk?: (k: number) => void; results: Heard[]; done: () => void }[] = [];
  private running = true;
  private readonly loop: Promise<void>;

  constructor(readonly socket: AudioSocket) {
    this.loop = this.run();
  }

  /** plays `samples` into the microphone; resolves with the answers to its chunks once played */
  play(samples: Float32Array, onChunk?: (k: number) => void): Promise<Heard[]> {
    return new Promise((resolve) => {
      const item = { samples, at: 0, onChunk, results: [] as Heard[], done: () => resolve(item.results) };
      this.queue.push(item);
    });
  }

  stop(): Promise<void> {
    this.running = false;
    return this.loop.then(() => void this.socket.close());
  }

  private async run(): Promise<void> {
    const t0 = performance.now();
    for (let k = 0; this.running; k++) {
      const item = this.queue[0];
      let chunk = new Float32Array(MIC_CHUNK);
      if (item) {
        item.onChunk?.(item.at / MIC_CHUNK);
        chunk = item.samples.slice(item.at, item.at + MIC_CHUNK);
      }
      const r = await send(this.socket, chunk);
      if (item) {
        item.results.push(r);
        item.at += MIC_CHUNK;
        if (item.at >= item.samples.length) {
          this.queue.shift();
          item.done();
        }
      }
      const wait = t0 + (k + 1) * 20 - performance.now();
      if (wait > 0) await new Promise((res) => setTimeout(res, wait));
    }
  }
}
