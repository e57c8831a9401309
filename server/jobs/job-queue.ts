/**
 * The two job queues behind one interface. Both keep every job's record and files in the JobStore
 * (jobs.dir); they differ in who runs what:
 *   EmbeddedQueue  this process, up to jobs.concurrency at once, in submission order. Needs nothing
 *                  else. At start it takes up again every job a stop left queued or running.
 *   RedisQueue     BullMQ on Redis (jobs.redis_url): any number of worker processes on any number of
 *                  machines (npm run jobs:worker; the server too when jobs.concurrency > 0) share it.
 */
import type { JobsConfig, Config } from '../../config/schema.js';
import type { Logger } from '../log.js';
import { CANCEL, runJob, SHUTDOWN } from './job-runner.js';
import { TERMINAL, type JobRecord, type JobState, type JobStore } from './job-store.js';

export interface JobQueue {
  readonly kind: 'embedded' | 'redis';
  /** queues a job whose record the store holds (state queued) */
  submit(id: string): Promise<void>;
  /** a queued job is cancelled at once; a running one is stopped (its process killed) */
  cancel(id: string): Promise<JobRecord>;
  /** jobs per state, and how many this process runs */
  stats(): Promise<{ kind: string; states: Record<JobState, number>; runningHere: number; concurrency: number }>;
  /** stops taking jobs; jobs running here are stopped and go back to the queue */
  close(): Promise<void>;
}

export class JobConflictError extends Error {
  override readonly name = 'JobConflictError';
}

export function countStates(store: JobStore): Record<JobState, number> {
  const states: Record<JobState, number> = { queued: 0, running: 0, done: 0, failed: 0, cancelled: 0 };
  for (const r of store.list()) states[r.state] += 1;
  return states;
}

function markCancelled(store: JobStore, id: string): JobRecord {
  store.log(id, { event: 'cancelled', while: 'queued' });
  return store.update(id, { state: 'cancelled', finishedAt: new Date().toISOString() });
}

export class EmbeddedQueue implements JobQueue {
  readonly kind = 'embedded' as const;
  private pending: string[] = [];
  /** jobs running here: how to stop each, and when it has settled (recorded and released) */
  private readonly running = new Map<string, { ctl: AbortController; done: Promise<void> }>();
  private closed = false;

  constructor(
    private readonly store: JobStore,
    private readonly config: Config,
    private readonly log: Logger,
  ) {
    // take up what a stop left behind, oldest first
    for (const r of store.list()) {
      if (r.state === 'running') {
        store.log(r.id, { event: 'requeued', reason: 'the server stopped while it ran' });
        store.update(r.id, { state: 'queued', progress: 0, worker: null });
      }
      if (r.state === 'running' || r.state === 'queued') this.pending.push(r.id);
    }
    if (this.pending.length > 0) log.info({ jobs: this.pending.length }, 'jobs taken up again after a restart');
    queueMicrotask(() => this.pump());
  }

  private get jobs(): JobsConfig {
    return this.config.jobs;
  }

  async submit(id: string): Promise<void> {
    this.pending.push(id);
    this.pump();
  }

  async cancel(id: string): Promise<JobRecord> {
    const rec = this.store.get(id);
    if (TERMINAL.has(rec.state)) throw new JobConflictError(`job ${id} is already ${rec.state}`);
    const job = this.running.get(id);
    if (job) {
      job.ctl.abort(CANCEL);
      await job.done;
      return this.store.get(id);
    }
    this.pending = this.pending.filter((p) => p !== id);
    return markCancelled(this.store, id);
  }

  async stats() {
    return { kind: this.kind, states: countStates(this.store), runningHere: this.running.size, concurrency: this.jobs.concurrency };
  }

  async close(): Promise<void> {
    this.closed = true;
    const jobs = [...this.running.values()];
    for (const j of jobs) j.ctl.abort(SHUTDOWN);
    await Promise.all(jobs.map((j) => j.done));
  }

  private pump(): void {
    while (!this.closed && this.running.size < this.jobs.concurrency && this.pending.length > 0) {
      const id = this.pending.shift()!;
      let rec: JobRecord;
      try {
        rec = this.store.get(id);
      } catch {
        continue;
      }
      if (rec.state !== 'queued') continue;
      const ctl = new AbortController();
      this.log.info({ job: id }, 'job started');
      const done = runJob(this.store, id, this.config, { timeoutSec: this.jobs.timeout_sec, signal: ctl.signal })
        .then((r) => this.log.info({ job: id, state: r.state, error: r.error ?? undefined, wallSec: r.result?.wallSec }, `job ${r.state}`))
        .catch((e: unknown) => this.log.error({ job: id, err: e }, 'job runner failed'))
        .finally(() => {
          this.running.delete(id);
          this.pump();
        });
      this.running.set(id, { ctl, done });
    }
  }
}

const QUEUE_NAME = 'avatar-render';

