/**
 * libespeak-ng off the main thread: one worker thread per process (the library keeps global
 * state). Requests wait here and go to the thread one at a time, so each one's timeout counts its
 * own synthesis, not the queue before it. A request that runs past its timeout, or whose signal
 * aborts (a barge-in), fails at once and its synthesis is stopped through shared memory at the
 * library's next callback (a few ms); the thread is never terminated, because a thread terminated
 * inside the library's callback aborts the whole process (seen: koffi's napi_throw, FATAL ERROR). A
 * thread that still has not answered `HUNG_MS` after that is given up: every request from then on
 * fails as 'unavailable' (the local TTS then speaks through the espeak-ng command).
 * Used by the local TTS (server/voice/espeak-tts.ts): the audio and the phones of one synthesis, so
 * the phones line up with the audio exactly.
 */
import type { Worker } from 'node:worker_threads';
import { spawnTsWorker } from '../worker/ts-worker.js';
import type { EspeakReply, EspeakRequest, EspeakThreadData } from './espeak-thread.js';
import type { EspeakSpeech } from './espeak-phones.js';
import type { TimedPhone } from './phones.js';

export class EspeakLibraryError extends Error {
  override readonly name = 'EspeakLibraryError';
  constructor(message: string, readonly kind: 'unavailable' | 'voice' | 'failed' | 'timeout' | 'aborted') {
    super(message);
  }
}

/** Phones carried onto another voice's audio of the same text, and how well the two matched (align.ts). */
export interface Aligned {
  phones: TimedPhone[];
  cost: number;
}

/** ms a stopped synthesis may take to answer before the thread counts as hung */
const HUNG_MS = 5000;

type Job = {
  request: EspeakRequest;
  timeoutMs: number;
  signal: AbortSignal | undefined;
  onAbort: () => void;
  resolve: (s: EspeakSpeech | Aligned) => void;
  reject: (e: Error) => void;
};

class EspeakLibrary {
  private worker: Worker | undefined;
  private readonly cancel = new Int32Array(new SharedArrayBuffer(4));
  private nextId = 1;
  private readonly queue: Job[] = [];
  /** the request the thread works on; `settled` once its caller was answered (timeout, abort) */
  private running: { job: Job; timer: NodeJS.Timeout; settled: boolean } | undefined;
  private hung: string | undefined;

  request(text: string, voice: string, rateWpm: number, timeoutMs: number, alignTo?: EspeakRequest['alignTo'], signal?: AbortSignal): Promise<EspeakSpeech | Aligned> {
    return new Promise<EspeakSpeech | Aligned>((resolve, reject) => {
      if (this.hung) return reject(new EspeakLibraryError(this.hung, 'unavailable'));
      if (signal?.aborted) return reject(new EspeakLibraryError('cancelled', 'aborted'));
      const job: Job = { request: { id: this.nextId++, text, voice, rateWpm, alignTo }, timeoutMs, signal, onAbort: () => this.abort(job), resolve, reject };
      signal?.addEventListener('abort', job.onAbort, { once: true });
      this.queue.push(job);
      this.pump();
    });
  }

  /** The next waiting request to the thread, when none runs. */
  private pump(): void {
    if (this.running || this.queue.length === 0) return;
    const job = this.queue.shift()!;
    let w: Worker;
    try {
      w = this.thread();
    } catch (e) {
      this.settle(job, (j) => j.reject(new EspeakLibraryError(`the espeak-ng thread did not start: ${(e as Error).message}`, 'unavailable')));
      return this.pump();
    }
    const timer = setTimeout(() => this.giveUp(new EspeakLibraryError(`libespeak-ng took more than ${job.timeoutMs} ms for one sentence`, 'timeout')), job.timeoutMs);
    this.running = { job, timer, settled: false };
    w.postMessage(job.request);
  }

