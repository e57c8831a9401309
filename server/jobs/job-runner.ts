/**
 * Runs one job: forks render-child.ts (through tsx), relays its progress, and kills it on cancel
 * or when it runs past the timeout, which frees the worker whatever state the render is in.
 * Every stage and the outcome go to the job's log.
 */
import { fork } from 'node:child_process';
import { hostname } from 'node:os';
import { fileURLToPath } from 'node:url';
import { configSchema, type Config } from '../../config/schema.js';
import { deepMerge } from '../../config/load.js';
import { PRESETS } from '../../config/presets.js';
import type { ChildMessage, ChildRequest } from './render-child.js';
import type { JobRecord, JobStore } from './job-store.js';
import { processSchedTimes, type SchedTimes } from '../util/process-sched.js';

const CHILD = fileURLToPath(new URL('./render-child.ts', import.meta.url));

export class JobTimeoutError extends Error {
  override readonly name = 'JobTimeoutError';
}
export class JobCancelledError extends Error {
  override readonly name = 'JobCancelledError';
}
/** The worker is shutting down: the job goes back to the queue and runs again later. */
export class JobInterruptedError extends Error {
  override readonly name = 'JobInterruptedError';
}

/** Abort reasons a runner's signal may carry. */
export const CANCEL = 'cancel';
export const SHUTDOWN = 'shutdown';

/** who runs jobs here, as the record and the log show it */
export const WORKER_ID = `${hostname()}:${process.pid}`;

/** The configuration a job renders with: the server's, with the job's preset and frame size over it. */
export function jobConfig(config: Config, preset: 'fast' | 'quality', size?: { width: number; height: number }): Config {
  const withPreset = preset === config.preset ? config : configSchema.parse(deepMerge({ ...config, preset } as unknown as Record<string, unknown>, PRESETS[preset] as Record<string, unknown>));
  return size ? configSchema.parse({ ...withPreset, avatar: { ...withPreset.avatar, ...size } }) : withPreset;
}

/**
 * Runs the job to its end and records it: running -> done | failed | cancelled. Resolves with the
 * final record; never rejects for the job's own failure.
 */
export async function runJob(store: JobStore, id: string, config: Config, opts: { timeoutSec: number; signal?: AbortSignal }): Promise<JobRecord> {
  const started = store.get(id);
  const attempt = started.attempts + 1;
  store.update(id, { state: 'running', startedAt: new Date().toISOString(), attempts: attempt, worker: WORKER_ID, progress: 0, error: null });
  store.log(id, { event: 'started', attempt, worker: WORKER_ID, timeoutSec: opts.timeoutSec });
  const t0 = performance.now();
  try {
    const result = await new Promise<NonNullable<JobRecord['result']>>((resolve, reject) => {
      // under chrt(1) and nice(1), so every thread of the render (ONNX Runtime's, the encoder's) starts at the lower priority
      const [execPath, ...wrap] = [...renderPriority(config.jobs), process.execPath];
      const child = fork(CHILD, [], {
        execPath,
        execArgv: [...wrap, '--import', 'tsx'],
        stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
        serialization: 'advanced',
      });
      let stderr = '';
      let settled = false;
      const finish = (err: Error | null, r?: NonNullable<JobRecord['result']>) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        opts.signal?.removeEventListener('abort', onAbort);
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
        if (err) reject(err);
        else resolve(r!);
      };
      const timer = setTimeout(() => finish(new JobTimeoutError(timeoutMessage(opts.timeoutSec, processSchedTimes(child.pid)))), opts.timeoutSec * 1000);
      const onAbort = () => finish(opts.signal?.reason === SHUTDOWN ? new JobInterruptedError('the worker shut down') : new JobCancelledError('cancelled'));
      if (opts.signal?.aborted) return onAbort();
      opts.signal?.addEventListener('abort', onAbort, { once: true });
      child.stderr?.on('data', (b: Buffer) => {
        if (stderr.length < 4000) stderr += b.toString();
      });
      child.on('message', (m: ChildMessage) => {
        if (m.type === 'progress') {
          try {
            store.update(id, { progress: m.total > 0 ? m.done / m.total : 0 });
          } catch {
            /* the job was removed */
          }
        } else if (m.type === 'stage') store.log(id, { event: 'stage', stage: m.name, ms: Math.round(m.ms), ...m.detail });
        else if (m.type === 'done') finish(null, m.result);
        else if (m.type === 'error') finish(new Error(m.message));
      });
      child.on('error', (e) => finish(e));
      child.on('exit', (code, signal) => finish(new Error(`the render process ended (${signal ?? `exit code ${code}`}) without a result${stderr ? `: ${stderr.trim().split('\n').slice(-3).join(' | ')}` : ''}`)));
      const req: ChildRequest = { jobDir: store.folder(id), input: started.input, config: jobConfig(config, started.input.params.preset, started.input.params.size) };
      child.send(req);
    });
    store.log(id, { event: 'stage', stage: 'render', ...Object.fromEntries(Object.entries(result.stagesMs).map(([k, v]) => [`${k}Ms`, Math.round(v)])) });
    store.log(id, { event: 'done', wallSec: Math.round((performance.now() - t0) / 10) / 100, result });
    return store.update(id, { state: 'done', progress: 1, finishedAt: new Date().toISOString(), result });
  } catch (e) {
    if (e instanceof JobInterruptedError) {
      store.log(id, { event: 'interrupted', reason: 'the worker shut down: the job runs again', wallSec: Math.round((performance.now() - t0) / 10) / 100 });
      return store.update(id, { state: 'queued', progress: 0, worker: null });
    }
    const cancelled = e instanceof JobCancelledError;
    const message = (e as Error).message;
    store.log(id, { event: cancelled ? 'cancelled' : 'failed', error: message, wallSec: Math.round((performance.now() - t0) / 10) / 100 });
    return store.update(id, { state: cancelled ? 'cancelled' : 'failed', finishedAt: new Date().toISOString(), error: cancelled ? null : message });
  }
}

/**
 * Why a job timed out, with the CPU its render had and how long its threads waited for one
 * (undefined where unknown): a render that waited more than it ran was held back by a busy machine
 * (it runs only on the CPU that live sessions and other programs leave), it was not stuck.
 */
export function timeoutMessage(timeoutSec: number, sched: SchedTimes | undefined): string {
  const base = `the job ran past its timeout of ${timeoutSec} s (jobs.timeout_sec): its render was stopped`;
  if (!sched) return base;
  const had = `after ${sched.cpu.toFixed(1)} s of CPU`;
  return sched.waited > sched.cpu
    ? `${base} ${had}, its threads together waited ${sched.waited.toFixed(1)} s for one: the machine was busy (renders run below the live sessions and other programs: jobs.render_idle, jobs.render_nice); submit it again when the load is lower, or raise jobs.timeout_sec`
    : `${base} ${had}`;
}

/**
 * The command words that start a render below the live server: SCHED_IDLE (`chrt --idle 0`, which
 * an unprivileged process may choose for itself) and the niceness; empty for neither.
 */
export function renderPriority(jobs: Pick<Config['jobs'], 'render_nice' | 'render_idle'>): string[] {
  return [...(jobs.render_idle ? ['chrt', '--idle', '0'] : []), ...(jobs.render_nice > 0 ? ['nice', '-n', String(jobs.render_nice)] : [])];
}