/**
 * BullMQ on Redis. The job's id is the BullMQ job id; its record and files stay in the shared
 * JobStore. A cancel of a running job leaves a `cancel` file in its folder: the worker running it
 * (any process) polls its records every 500 ms and stops the render.
 */
export class RedisQueue implements JobQueue {
  readonly kind = 'redis' as const;
  private readonly running = new Map<string, AbortController>();
  private poll: NodeJS.Timeout | undefined;

  private constructor(
    private readonly store: JobStore,
    private readonly config: Config,
    private readonly log: Logger,
    private readonly queue: import('bullmq').Queue,
    private readonly worker: import('bullmq').Worker | undefined,
  ) {
    if (worker) {
      this.poll = setInterval(() => {
        for (const [id, ctl] of this.running) {
          try {
            if (store.cancelRequested(id)) ctl.abort(CANCEL);
          } catch {
            /* removed */
          }
        }
      }, 500);
    }
  }

  /** Connects to jobs.redis_url; with `concurrency` > 0 this process also works on the queue. */
  static async connect(store: JobStore, config: Config, log: Logger, concurrency = config.jobs.concurrency): Promise<RedisQueue> {
    const url = config.jobs.redis_url;
    if (!url) throw new TypeError('jobs.queue is "redis" but jobs.redis_url is not set');
    const { Queue, Worker } = await import('bullmq');
    const { Redis } = await import('ioredis');
    const connection = () => new Redis(url, { maxRetriesPerRequest: null, lazyConnect: false });
    const queueConn = connection();
    await new Promise<void>((resolve, reject) => {
      queueConn.once('ready', () => resolve());
      queueConn.once('error', (e) => reject(new Error(`cannot reach Redis at ${url}: ${e.message}`)));
    });
    const queue = new Queue(QUEUE_NAME, { connection: queueConn });
    let self: RedisQueue | undefined;
    const worker =
      concurrency > 0
        ? new Worker(QUEUE_NAME, async (job) => self!.process(job.data as { id: string }), {
            connection: connection(),
            concurrency,
            lockDuration: 30_000,
            maxStalledCount: 3,
          })
        : undefined;
    worker?.on('error', (e) => log.error({ err: e }, 'job worker: redis error'));
    self = new RedisQueue(store, config, log, queue, worker);
    return self;
  }

  async submit(id: string): Promise<void> {
    await this.queue.add('render', { id }, { jobId: id, removeOnComplete: 1000, removeOnFail: 1000 });
  }

  async cancel(id: string): Promise<JobRecord> {
    const rec = this.store.get(id);
    if (TERMINAL.has(rec.state)) throw new JobConflictError(`job ${id} is already ${rec.state}`);
    if (rec.state === 'queued') {
      const job = await this.queue.getJob(id);
      const removed = job ? await job.remove().then(() => true, () => false) : true;
      if (removed) return markCancelled(this.store, id);
    }
    // running (here or in another worker): ask its worker to stop it
    this.store.requestCancel(id);
    const end = Date.now() + 10_000;
    for (;;) {
      const r = this.store.get(id);
      if (TERMINAL.has(r.state) || Date.now() > end) return r;
      await new Promise((res) => setTimeout(res, 100));
    }
  }

  async stats() {
    return { kind: this.kind, states: countStates(this.store), runningHere: this.running.size, concurrency: this.worker ? this.config.jobs.concurrency : 0 };
  }

  async close(): Promise<void> {
    clearInterval(this.poll);
    for (const ctl of this.running.values()) ctl.abort(SHUTDOWN);
    await this.worker?.close();
    await this.queue.close();
  }

  private async process({ id }: { id: string }): Promise<void> {
    let rec: JobRecord;
    try {
      rec = this.store.get(id);
    } catch {
      return; // removed
    }
    if (rec.state !== 'queued' && rec.state !== 'running') return; // cancelled meanwhile
    if (this.store.cancelRequested(id)) {
      markCancelled(this.store, id);
      return;
    }
    if (rec.state === 'running') this.store.log(id, { event: 'requeued', reason: 'its worker stopped while it ran' });
    const ctl = new AbortController();
    this.running.set(id, ctl);
    this.log.info({ job: id }, 'job started');
    try {
      const r = await runJob(this.store, id, this.config, { timeoutSec: this.config.jobs.timeout_sec, signal: ctl.signal });
      this.log.info({ job: id, state: r.state, error: r.error ?? undefined }, `job ${r.state}`);
      // a shutdown put it back to queued: queue it again (under a new BullMQ id) for another worker
      if (r.state === 'queued') await this.queue.add('render', { id }, { jobId: `${id}-r${r.attempts}`, removeOnComplete: 1000, removeOnFail: 1000 });
    } finally {
      this.running.delete(id);
    }
  }
}

export async function createJobQueue(store: JobStore, config: Config, log: Logger): Promise<JobQueue> {
  return config.jobs.queue === 'redis' ? RedisQueue.connect(store, config, log) : new EmbeddedQueue(store, config, log);
}
