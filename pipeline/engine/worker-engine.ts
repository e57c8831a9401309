/**
 * A TalkingHeadEngine whose engine runs in an inference worker thread (pipeline/worker), so a live
 * session's clock, signalling and media sending never wait for a render.
 *
 * The worker renders each frame as soon as the timeline allows and posts it; framesReady() counts
 * the frames received and not yet taken, renderReady() hands them over. Policy: at most
 * `maxBufferedFrames` wait here (a reader that stalls loses the oldest frames, counted in
 * framesDropped: late video is dropped, audio never is). interrupt() also drops the frames
 * rendered but not yet taken: their audio is dropped by the session at the same moment.
 */
import { InferenceWorker, type InferenceWorkerOptions } from '../worker/inference-worker.js';
import { InvalidStateError } from '../worker/worker-errors.js';
import type { TimedPhone } from '../phonemes/phones.js';
import type { AvatarFrame } from '../records.js';
import { emptyStageStats, recordStage, type EngineInfo, type EngineStats, type StageStats, type TalkingHeadEngine } from './EngineTypes.js';

export interface WorkerEngineOptions extends InferenceWorkerOptions {
  /** frames held for the reader before the oldest is dropped (default 50 = 2 s at 25 fps) */
  maxBufferedFrames?: number;
}

export class WorkerEngine implements TalkingHeadEngine {
  readonly info: EngineInfo;
  readonly worker: InferenceWorker;
  private readonly maxBuffered: number;
  private frames: AvatarFrame[] = [];
  private framesDropped = 0;
  private framesReceived = 0;
  private readonly engineStage: StageStats = emptyStageStats();
  private failure: Error | undefined;
  private closed = false;

  private constructor(worker: InferenceWorker, info: EngineInfo, maxBuffered: number) {
    this.worker = worker;
    this.info = info;
    this.maxBuffered = maxBuffered;
    worker.on('frame', (f) => {
      this.framesReceived += 1;
      recordStage(this.engineStage, worker.stats().renderMsLast);
      this.frames.push(f);
      if (this.frames.length > this.maxBuffered) {
        this.frames.shift();
        this.framesDropped += 1;
      }
    });
    worker.on('error', (e) => {
      this.failure = e;
    });
  }

  /** Starts the worker and waits for its engine; a failure to start closes the worker and rejects. */
  static async start(options: WorkerEngineOptions): Promise<WorkerEngine> {
    const maxBuffered = options.maxBufferedFrames ?? 50;
    if (!Number.isInteger(maxBuffered) || maxBuffered < 1) throw new TypeError(`WorkerEngine: maxBufferedFrames must be a positive integer, got ${maxBuffered}`);
    const worker = await InferenceWorker.start(options);
    // ready() rejects with the worker's error; keep an 'error' listener meanwhile so it is not logged twice
    const onEarlyError = (): void => undefined;
    worker.on('error', onEarlyError);
    try {
      const info = await worker.ready();
      return new WorkerEngine(worker, info, maxBuffered);
    } catch (e) {
      await worker.close();
      throw e;
    } finally {
      worker.off('error', onEarlyError);
    }
  }

  /** The worker's failure, if it failed (the engine is unusable then). */
  get failed(): Error | undefined {
    return this.failure;
  }

  pushAudio(samples: Float32Array): void {
    this.worker.pushAudio(samples);
  }

  pushPhones(phones: readonly TimedPhone[]): void {
    this.worker.pushPhones(phones);
  }

  pushSilence(count: number): void {
    this.worker.pushSilence(count);
  }

  framesReady(): number {
    return this.frames.length;
  }

  async renderReady(max = Infinity): Promise<AvatarFrame[]> {
    if (this.closed) throw new InvalidStateError('WorkerEngine: closed');
    if (this.failure && this.frames.length === 0) throw this.failure;
    return this.frames.splice(0, Math.min(max, this.frames.length));
  }

  interrupt(): void {
    this.worker.interrupt();
    this.frames.length = 0;
  }

  reset(): void {
    this.worker.reset();
    this.frames.length = 0;
  }

  stats(): EngineStats & { framesDropped: number; framesSkipped: number; queueDepth: number } {
    const w = this.worker.stats();
    return {
      framesRendered: this.framesReceived,
      budgetMs: 1000 / this.info.fps,
      stages: { engine: { ...this.engineStage } },
      framesDropped: this.framesDropped,
      framesSkipped: w.framesSkipped,
      queueDepth: w.queueDepth + w.ringSamples,
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    this.frames.length = 0;
    await this.worker.close();
  }
}
