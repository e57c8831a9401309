/**
 * Keeps a mediasoup worker running. When the worker process dies (a crash, an OOM kill), a new one
 * is started at once, then after 0.5, 1, 2 ... 10 s while starting fails, and 'restarted' is
 * emitted with it: the sessions rebuild their SFU rooms on it and tell their kiosks, which join
 * again by themselves (the 'media-restart' event). Nothing else in the server stops meanwhile.
 *
 * A stopping server starts nothing: `stopping()` (the first thing the server's close does) ends the
 * watch. A worker that exits by itself with code 0 was told to stop by a signal (a service manager
 * signals the whole process group, the worker may see it before the server does): it is replaced
 * only after GRACEFUL_EXIT_WAIT_MS, time for the server's own stop to arrive.
 */
import { EventEmitter } from 'node:events';
import { createMediasoupWorker, type MediasoupWorker, type MediasoupWorkerOptions } from './mediasoup-worker.js';

export type WorkerState = 'running' | 'restarting' | 'stopping' | 'closed';

/** how long a worker that exited with code 0 (a signal to the process group) waits to be replaced */
export const GRACEFUL_EXIT_WAIT_MS = 1500;

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

  /** The server is stopping: a worker that dies from now on is not replaced. */
  stopping(): void {
    if (this.status === 'closed') return;
    this.status = 'stopping';
    clearTimeout(this.timer);
  }

  close(): void {
    this.status = 'closed';
    clearTimeout(this.timer);
    this.current.close();
  }

  private watch(worker: MediasoupWorker): void {
    worker.once('died', (e: Error) => {
      if (this.status === 'closed' || this.status === 'stopping' || worker !== this.current) return;
      this.status = 'restarting';
      this.emit('died', e);
      // mediasoup's reason reads "[pid:N, code:C, signal:S]"
      if (/code:0, signal:null/.test(e.message)) this.timer = setTimeout(() => void this.restart(0), GRACEFUL_EXIT_WAIT_MS);
      else void this.restart(0);
    });
  }

  private async restart(attempt: number): Promise<void> {
    if (this.status !== 'restarting') return;
    try {
      const worker = await this.create(this.options);
      if ((this.status as WorkerState) !== 'restarting') {
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
      if ((this.status as WorkerState) !== 'restarting') return;
      this.emit('restart-failed', e as Error, retryMs);
      this.timer = setTimeout(() => void this.restart(attempt + 1), retryMs);
    }
  }
}
