/**
 * Main-thread side of the inference worker: runs a TalkingHeadEngine in a worker thread, feeds it
 * 16 kHz mono audio through a shared ring, and emits the frames it renders.
 *
 * Queue policy: audio is never dropped. What does not fit in the ring waits in a bounded pending
 * queue here and drains as the worker reads; when that is full too, pushAudio throws
 * QueueFullError and accepts nothing of the chunk. Controls (interrupt, silence, segment end,
 * reset, flush) carry the audio position they were issued at, so the worker applies them in order
 * with the audio.
 */
import { PortraitError } from '../../models/face/errors.js';
import { EventEmitter } from 'node:events';
import { existsSync } from 'node:fs';
import { resolve as resolvePath } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Worker } from 'node:worker_threads';
import { ANALYSIS_RATE, type AvatarFrame } from '../records.js';
import type { EngineInfo } from '../engine/EngineTypes.js';
import { AudioRing } from './audio-ring.js';
import { spawnTsWorker } from './ts-worker.js';
import { QueueFullError, InvalidStateError } from './worker-errors.js';
import type { TimedPhone } from '../phonemes/phones.js';
import type { ControlOp, FromThread, InferenceThreadData, ToThread } from './worker-messages.js';

export { QueueFullError, InvalidStateError } from './worker-errors.js';

export interface InferenceWorkerOptions {
  /** path or URL of a module exporting createEngine(options) -> TalkingHeadEngine (or a Promise of one) */
  engineModule: string;
  /** passed to createEngine; must be structured-clonable */
  engineOptions?: unknown;
  /** seconds of 16 kHz audio the shared ring holds (default 2) */
  ringSeconds?: number;
  /** seconds of audio held on the main thread once the ring is full, before QueueFullError (default 30) */
  pendingSeconds?: number;
  /** milliseconds close() waits for the worker to finish before terminating it (default 2000) */
  closeTimeoutMs?: number;
  /**
   * a live source (audio pushed at the pace it plays): when the worker falls more than this many
   * ms behind the audio it was given, it passes over frames without drawing them (engines with
   * skipReady), so an overloaded machine spends no time on frames that would arrive too late.
   * Undefined: every frame is drawn (offline use, tests that push a whole clip at once).
   */
  dropLateAfterMs?: number;
}

export interface InferenceWorkerStats {
  framesOut: number;
  /** frames the worker passed over without drawing them, behind the clock (dropLateAfterMs) */
  framesSkipped: number;
  /** samples pushed (ring + pending), the position controls refer to */
  position: number;
  /** samples the worker has taken from the ring (read or discarded) */
  workerPosition: number;
  /** samples waiting on the main thread (the ring was full) */
  queueDepth: number;
  /** samples in the ring */
  ringSamples: number;
  /** ring fill, 0..1 */
  ringFill: number;
  /** ms the engine took for the last frame, and on average */
  renderMsLast: number;
  renderMsAvg: number;
}

export interface InferenceWorkerEvents {
  /** the engine is created (engine info) */
  ready: [EngineInfo];
  frame: [AvatarFrame];
  /** the worker or its engine failed; the worker is gone */
  error: [Error];
  close: [];
}

const THREAD_URL = new URL('./inference-thread.ts', import.meta.url);

export class InferenceWorker extends EventEmitter<InferenceWorkerEvents> {
  /** resets sent and not yet taken by the worker */
  private resetsPending = 0;
  private readonly worker: Worker;
  private readonly ring: AudioRing;
  private readonly pendingCap: number;
  private readonly closeTimeoutMs: number;
  private readonly pending: Float32Array[] = [];
  private pendingSamples = 0;
  private draining = false;
  private position = 0;
  private framesOut = 0;
  private framesSkipped = 0;
  private renderMsLast = 0;
  private renderMsTotal = 0;
  private nextFlushId = 1;
  private readonly flushes = new Map<number, { resolve: () => void; reject: (e: Error) => void }>();
  private readonly readyPromise: Promise<EngineInfo>;
  private settleReady!: { resolve: (i: EngineInfo) => void; reject: (e: Error) => void };
  private failure: Error | undefined;
  private closing: Promise<void> | undefined;
  private exited = false;

  private constructor(worker: Worker, ring: AudioRing, pendingCap: number, closeTimeoutMs: number) {
    super();
    this.worker = worker;
    this.ring = ring;
    this.pendingCap = pendingCap;
    this.closeTimeoutMs = closeTimeoutMs;
    this.readyPromise = new Promise<EngineInfo>((resolve, reject) => {
      this.settleReady = { resolve, reject };
    });
    this.readyPromise.catch(() => undefined); // reported through 'error'; ready() callers see it too
    worker.on('message', (m: FromThread) => this.onMessage(m));
    worker.on('error', (e) => this.fail(new Error(`inference worker crashed: ${e?.message ?? String(e)}`, { cause: e })));
    worker.on('exit', (code) => {
      this.exited = true;
      if (code !== 0 && !this.closing) this.fail(new Error(`inference worker exited with code ${code}`));
      else this.fail(new InvalidStateError('inference worker has exited'), false);
    });
  }

