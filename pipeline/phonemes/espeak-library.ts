/**
 * libespeak-ng off the main thread: one worker thread per process (the library keeps global
 * state), requests served in order. A request that takes longer than its timeout terminates the
 * thread (the next request starts a new one). Used by the local TTS (server/voice/espeak-tts.ts):
 * the audio and the phones of one synthesis, so the phones line up with the audio exactly.
 */
import type { Worker } from 'node:worker_threads';
import { spawnTsWorker } from '../worker/ts-worker.js';
import type { EspeakReply, EspeakRequest } from './espeak-thread.js';
import type { EspeakSpeech } from './espeak-phones.js';
import type { TimedPhone } from './phones.js';

export class EspeakLibraryError extends Error {
  override readonly name = 'EspeakLibraryError';
  constructor(message: string, readonly kind: 'unavailable' | 'voice' | 'failed' | 'timeout') {
    super(message);
  }
}

type Pending = { resolve: (s: EspeakSpeech | Aligned) => void; reject: (e: Error) => void; timer: NodeJS.Timeout };

/** Phones carried onto another voice's audio of the same text, and how well the two matched (align.ts). */
export interface Aligned {
  phones: TimedPhone[];
  cost: number;
}

class EspeakLibrary {
  private worker: Worker | undefined;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();

  request(text: string, voice: string, rateWpm: number, timeoutMs: number, alignTo?: EspeakRequest['alignTo']): Promise<EspeakSpeech | Aligned> {
    const w = this.thread();
    const id = this.nextId++;
    return new Promise<EspeakSpeech | Aligned>((resolve, reject) => {
      const timer = setTimeout(() => {
        // the thread is stuck in the library: it goes, and every request waiting on it fails
        this.drop(new EspeakLibraryError(`libespeak-ng took more than ${timeoutMs} ms for one sentence`, 'timeout'));
      }, timeoutMs);
      this.pending.set(id, { resolve, reject, timer });
      w.postMessage({ id, text, voice, rateWpm, alignTo } satisfies EspeakRequest);
    });
  }

  private thread(): Worker {
    if (this.worker) return this.worker;
    const w = spawnTsWorker(new URL('./espeak-thread.ts', import.meta.url));
    w.unref(); // an idle TTS thread keeps no process alive
    w.on('message', (m: EspeakReply) => {
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      clearTimeout(p.timer);
      if ('error' in m) p.reject(new EspeakLibraryError(m.error, m.kind));
      else if ('aligned' in m) p.resolve({ phones: m.aligned, cost: m.cost });
      else p.resolve({ samples: m.samples, sampleRate: m.sampleRate, phones: m.phones });
    });
    w.on('error', (e) => this.drop(new EspeakLibraryError(`the espeak-ng thread failed: ${e.message}`, 'failed')));
    w.on('exit', () => {
      if (this.worker === w) this.drop(new EspeakLibraryError('the espeak-ng thread exited', 'failed'));
    });
    this.worker = w;
    return w;
  }

  private drop(err: Error): void {
    const w = this.worker;
    this.worker = undefined;
    for (const [id, p] of this.pending) {
      clearTimeout(p.timer);
      p.reject(err);
      this.pending.delete(id);
    }
    void w?.terminate();
  }
}

let shared: EspeakLibrary | undefined;

/** Speaks `text` through libespeak-ng in this process's espeak thread. Rejects with EspeakLibraryError. */
export function speakWithLibrary(text: string, voice: string, rateWpm: number, timeoutMs: number): Promise<EspeakSpeech> {
  shared ??= new EspeakLibrary();
  return shared.request(text, voice, rateWpm, timeoutMs) as Promise<EspeakSpeech>;
}

/**
 * Phones for `audio`, another voice speaking `text`: espeak-ng speaks the text in `voice` (the same
 * language) and its phones are carried across by time warping, in the espeak thread.
 */
export function alignWithLibrary(text: string, voice: string, rateWpm: number, audio: { samples: Float32Array; sampleRate: number }, timeoutMs: number): Promise<Aligned> {
  shared ??= new EspeakLibrary();
  return shared.request(text, voice, rateWpm, timeoutMs, { samples: audio.samples, sampleRate: audio.sampleRate }) as Promise<Aligned>;
}
