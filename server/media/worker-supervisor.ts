/**
 * Keeps a mediasoup worker running. When the worker process dies (a crash, an OOM kill), a new one
 * is started at once, then after 0.5, 1, 2 ... 10 s while starting fails, and 'restarted' is
 * emitted with it: the sessions rebuild their SFU rooms on it and tell their kiosks, which join
 * again by themselves (the 'media-restart' event). Nothing else in the server stops meanwhile.
 */
import { EventEmitter } from 'node:events';
import { createMediasoupWorker, type MediasoupWorker, type MediasoupWorkerOptions } from './mediasoup-worker.js';

export type WorkerState = 'running' | 'restarting' | 'closed';

export interface SupervisorEvents {
  /** the worker died; `error` is mediasoup's reason */
  died: [error: Error];
  /** a new worker runs (after a death) */
  restarted: [worker: MediasoupWorker];
  /** starting a new worker failed; another try follows after `retryMs` */
  'restart-failed': [error: Error, retryMs: number];
}

export class WorkerSupervisor extends EventEmitter<SupervisorEvents> {
  private current: MediasoupWorker;
  private status: WorkerState = 'running';
  private restartCount = 0;
  private timer: NodeJS.Timeout | undefined;

  private constructor(
    worker: MediasoupWorker,
    private readonly options: MediasoupWorkerOptions,
    private readonly create: (o: MediasoupWorkerOptions) => Promise<MediasoupWorker>,
  ) {
    super();
    this.current = worker;
    this.watch(worker);
  }

  /** Starts the first worker (its failure is the caller's: no binary, bad ports). */
  static async start(options: MediasoupWorkerOptions, create = createMediasoupWorker): Promise<WorkerSupervisor> {
    return new WorkerSupervisor(await create(options), options, create);
  }

  get worker(): MediasoupWorker {
    return this.current;
  }

  get state(): WorkerState {
    return this.status;
  }

  /** workers started after a death */
  get restarts(): number {
    return this.restartCount;
  }

  close(): void {
    this.status = 'closed';
    clearTimeout(this.timer);
    this.current.close();
  }

  private watch(worker: MediasoupWorker): void {
    worker.once('died', (e: Error) => {
      if (this.status === 'closed' || worker !== this.current) return;
      this.status = 'restarting';
      this.emit('died', e);
      void this.restart(0);
    });
  }

  private async restart(attempt: number): Promise<void> {
    if (this.status === 'closed') return;
    try {
      const worker = await this.create(this.options);
      if ((this.status as WorkerState) === 'closed') {
        worker.close();
        return;
      }
      this.current = worker;
      this.restartCount += 1;
      this.status = 'running';
      this.watch(worker);
      this.emit('restarted', worker);
    } catch (e) {
      const retryMs = Math.min(10_000, 500 * 2 ** attempt);
      this.emit('restart-failed', e as Error, retryMs);
      this.timer = setTimeout(() => void this.restart(attempt + 1), retryMs);
    }
  }
}
