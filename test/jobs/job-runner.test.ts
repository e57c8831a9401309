/** The job runner and the embedded queue without the server: a stuck render is killed at its timeout (saying whether a busy machine held it back), and the concurrency limit holds. */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { parseConfig } from '../../config/load.js';
import { DEFAULT_PORTRAIT } from '../../config/schema.js';
import { createLogger } from '../../server/log.js';
import { EmbeddedQueue } from '../../server/jobs/job-queue.js';
import { runJob } from '../../server/jobs/job-runner.js';
import { JobStore, type JobInput } from '../../server/jobs/job-store.js';
import { speakWav } from '../helpers/speech.js';

const PORTRAIT = readFileSync(DEFAULT_PORTRAIT);
const SHORT = speakWav('Good morning, class.');
const LONG = speakWav('Water evaporates from the sea, forms clouds, and falls again as rain. '.repeat(5));

function setup(concurrency = 1) {
  const dir = mkdtempSync(join(tmpdir(), 'jobs-runner-'));
  const config = parseConfig({ runtime: { cache_dir: join(dir, 'portraits') }, jobs: { dir: join(dir, 'jobs'), concurrency } });
  const store = new JobStore(config.jobs.dir);
  const add = (audio: Uint8Array) => {
    const input: JobInput = { audio: 'audio.wav', text: null, portrait: 'portrait.png', params: { preset: 'fast' }, uploads: [] };
    return store.create(store.newId(), 'test', input, { 'audio.wav': audio, 'portrait.png': PORTRAIT }).id;
  };
  return { config, store, add };
}

/** render processes this test process started and that still run */
const renderChildren = () =>
  execFileSync('ps', ['-o', 'args=', '--ppid', String(process.pid)], { encoding: 'utf8' }).split('\n').filter((l) => l.includes('render-child'));

describe('job runner', () => {
  it('kills a render that runs past the timeout: the job fails with the reason and nothing keeps running', async () => {
    const { config, store, add } = setup();
    const id = add(LONG);
    const t0 = performance.now();
    const r = await runJob(store, id, config, { timeoutSec: 1.5 });
    const ms = performance.now() - t0;
    expect(r.state).toBe('failed');
    expect(r.error).toMatch(/past its timeout of 1.5 s \(jobs.timeout_sec\): its render was stopped after \d+\.\d s of CPU/);
    expect(ms).toBeGreaterThan(1400);
    expect(ms).toBeLessThan(3000);
    await new Promise((res) => setTimeout(res, 200));
    expect(renderChildren()).toEqual([]);
    expect(store.readLog(id).map((l) => l.event)).toEqual(['submitted', 'started', 'failed']);
  }, 30_000);

  it('a render held back by a busy machine times out saying so: it waited for the CPU more than it ran', async () => {
    const { config, store, add } = setup();
    const id = add(LONG);
    // one busy loop per core at the lowest niceness: still above SCHED_IDLE, where renders run, and
    // barely in the way of anything else
    const hogs = Array.from({ length: availableParallelism() }, () => spawn('nice', ['-n', '19', process.execPath, '-e', 'for (;;) {}'], { stdio: 'ignore' }));
    try {
      const r = await runJob(store, id, config, { timeoutSec: 3 });
      expect(r.state).toBe('failed');
      expect(r.error).toMatch(/past its timeout of 3 s \(jobs.timeout_sec\): its render was stopped after \d+\.\d s of CPU, its threads together waited \d+\.\d s for one: the machine was busy/);
    } finally {
      for (const h of hogs) h.kill('SIGKILL');
    }
  }, 30_000);

  it('runs renders below the live server (jobs.render_idle: SCHED_IDLE, jobs.render_nice 10): every thread of the render process (issue 19, item 10)', async () => {
    const { config, store, add } = setup();
    expect(config.jobs.render_nice).toBe(10);
    expect(config.jobs.render_idle).toBe(true);
    const id = add(LONG);
    const run = runJob(store, id, config, { timeoutSec: 8 });
    let seen: { nice: number[]; policy: number[]; args: string } | undefined;
    for (let i = 0; i < 100 && !seen; i++) {
      await new Promise((res) => setTimeout(res, 100));
      const line = execFileSync('ps', ['-o', 'pid=,args=', '--ppid', String(process.pid)], { encoding: 'utf8' }).split('\n').find((l) => l.includes('render-child'));
      if (!line) continue;
      const pid = line.trim().split(/\s+/)[0]!;
      // the nice value and scheduling policy of each of its threads (fields 19 and 41 of /proc/<pid>/task/<tid>/stat)
      const tids = execFileSync('ls', [`/proc/${pid}/task`], { encoding: 'utf8' }).split('\n').filter(Boolean);
      const fields = tids.map((t) => readFileSync(`/proc/${pid}/task/${t}/stat`, 'utf8').split(') ')[1]!.split(' '));
      if (tids.length > 3) seen = { nice: fields.map((f) => Number(f[16])), policy: fields.map((f) => Number(f[38])), args: line };
    }
    await run;
    expect(seen, 'the render process was not seen').toBeDefined();
    expect(seen!.nice.every((n) => n === 10)).toBe(true);
    // SCHED_IDLE is policy 5 (sched.h)
    expect(seen!.policy.every((p) => p === 5)).toBe(true);
  }, 30_000);

  it('lists jobs in submission order, also those submitted within one millisecond (the queue takes them up in that order)', () => {
    const { store } = setup();
    const input: JobInput = { audio: 'audio.wav', text: null, portrait: 'portrait.png', params: { preset: 'fast' }, uploads: [] };
    // the wall clock stands still: every job gets the same createdAt, as jobs submitted within one ms do
    vi.useFakeTimers({ toFake: ['Date'] });
    let ids: string[];
    try {
      ids = Array.from({ length: 40 }, () => store.create(store.newId(), 'test', input, { 'audio.wav': new Uint8Array(1), 'portrait.png': new Uint8Array(1) }).id);
    } finally {
      vi.useRealTimers();
    }
    expect(new Set(ids.map((id) => store.get(id).createdAt)).size).toBe(1);
    expect(store.list().map((r) => r.id)).toEqual(ids);
  });

  it('runs at most jobs.concurrency jobs at once, in order, and all of them', async () => {
    const { config, store, add } = setup(2);
    const ids = [add(SHORT), add(SHORT), add(SHORT)];
    const queue = new EmbeddedQueue(store, config, createLogger('silent'));
    let most = 0;
    for (;;) {
      const states = ids.map((id) => store.get(id).state);
      most = Math.max(most, states.filter((s) => s === 'running').length);
      if (states.every((s) => s === 'done' || s === 'failed')) break;
      await new Promise((res) => setTimeout(res, 30));
    }
    await queue.close();
    expect(ids.map((id) => store.get(id).state)).toEqual(['done', 'done', 'done']);
    expect(most).toBe(2);
    const started = ids.map((id) => store.get(id).startedAt!);
    expect([...started].sort()).toEqual(started);
  }, 90_000);
});
