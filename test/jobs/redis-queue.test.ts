/**
 * The BullMQ queue with a real Redis server (Debian's redis-server, started here on a free port)
 * and two worker processes (npm run jobs:worker) sharing it and the job folder with a server that
 * renders nothing itself: jobs spread over both workers, a cancel reaches the worker that runs the
 * job, and a worker that stops hands its job to the other.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_PORTRAIT } from '../../config/schema.js';
import { speakWav } from '../helpers/speech.js';
import { getJob, waitJobState } from '../helpers/jobs.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';
import { startRedis, startUntil } from '../helpers/processes.js';

const TEST_CARD = fileURLToPath(new URL('../../pipeline/engine/test-pattern-engine.ts', import.meta.url));
const PORTRAIT = readFileSync(DEFAULT_PORTRAIT);
const SHORT = speakWav('Good morning, class.');
const LONG = speakWav('Water evaporates from the sea, forms clouds, and falls again as rain. '.repeat(5));

const dir = mkdtempSync(join(tmpdir(), 'jobs-redis-'));
let redis: ChildProcess | undefined;
let redisUrl: string;
let ts: TestServer;
let token: string;
const workers: { proc: ChildProcess; id: string }[] = [];

async function startWorker(configFile: string): Promise<{ proc: ChildProcess; id: string }> {
  const { proc, line } = await startUntil(process.execPath, ['--import', 'tsx', 'server/jobs/worker-main.ts', '--config', configFile, '--concurrency', '1'], /jobs worker ready/, 'a jobs worker');
  const w = { proc, id: (JSON.parse(line) as { worker: string }).worker };
  workers.push(w);
  return w;
}

beforeAll(async () => {
  ({ proc: redis, url: redisUrl } = await startRedis(dir));
  // render_idle off: the suite's other test files share these cores, and under SCHED_IDLE a render
  // waits for all of them (the priority is job-runner.test.ts's to check)
  const jobs = { queue: 'redis', redis_url: redisUrl, dir: join(dir, 'jobs'), timeout_sec: 120, render_idle: false };
  const configFile = join(dir, 'worker.json');
  writeFileSync(configFile, JSON.stringify({ jobs: { ...jobs, concurrency: 1 }, runtime: { cache_dir: join(dir, 'portraits') } }));
  ts = await startTestServer({ mode: 'direct', rtcBase: 46400, config: { jobs: { ...jobs, concurrency: 0 } }, start: { engineModule: TEST_CARD, engineOptions: { width: 64, height: 64 } } });
  token = ts.server.auth.mint('default', 'author', 3600);
  await Promise.all([startWorker(configFile), startWorker(configFile)]);
}, 90_000);

afterAll(async () => {
  for (const w of workers) w.proc.kill('SIGKILL');
  await ts?.server.close();
  redis?.kill('SIGKILL');
});

interface JobView { id: string; state: string; worker: string | null; attempts: number; error: string | null }

async function submit(audio: Uint8Array): Promise<string> {
  const f = new FormData();
  f.append('portrait', new Blob([new Uint8Array(PORTRAIT)], { type: 'image/png' }), 'p.png');
  f.append('audio', new Blob([new Uint8Array(audio)], { type: 'audio/wav' }), 'a.wav');
  const res = await fetch(`${ts.server.url}/api/jobs`, { method: 'POST', headers: { authorization: `Bearer ${token}` }, body: f });
  const body = (await res.json()) as { id: string; error?: string };
  if (res.status !== 202) throw new Error(`submit refused: ${res.status} ${body.error}`);
  return body.id;
}
const get = (id: string) => getJob<JobView>(ts.server.url, token, id);
const waitState = (id: string, states: string[], ms?: number) => waitJobState(get, id, states, ms);

describe('jobs on BullMQ + Redis, two worker processes', () => {
  it('the server renders nothing itself; the two workers share the jobs', async () => {
    const ids = [];
    for (let i = 0; i < 4; i++) ids.push(await submit(SHORT));
    const done = await Promise.all(ids.map((id) => waitState(id, ['done', 'failed'])));
    expect(done.map((j) => j.state)).toEqual(['done', 'done', 'done', 'done']);
    const by = new Set(done.map((j) => j.worker));
    expect(by).toEqual(new Set(workers.map((w) => w.id)));
    const health = (await (await fetch(`${ts.server.url}/healthz`)).json()) as { jobs: { kind: string; runningHere: number; concurrency: number } };
    expect(health.jobs).toMatchObject({ kind: 'redis', runningHere: 0, concurrency: 0 });
  }, 120_000);

  it('a cancel reaches the worker process that runs the job', async () => {
    const id = await submit(LONG);
    await waitState(id, ['running']);
    const t0 = Date.now();
    const res = await fetch(`${ts.server.url}/api/jobs/${id}/cancel`, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
    expect(await res.json()).toMatchObject({ ok: true, state: 'cancelled' });
    expect(Date.now() - t0).toBeLessThan(3000);
  }, 60_000);

  it('a worker that stops mid-job hands it to the other, which completes it', async () => {
    const id = await submit(LONG);
    const running = await waitState(id, ['running']);
    const first = workers.find((w) => w.id === running.worker)!;
    first.proc.kill('SIGTERM');
    const j = await waitState(id, ['done', 'failed'], 120_000);
    expect(j.state).toBe('done');
    expect(j.attempts).toBe(2);
    expect(j.worker).not.toBe(first.id);
  }, 150_000);
});