  /**
   * Spawns the worker thread. Resolves once the thread runs; the engine is created in it after
   * that (await ready() for its info). Audio pushed before then waits in the ring.
   */
  static async start(options: InferenceWorkerOptions): Promise<InferenceWorker> {
    if (options === null || typeof options !== 'object') throw new TypeError('InferenceWorker.start: options must be an object');
    const engineModule = moduleUrl(options.engineModule);
    const ringSeconds = options.ringSeconds ?? 2;
    const pendingSeconds = options.pendingSeconds ?? 30;
    const closeTimeoutMs = options.closeTimeoutMs ?? 2000;
    if (!(ringSeconds > 0 && ringSeconds <= 600)) throw new TypeError(`InferenceWorker.start: ringSeconds must be in (0, 600], got ${ringSeconds}`);
    if (!(pendingSeconds >= 0 && pendingSeconds <= 3600)) throw new TypeError(`InferenceWorker.start: pendingSeconds must be in [0, 3600], got ${pendingSeconds}`);
    if (!(closeTimeoutMs >= 0)) throw new TypeError(`InferenceWorker.start: closeTimeoutMs must be >= 0, got ${closeTimeoutMs}`);
    const ring = AudioRing.create(Math.round(ringSeconds * ANALYSIS_RATE));
    const data: InferenceThreadData = { engineModule, engineOptions: options.engineOptions, ring: ring.shared, dropLateAfterMs: options.dropLateAfterMs };
    const worker = spawnTsWorker(THREAD_URL, { workerData: data });
    const self = new InferenceWorker(worker, ring, Math.round(pendingSeconds * ANALYSIS_RATE), closeTimeoutMs);
    await new Promise<void>((resolve, reject) => {
      const onError = (e: Error): void => reject(new Error(`inference worker failed to start: ${e.message}`, { cause: e }));
      worker.once('online', () => {
        worker.off('error', onError);
        resolve();
      });
      worker.once('error', onError);
    });
    return self;
  }

  /** The engine's info once it is created; rejects if creating it failed. */
  ready(): Promise<EngineInfo> {
    return this.readyPromise;
  }

  /** Subscribes to frames; returns the unsubscribe function. */
  onFrame(listener: (frame: AvatarFrame) => void): () => void {
    this.on('frame', listener);
    return () => this.off('frame', listener);
  }

  /**
   * Appends 16 kHz mono speech. All of it is taken, or (QueueFullError) none of it. The samples
   * are copied when they must wait, so the caller may reuse its buffer.
   */
  pushAudio(samples: Float32Array): void {
    this.assertUsable('pushAudio');
    if (!(samples instanceof Float32Array)) throw new TypeError('InferenceWorker.pushAudio: expected a Float32Array of 16 kHz mono samples');
    this.drainPending();
    const ringRoom = this.pending.length === 0 ? this.ring.availableWrite : 0;
    const room = ringRoom + this.pendingCap - this.pendingSamples;
    if (samples.length > room) throw new QueueFullError(samples.length, this.ring.capacity, this.pendingSamples, this.pendingCap);
    const taken = this.pending.length === 0 ? this.ring.write(samples) : 0;
    if (taken < samples.length) {
      this.pending.push(samples.slice(taken));
      this.pendingSamples += samples.length - taken;
      this.scheduleDrain();
    }
    this.position += samples.length;
  }

  /** Appends `count` samples of silence (16 kHz) to the engine's timeline, in order with the audio. */
  pushSilence(count: number): void {
    if (!Number.isInteger(count) || count < 0) throw new TypeError(`InferenceWorker.pushSilence: count must be a non-negative integer of samples, got ${count}`);
    this.control({ op: 'silence', at: this.position, count });
  }

  /** The phones of the speech pushed next (times in seconds from its start), for an engine that uses them. */
  pushPhones(phones: readonly TimedPhone[]): void {
    if (phones.length > 0) this.control({ op: 'phones', at: this.position, phones: phones.map((p) => ({ phone: p.phone, start: p.start, end: p.end })) });
  }

  /** Barge-in: audio pushed before this call is never rendered; the next frame is at rest. */
  interrupt(): void {
    this.control({ op: 'interrupt', at: this.position });
  }

  /** The utterance ended: the worker pads silence so every frame of it renders now. */
  endSegment(): void {
    this.control({ op: 'segment-end', at: this.position });
  }

  /**
   * Back to frame 0 and an empty timeline, after the audio pushed so far. Frames the worker
   * rendered before it took the reset are not emitted.
   */
  reset(): void {
    this.control({ op: 'reset', at: this.position });
    this.resetsPending += 1;
  }

  /** Resolves once the worker has taken all audio pushed so far and posted every frame it allows. */
  flush(): Promise<void> {
    const id = this.nextFlushId++;
    return new Promise<void>((resolve, reject) => {
      this.flushes.set(id, { resolve, reject });
      try {
        this.control({ op: 'flush', at: this.position, id });
      } catch (e) {
        this.flushes.delete(id);
        reject(e as Error);
      }
    });
  }

