/**
 * Batch video jobs through a real server with the embedded queue: real renders (portrait engine,
 * x264 + AAC) in their own processes, a server restart in the middle, cancel, timeout, bad uploads.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_PORTRAIT } from '../../config/schema.js';
import { readMp4 } from '../../pipeline/encode/mp4-reader.js';
import { speakWav, wavSamples } from '../helpers/speech.js';
import { getJob, waitJobState } from '../helpers/jobs.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

const TEST_CARD = new URL('../../pipeline/engine/test-pattern-engine.ts', import.meta.url).pathname;
const PORTRAIT = readFileSync(DEFAULT_PORTRAIT);
const SHORT = speakWav('Good morning, class.');
const LONG = speakWav('Today we talk about the water cycle. Water evaporates from the sea, forms clouds, and falls again as rain. '.repeat(4));

let ts: TestServer;
let url: string;
let token: string;

beforeAll(async () => {
  ts = await startTestServer({
    mode: 'direct',
    rtcBase: 46000,
    // render_idle off: the suite's other test files share these cores, and under SCHED_IDLE a render
    // waits for all of them (the priority is job-runner.test.ts's to check)
    config: { jobs: { concurrency: 1, timeout_sec: 120, max_queued: 5, render_idle: false } },
    start: { engineModule: TEST_CARD, engineOptions: { width: 64, height: 64 } }, // the live session; jobs render with the portrait engine
  });
  url = ts.server.url;
  token = ts.server.auth.mint('default', 'author', 3600);
}, 60_000);

afterAll(async () => {
  await ts?.server.close();
});

interface JobView {
  ok: boolean;
  id: string;
  state: string;
  progress: number;
  error: string | null;
  attempts: number;
  result: { durationSec: number; frames: number; fps: number; bytes: number } | null;
  links: { video: string | null };
}

function form(fields: Record<string, string | { bytes: Uint8Array; name: string; type: string }>): FormData {
  const f = new FormData();
  for (const [k, v] of Object.entries(fields)) {
    if (typeof v === 'string') f.append(k, v);
    else f.append(k, new Blob([new Uint8Array(v.bytes)], { type: v.type }), v.name);
  }
  return f;
}
const portrait = { bytes: PORTRAIT, name: 'teacher.png', type: 'image/png' };
const audio = (bytes: Uint8Array) => ({ bytes, name: 'lesson.wav', type: 'audio/wav' });

async function submit(fields: Parameters<typeof form>[0], auth = token): Promise<{ status: number; body: JobView & { error: string; code: string } }> {
  const res = await fetch(`${url}/api/jobs`, { method: 'POST', headers: { authorization: `Bearer ${auth}` }, body: form(fields) });
  return { status: res.status, body: (await res.json()) as JobView & { error: string; code: string } };
}
const get = (id: string, auth = token) => getJob<JobView>(url, auth, id);
const waitState = (id: string, states: string[], ms?: number) => waitJobState(get, id, states, ms);
const logOf = async (id: string) => ((await (await fetch(`${url}/api/jobs/${id}/log`, { headers: { authorization: `Bearer ${token}` } })).json()) as { log: { event: string; [k: string]: unknown }[] }).log;

describe('batch jobs (embedded queue)', () => {
  it('audio + portrait -> an MP4 as long as the audio, with progress, a log and a download', async () => {
    const { status, body } = await submit({ portrait, audio: audio(SHORT) });
    expect(status).toBe(202);
    expect(body).toMatchObject({ ok: true, state: 'queued' });
    const seen = new Set<number>();
    let j = await get(body.id);
    while (j.state === 'queued' || j.state === 'running') {
      seen.add(Math.round(j.progress * 10));
      await new Promise((r) => setTimeout(r, 100));
      j = await get(body.id);
    }
    expect(j.state).toBe('done');
    expect(j.progress).toBe(1);
    const seconds = wavSamples(SHORT).samples.length / 22050;
    expect(j.result!.durationSec).toBeCloseTo(seconds, 1);
    const res = await fetch(`${url}${j.links.video}`, { headers: { authorization: `Bearer ${token}` } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('video/mp4');
    const path = join(ts.dir, 'download.mp4');
    writeFileSync(path, Buffer.from(await res.arrayBuffer()));
    const mp4 = await readMp4(path, { maxFrames: 2 });
    expect(mp4.video.codec).toBe('h264');
    expect(mp4.audio.codec).toBe('aac');
    expect(Math.abs(mp4.durationSec - seconds)).toBeLessThan(0.1);
    const log = await logOf(body.id);
    expect(log.map((l) => l.event)).toEqual(['submitted', 'started', 'stage', 'done']);
    expect(log[0]).toMatchObject({ input: { kind: 'audio', uploads: [{ field: 'portrait', name: 'teacher.png' }, { field: 'audio', name: 'lesson.wav' }], params: { preset: 'fast' } } });
    expect(log[2]).toMatchObject({ stage: 'render' });
    expect(Object.keys(log[2]!)).toEqual(expect.arrayContaining(['decodeMs', 'enrolMs']));
  }, 120_000);

  it('text + portrait -> the text spoken (espeak-ng here) and rendered, at the size the job asks (540x960)', async () => {
    const { status, body } = await submit({ portrait, text: 'Hello students. Please open your books.', size: '540x960' });
    expect(status).toBe(202);
    const j = await waitState(body.id, ['done', 'failed']);
    expect(j.error).toBeNull();
    expect(j.result!.durationSec).toBeGreaterThan(1.5);
    const res = await fetch(`${url}${j.links.video}`, { headers: { authorization: `Bearer ${token}` } });
    const path = join(ts.dir, 'tall.mp4');
    writeFileSync(path, Buffer.from(await res.arrayBuffer()));
    const mp4 = await readMp4(path, { maxFrames: 2 });
    expect([mp4.video.width, mp4.video.height]).toEqual([540, 960]);
    const tts = (await logOf(body.id)).find((l) => l.stage === 'tts');
    expect(tts).toMatchObject({ providers: { local: 2 } });
    // the local TTS's phones went with the audio into the render (the mouth follows them: issue 18)
    expect(tts?.phones).toBeGreaterThan(20);
  }, 120_000);

  it('a job submitted before a restart completes after it', async () => {
    const { body } = await submit({ portrait, audio: audio(LONG) });
    await waitState(body.id, ['running']);
    await ts.restart();
    url = ts.server.url;
    const j = await waitState(body.id, ['done', 'failed'], 120_000);
    expect(j.state).toBe('done');
    expect(j.attempts).toBe(2);
    const events = (await logOf(body.id)).map((l) => l.event);
    expect(events).toContain('interrupted');
    expect(events.filter((e) => e === 'started')).toHaveLength(2);
  }, 180_000);

  it('cancel stops a running job at once and frees the worker for the next; a queued job is cancelled without running', async () => {
    const a = (await submit({ portrait, audio: audio(LONG) })).body;
    const b = (await submit({ portrait, audio: audio(SHORT) })).body;
    await waitState(a.id, ['running']);
    const queuedCancel = await (await fetch(`${url}/api/jobs/${b.id}/cancel`, { method: 'POST', headers: { authorization: `Bearer ${token}` } })).json();
    expect(queuedCancel).toMatchObject({ ok: true, state: 'cancelled' });
    const t0 = Date.now();
    const res = await fetch(`${url}/api/jobs/${a.id}/cancel`, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
    expect(await res.json()).toMatchObject({ ok: true, state: 'cancelled' });
    expect(Date.now() - t0).toBeLessThan(2000);
    const again = await fetch(`${url}/api/jobs/${a.id}/cancel`, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
    expect(again.status).toBe(409);
    expect((await logOf(b.id)).map((l) => l.event)).toEqual(['submitted', 'cancelled']);
    // the worker is free
    const c = (await submit({ portrait, audio: audio(SHORT) })).body;
    expect((await waitState(c.id, ['done', 'failed'])).state).toBe('done');
    const video = await fetch(`${url}/api/jobs/${a.id}/video`, { headers: { authorization: `Bearer ${token}` } });
    expect(video.status).toBe(409);
  }, 180_000);

  it('refuses bad uploads with the reason, and keeps jobs to their owner', async () => {
    const notAudio = await submit({ portrait, audio: { bytes: new TextEncoder().encode('this is not audio at all'), name: 'notes.txt', type: 'text/plain' } });
    expect(notAudio.status).toBe(415);
    expect(notAudio.body.error).toMatch(/not an audio file/);
    const notImage = await submit({ portrait: { bytes: SHORT, name: 'x.png', type: 'image/png' }, audio: audio(SHORT) });
    expect(notImage.status).toBe(415);
    expect(notImage.body.error).toMatch(/PNG or JPEG/);
    expect((await submit({ audio: audio(SHORT) })).status).toBe(400);
    expect((await submit({ portrait })).status).toBe(400);
    expect((await submit({ portrait, audio: audio(SHORT), text: 'Hi.' })).status).toBe(400);
    expect((await submit({ portrait, text: ' ... ' })).status).toBe(400);
    expect((await submit({ portrait, audio: audio(SHORT), preset: 'ultra' })).status).toBe(400);
    for (const size of ['720 by 1280', '721x1280', '2160x3840', '64x64']) {
      const bad = await submit({ portrait, audio: audio(SHORT), size });
      expect(bad.status, size).toBe(400);
      expect(bad.body.error, size).toMatch(/size must be WIDTHxHEIGHT/);
    }
    const huge = await submit({ portrait, audio: audio(new Uint8Array(17 << 20)) });
    expect(huge.status).toBe(413);
    expect((await submit({ portrait, audio: audio(SHORT) }, 'nonsense')).status).toBe(401);
    expect((await submit({ portrait, audio: audio(SHORT) }, ts.server.auth.mint('default', 'kiosk', 60))).status).toBe(403);
    // another author does not see, fetch or cancel this author's jobs; the admin key sees all
    const other = ts.server.auth.mint('default', 'author', 60);
    const mine = (await (await fetch(`${url}/api/jobs`, { headers: { authorization: `Bearer ${token}` } })).json()) as { jobs: JobView[] };
    expect(mine.jobs.length).toBeGreaterThan(0);
    const theirs = (await (await fetch(`${url}/api/jobs`, { headers: { authorization: `Bearer ${other}` } })).json()) as { jobs: JobView[] };
    expect(theirs.jobs).toEqual([]);
    expect((await fetch(`${url}/api/jobs/${mine.jobs[0]!.id}`, { headers: { authorization: `Bearer ${other}` } })).status).toBe(404);
    const all = (await (await fetch(`${url}/api/jobs`, { headers: { authorization: `Bearer ${ts.server.adminKey}` } })).json()) as { jobs: JobView[] };
    expect(all.jobs.length).toBe(mine.jobs.length);
  }, 60_000);

  it('a portrait without a face fails the job with the reason; the worker goes on', async () => {
    const { PNG } = await import('pngjs');
    const png = new PNG({ width: 256, height: 256 });
    png.data.fill(200);
    const { body } = await submit({ portrait: { bytes: PNG.sync.write(png), name: 'wall.png', type: 'image/png' }, audio: audio(SHORT) });
    const j = await waitState(body.id, ['done', 'failed']);
    expect(j.state).toBe('failed');
    expect(j.error).toMatch(/face/i);
  }, 120_000);
});
