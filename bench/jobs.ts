/**
 * Batch jobs: seconds of video produced per second of wall time with the default (portrait)
 * engine, through the real job path (embedded queue, one render process per job: process start,
 * model load, decode, enrolment cache, render, x264 + AAC), at concurrency 1 and 2.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig } from '../config/load.js';
import { DEFAULT_PORTRAIT } from '../config/schema.js';
import { EmbeddedQueue } from '../server/jobs/job-queue.js';
import { JobStore } from '../server/jobs/job-store.js';
import { createLogger } from '../server/log.js';
import { clipWav, speechClip } from './common.js';

export interface JobsThroughput {
  concurrency: number;
  jobs: number;
  clipSec: number;
  wallSec: number;
  /** seconds of video per second of wall time, all jobs together */
  speed: number;
  /** per job: wall time from start to done, and render stages inside the render process */
  perJobWallSec: number[];
  renderSec: number[];
}

export async function benchJobs(concurrency: number, jobs = 4, clipSec = 10): Promise<JobsThroughput> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-jobs-'));
  const config = parseConfig({ runtime: { cache_dir: join(dir, 'portraits') }, jobs: { dir: join(dir, 'jobs'), concurrency, timeout_sec: 600 } });
  const store = new JobStore(config.jobs.dir);
  const clip = speechClip(clipSec, clipSec + 0.5);
  const wav = clipWav(clip);
  const portrait = readFileSync(DEFAULT_PORTRAIT);
  const ids: string[] = [];
  // the portrait's enrolment is cached after the first job on a server: warm it, as a running server would be
  const warm = store.create(store.newId(), 'bench', { audio: 'audio.wav', text: null, portrait: 'portrait.png', params: { preset: 'fast' }, uploads: [] }, { 'audio.wav': clipWav(speechClip(1, 2)), 'portrait.png': portrait });
  let queue = new EmbeddedQueue(store, config, createLogger('silent'));
  while (!['done', 'failed'].includes(store.get(warm.id).state)) await new Promise((r) => setTimeout(r, 100));
  await queue.close();
  if (store.get(warm.id).state !== 'done') throw new Error(`bench: the warm-up job failed: ${store.get(warm.id).error}`);
  for (let i = 0; i < jobs; i++) {
    ids.push(store.create(store.newId(), 'bench', { audio: 'audio.wav', text: null, portrait: 'portrait.png', params: { preset: 'fast' }, uploads: [] }, { 'audio.wav': wav, 'portrait.png': portrait }).id);
  }
  const t0 = performance.now();
  queue = new EmbeddedQueue(store, config, createLogger('silent'));
  while (!ids.every((id) => ['done', 'failed'].includes(store.get(id).state))) await new Promise((r) => setTimeout(r, 100));
  const wallSec = (performance.now() - t0) / 1000;
  await queue.close();
  const recs = ids.map((id) => store.get(id));
  const failed = recs.filter((r) => r.state !== 'done');
  if (failed.length > 0) throw new Error(`bench jobs failed: ${failed.map((r) => r.error).join('; ')}`);
  const video = recs.reduce((a, r) => a + r.result!.durationSec, 0);
  return {
    concurrency, jobs, clipSec: clip.durationSec, wallSec, speed: video / wallSec,
    perJobWallSec: recs.map((r) => (Date.parse(r.finishedAt!) - Date.parse(r.startedAt!)) / 1000),
    renderSec: recs.map((r) => r.result!.wallSec),
  };
}

export function printJobs(r: JobsThroughput, log = console.log): void {
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  log(`concurrency ${r.concurrency}: ${r.jobs} jobs of ${r.clipSec.toFixed(1)} s in ${r.wallSec.toFixed(1)} s wall -> ${r.speed.toFixed(2)} s of video per s of wall`);
  log(`  per job: ${mean(r.perJobWallSec).toFixed(2)} s from start to done; renderToMp4 inside the render process ${mean(r.renderSec).toFixed(2)} s (decode, enrolment cache, model load, render, encode); the rest is starting the process`);
}

// npx tsx bench/jobs.ts
if (process.argv[1]?.endsWith('jobs.ts')) {
  (async () => {
    for (const c of [1, 2]) printJobs(await benchJobs(c));
  })().then(
    () => process.exit(0),
    (e) => {
      console.error(e);
      process.exit(1);
    },
  );
}