  private abort(job: Job): void {
    const q = this.queue.indexOf(job);
    if (q >= 0) {
      this.queue.splice(q, 1);
      this.settle(job, (j) => j.reject(new EspeakLibraryError('cancelled', 'aborted')));
    } else if (this.running?.job === job) {
      this.giveUp(new EspeakLibraryError('cancelled', 'aborted'));
    }
  }

  /** The running request's caller is answered now; the thread is asked to stop it, and watched. */
  private giveUp(err: EspeakLibraryError): void {
    const r = this.running;
    if (!r || r.settled) return;
    r.settled = true;
    this.settle(r.job, (j) => j.reject(err));
    Atomics.store(this.cancel, 0, r.job.request.id);
    clearTimeout(r.timer);
    r.timer = setTimeout(() => {
      this.hung = `libespeak-ng did not stop within ${HUNG_MS} ms of being told to: the thread is given up`;
      for (const j of this.queue.splice(0)) this.settle(j, (x) => x.reject(new EspeakLibraryError(this.hung!, 'unavailable')));
    }, HUNG_MS);
    r.timer.unref();
  }

  private settle(job: Job, how: (j: Job) => void): void {
    job.signal?.removeEventListener('abort', job.onAbort);
    how(job);
  }

  /** The thread answered request `id` (or lost it: `reply` undefined). */
  private done(id: number, reply: ((j: Job) => void) | undefined): void {
    const r = this.running;
    if (!r || r.job.request.id !== id) return;
    clearTimeout(r.timer);
    this.running = undefined;
    this.hung = undefined; // it answered after all
    if (!r.settled) this.settle(r.job, reply ?? ((j) => j.reject(new EspeakLibraryError('the espeak-ng thread was lost', 'failed'))));
    this.pump();
  }

  private thread(): Worker {
    if (this.worker) return this.worker;
    const w = spawnTsWorker(new URL('./espeak-thread.ts', import.meta.url), { workerData: { cancel: this.cancel } satisfies EspeakThreadData });
    w.unref(); // an idle TTS thread keeps no process alive
    w.on('message', (m: EspeakReply) => {
      this.done(m.id, (job) => {
        if ('error' in m) job.reject(new EspeakLibraryError(m.error, m.kind === 'stopped' ? 'failed' : m.kind));
        else if ('aligned' in m) job.resolve({ phones: m.aligned, cost: m.cost });
        else job.resolve({ samples: m.samples, sampleRate: m.sampleRate, phones: m.phones });
      });
    });
    const lost = (why: string) => {
      if (this.worker !== w) return;
      this.worker = undefined;
      const r = this.running;
      if (r) this.done(r.job.request.id, (job) => job.reject(new EspeakLibraryError(why, 'failed')));
    };
    w.on('error', (e) => lost(`the espeak-ng thread failed: ${e.message}`));
    w.on('exit', () => lost('the espeak-ng thread exited'));
    this.worker = w;
    return w;
  }
}

let shared: EspeakLibrary | undefined;

/** Speaks `text` through libespeak-ng in this process's espeak thread. Rejects with EspeakLibraryError. */
export function speakWithLibrary(text: string, voice: string, rateWpm: number, timeoutMs: number, signal?: AbortSignal): Promise<EspeakSpeech> {
  shared ??= new EspeakLibrary();
  return shared.request(text, voice, rateWpm, timeoutMs, undefined, signal) as Promise<EspeakSpeech>;
}

/**
 * Phones for `audio`, another voice speaking `text`: espeak-ng speaks the text in `voice` (the same
 * language) and its phones are carried across by time warping, in the espeak thread.
 */
export function alignWithLibrary(text: string, voice: string, rateWpm: number, audio: { samples: Float32Array; sampleRate: number }, timeoutMs: number): Promise<Aligned> {
  shared ??= new EspeakLibrary();
  return shared.request(text, voice, rateWpm, timeoutMs, { samples: audio.samples, sampleRate: audio.sampleRate }) as Promise<Aligned>;
}