  stats(): InferenceWorkerStats {
    const ringSamples = this.ring.availableRead;
    return {
      framesOut: this.framesOut,
      framesSkipped: this.framesSkipped,
      position: this.position,
      workerPosition: this.ring.totalRead,
      queueDepth: this.pendingSamples,
      ringSamples,
      ringFill: ringSamples / this.ring.capacity,
      renderMsLast: this.renderMsLast,
      renderMsAvg: this.framesOut > 0 ? this.renderMsTotal / this.framesOut : 0,
    };
  }

  /** Stops the worker (queued audio is dropped) and resolves once its thread is gone. Safe to call twice. */
  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    this.pending.length = 0;
    this.pendingSamples = 0;
    if (!this.exited) {
      const exited = new Promise<void>((resolve) => this.worker.once('exit', () => resolve()));
      this.send({ type: 'close' });
      const timer = setTimeout(() => void this.worker.terminate(), this.closeTimeoutMs);
      await exited;
      clearTimeout(timer);
    }
    this.rejectWaiters(new InvalidStateError('InferenceWorker closed'));
    this.safeEmit('close');
  }

  private onMessage(m: FromThread): void {
    switch (m.type) {
      case 'ready':
        this.settleReady.resolve(m.info);
        this.safeEmit('ready', m.info);
        break;
      case 'reset-done':
        this.resetsPending = Math.max(0, this.resetsPending - 1);
        break;
      case 'frame':
        if (this.resetsPending > 0) break; // of the timeline before a reset
        this.framesOut += 1;
        this.framesSkipped += m.skipped ?? 0;
        this.renderMsLast = m.renderMs;
        this.renderMsTotal += m.renderMs;
        this.safeEmit('frame', m.frame);
        break;
      case 'flushed':
        this.flushes.get(m.id)?.resolve();
        this.flushes.delete(m.id);
        break;
      case 'fatal': {
        // a refused portrait stays a PortraitError (the caller's input, with its code)
        const e = m.portraitCode ? new PortraitError(m.portraitCode, m.message.replace(/^engine failed to start: /, '')) : new Error(`inference worker: ${m.message}`);
        if (m.stack) e.stack = `${e.message}\n--- in the worker ---\n${m.stack}`;
        this.fail(e);
        break;
      }
      case 'closed':
        break;
    }
  }

  private control(c: ControlOp): void {
    this.assertUsable(c.op);
    this.send({ type: 'control', ...c });
  }

  private send(m: ToThread): void {
    this.worker.postMessage(m);
  }

  private drainPending(): void {
    while (this.pending.length > 0) {
      const head = this.pending[0];
      const n = this.ring.write(head);
      this.pendingSamples -= n;
      if (n < head.length) {
        this.pending[0] = head.subarray(n);
        return;
      }
      this.pending.shift();
    }
  }

  /** Moves pending audio into the ring each time the worker reads, until none is left. */
  private scheduleDrain(): void {
    if (this.draining) return;
    this.draining = true;
    void (async () => {
      try {
        while (this.pending.length > 0 && !this.closing && !this.failure) {
          await this.ring.waitForRead(this.ring.totalRead, 250);
          this.drainPending();
        }
      } finally {
        this.draining = false;
      }
    })();
  }

  private fail(e: Error, report = true): void {
    if (this.failure) return;
    this.failure = e;
    this.settleReady.reject(e);
    this.rejectWaiters(e);
    if (report) this.safeEmit('error', e);
  }

  private rejectWaiters(e: Error): void {
    for (const f of this.flushes.values()) f.reject(e);
    this.flushes.clear();
  }

  private assertUsable(op: string): void {
    if (this.closing) throw new InvalidStateError(`InferenceWorker.${op}: the worker is closed`);
    if (this.failure) throw new InvalidStateError(`InferenceWorker.${op}: the worker has failed: ${this.failure.message}`);
  }

  /** Emits without letting a listener's exception break the worker; an unheard 'error' is logged. */
  private safeEmit<K extends keyof InferenceWorkerEvents>(event: K, ...args: InferenceWorkerEvents[K]): void {
    if (event === 'error' && this.listenerCount('error') === 0) {
      console.error('InferenceWorker error (no listener):', args[0]);
      return;
    }
    try {
      (this.emit as (e: K, ...a: InferenceWorkerEvents[K]) => boolean)(event, ...args);
    } catch (e) {
      console.error(`InferenceWorker: a '${String(event)}' listener threw:`, e);
    }
  }
}

/** file: URL of the engine module; relative paths are taken from the current directory. */
function moduleUrl(spec: unknown): string {
  if (typeof spec !== 'string' || spec.length === 0) throw new TypeError('InferenceWorker.start: engineModule must be a path or URL string');
  const url = /^[a-z][a-z0-9+.-]*:/i.test(spec) && !/^[a-z]:[\\/]/i.test(spec) ? spec : pathToFileURL(resolvePath(spec)).href;
  if (url.startsWith('file:') && !existsSync(fileURLToPath(url))) {
    throw new Error(`InferenceWorker.start: engine module not found: ${fileURLToPath(url)}`);
  }
  return url;
}
