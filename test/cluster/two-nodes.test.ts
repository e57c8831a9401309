/**
 * Two server processes on loopback as one cluster (config `cluster`, server/cluster/): a real
 * Redis (Debian's redis-server), node A running the session "default" (portrait engine, mediasoup),
 * node B running no session of its own, and a headless Chromium kiosk that opens B's URL. B gets
 * the session's media from A through mediasoup pipe transports; A's events reach the kiosk on B
 * through socket.io's Redis adapter; speech, interrupts and revocations cross the nodes.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configSchema, DEFAULT_PORTRAIT } from '../../config/schema.js';
import { enrolPortrait } from '../../models/face/enrol.js';
import { speakWav, wavSamples } from '../helpers/speech.js';
import { childPids, freePort, startRedis, startUntil } from '../helpers/processes.js';
import { startTestServer, uploadSpeech } from '../helpers/test-server.js';
import { mouthBox } from '../helpers/video-measures.js';
import { inboundStats, launchChromium, openKiosk, waitLive } from '../kiosk/browser.js';
import { installProbe, median, mouthOpening, readProbe } from '../kiosk/probe.js';

const dir = mkdtempSync(join(tmpdir(), 'cluster-'));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Node {
  name: string;
  url: string;
  file: string;
  proc: ChildProcess;
}

let redis: ChildProcess | undefined;
let redisUrl: string;
const nodes: Node[] = [];
let a: Node;
let b: Node;
let adminKey: string;
let browser: Browser;

async function startNode(name: string, redisUrl: string, rtcBase: number, extra: Record<string, unknown>): Promise<Node> {
  const port = await freePort();
  const file = join(dir, `${name}.json`);
  writeFileSync(
    file,
    JSON.stringify({
      server: { host: '127.0.0.1', port },
      // the 512x512 square, as the other kiosk suites (test/helpers/test-server.ts)
      avatar: { width: null, height: null },
      media: { mode: 'sfu', rtc_min_port: rtcBase, rtc_max_port: rtcBase + 99 },
      // every node of a cluster shares the token secret and the admin key
      auth: { secret_file: join(dir, 'secret'), admin_key_file: join(dir, 'admin-key'), revoked_file: join(dir, `${name}-revoked.json`) },
      jobs: { dir: join(dir, `${name}-jobs`), concurrency: 0 },
      runtime: { sessions_dir: join(dir, `${name}-sessions`) },
      cluster: { redis_url: redisUrl, node_id: name, relay_idle_ms: 1000, session_ttl_sec: 3 },
      ...extra,
    }),
  );
  const node = { name, url: `http://127.0.0.1:${port}`, file, proc: await runNode(name, file) };
  nodes.push(node);
  return node;
}

async function runNode(name: string, file: string): Promise<ChildProcess> {
  const { proc } = await startUntil(process.execPath, ['--import', 'tsx', 'server/main.ts', '--config', file], /health: http/, `server node ${name}`, 60_000);
  proc.stdout!.resume();
  proc.stderr!.resume();
  return proc;
}

async function api<T = Record<string, unknown>>(node: Node, path: string, init: { method?: string; body?: unknown; token?: string } = {}): Promise<T & { ok: boolean; error?: string }> {
  const res = await fetch(`${node.url}${path}`, {
    method: init.method ?? (init.body === undefined ? 'GET' : 'POST'),
    headers: { authorization: `Bearer ${init.token ?? adminKey}`, ...(init.body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
  });
  return (await res.json()) as T & { ok: boolean; error?: string };
}

interface Health {
  cluster: { node: string; redis: string; elsewhere: { id: string; node: string }[]; relays: { id: string; origin: string; kiosks: number; relay: null | { kiosks: number; transports: number; consumers: number; producers: number } }[] };
  sessions: { id: string; kiosks: number }[];
  mediasoupWorker: { restarts: number; state: string };
}
interface SessionStats {
  id: string;
  queuedMs: number;
  kiosks: number;
  sfu: { pipes: number; kiosks: number };
}

const health = (n: Node) => fetch(`${n.url}/healthz`).then((r) => r.json() as Promise<Health>);
const sessionA = async () => (await api<{ sessions: SessionStats[] }>(a, '/api/sessions')).sessions.find((s) => s.id === 'default')!;
const relayB = async () => (await health(b)).cluster.relays.find((r) => r.id === 'default');

async function kioskOnB(): Promise<{ page: Page; token: string; id: string }> {
  const minted = await api<{ token: string; id: string; url: string }>(b, '/api/tokens', { body: { session: 'default', role: 'kiosk', ttl_days: 1 } });
  expect(minted.ok, minted.error).toBe(true);
  expect(minted.url.startsWith(`${b.url}/kiosk/`)).toBe(true);
  return { page: await openKiosk(browser, minted.url, 30_000), token: minted.token, id: minted.id };
}

beforeAll(async () => {
  ({ proc: redis, url: redisUrl } = await startRedis(dir));
  a = await startNode('node-a', redisUrl, 49800, {});
  adminKey = readFileSync(join(dir, 'admin-key'), 'utf8').trim();
  b = await startNode('node-b', redisUrl, 49900, { sessions: [] });
  browser = await launchChromium();
}, 150_000);

afterAll(async () => {
  await browser?.close();
  for (const n of nodes) n.proc.kill('SIGTERM');
  await sleep(500);
  for (const n of nodes) n.proc.kill('SIGKILL');
  redis?.kill('SIGKILL');
});

describe('two server processes as one cluster', () => {
  let page: Page;
  let restLuma: number;

  it('node B knows the session node A runs; a kiosk opened on B plays it, relayed from A through a pipe transport', async () => {
    const hb = await health(b);
    expect(hb.cluster).toMatchObject({ node: 'node-b', redis: 'ok' });
    expect(hb.cluster.elsewhere).toEqual([{ id: 'default', node: 'node-a' }]);
    expect(hb.sessions).toEqual([]);

    const t0 = Date.now();
    ({ page } = await kioskOnB());
    const liveMs = Date.now() - t0;
    const s0 = await inboundStats(page);
    await sleep(3000);
    const s1 = await inboundStats(page);
    const fps = ((s1.framesDecoded - s0.framesDecoded) * 1000) / 3000;
    const relay = await relayB();
    const onA = await sessionA();
    console.log(`[cluster] kiosk on B live in ${liveMs} ms; ${fps.toFixed(1)} fps at ${s1.frameWidth}x${s1.frameHeight}; audio +${s1.audioSamples - s0.audioSamples} samples; B relay ${JSON.stringify(relay)}; A: kiosks ${onA.kiosks}, sfu ${JSON.stringify(onA.sfu)}`);
    expect([s1.frameWidth, s1.frameHeight]).toEqual([512, 512]);
    expect(fps).toBeGreaterThanOrEqual(20);
    expect(s1.audioSamples - s0.audioSamples).toBeGreaterThan(2 * 48000);
    // the kiosk's transport and consumers are on B; A holds no kiosk, one pipe (to B)
    expect(relay).toMatchObject({ origin: 'node-a', kiosks: 1, relay: { kiosks: 1, transports: 1, consumers: 2, producers: 2 } });
    expect(onA.kiosks).toBe(0);
    expect(onA.sfu.pipes).toBe(1);
    // B's /metrics counts its kiosk of A's session and the frame rate the kiosk reports (every 2 s)
    const metric = async (re: RegExp) => Number(re.exec(await (await fetch(`${b.url}/metrics`)).text())?.[1] ?? NaN);
    expect(await metric(/^avatar_relay_kiosks\{session="default",origin="node-a"\} (\S+)$/m)).toBe(1);
    await expect.poll(() => metric(/^avatar_relay_kiosk_fps\{session="default",stat="min"\} (\S+)$/m), { timeout: 8000, interval: 500 }).toBeGreaterThan(20);
  }, 60_000);

  it('speech posted to B for the session reaches A (forwarded); the mouth moves on the kiosk at B and A\'s speaking state reaches it through Redis', async () => {
    const cfg = configSchema.parse({});
    const portrait = await enrolPortrait(DEFAULT_PORTRAIT, { minResolution: cfg.avatar.min_resolution, expandRatio: cfg.avatar.expand_ratio, cacheDir: join(dir, 'portraits') });
    await installProbe(page, mouthBox(portrait));
    await sleep(600);
    restLuma = median((await readProbe(page)).frames.map((f) => f.luma));
    const source = await api<{ token: string }>(b, '/api/tokens', { body: { session: 'default', role: 'source', ttl_days: 1 } });
    const { samples, sampleRate } = wavSamples(speakWav('Good morning. Your number is forty two; please go to desk three.'));
    const since = (await readProbe(page)).frames.at(-1)?.t ?? 0;
    const speaking: boolean[] = [];
    const watch = setInterval(() => void page.evaluate(() => document.body.dataset.speaking).then((v) => speaking.push(v === 'true')).catch(() => undefined), 100);
    const sent = await uploadSpeech(b.url, source.token, samples, sampleRate);
    expect(sent.ok).toBe(true);
    expect(sent.acceptedMs).toBeGreaterThan(1000);
    await sleep((samples.length / sampleRate) * 1000 + 1500);
    clearInterval(watch);
    const open = mouthOpening((await readProbe(page, since)).frames, restLuma);
    const peak = Math.max(...open.map((o) => o.open));
    console.log(`[cluster] speech via B: ${sent.acceptedMs.toFixed(0)} ms queued on A; mouth peak opening ${peak.toFixed(1)} luma levels over ${open.length} frames; speaking state seen ${speaking.filter(Boolean).length}/${speaking.length} polls, last ${speaking.at(-1)}`);
    expect(peak).toBeGreaterThan(8);
    expect(speaking.some((s) => s)).toBe(true);
    expect(speaking.at(-1)).toBe(false);
  }, 60_000);

  it('a touch on stop at the kiosk on B interrupts the session on A', async () => {
    const source = await api<{ token: string }>(a, '/api/tokens', { body: { session: 'default', role: 'source', ttl_days: 1 } });
    const { samples, sampleRate } = wavSamples(speakWav('One two three four five six seven eight nine ten, eleven twelve thirteen fourteen fifteen.'));
    await uploadSpeech(a.url, source.token, samples, sampleRate);
    await sleep(700);
    const before = (await sessionA()).queuedMs;
    await page.evaluate(() => document.getElementById('stop')!.dispatchEvent(new PointerEvent('pointerdown', { bubbles: true })));
    await expect.poll(async () => (await sessionA()).queuedMs, { timeout: 3000, interval: 100 }).toBe(0);
    console.log(`[cluster] interrupt from B: A had ${before.toFixed(0)} ms queued, then 0`);
    expect(before).toBeGreaterThan(1000);
  }, 30_000);

  it('the operator\'s fit on A reaches the kiosk on B at once, and a kiosk that joins on B later (issue 15)', async () => {
    const patch = (fit: string) => api(a, '/api/sessions/default', { method: 'PATCH', body: { fit } });
    expect((await patch('contain')).ok).toBe(true);
    await page.waitForFunction(() => document.body.dataset.fit === 'contain', undefined, { timeout: 5000 });
    const later = await kioskOnB();
    try {
      // its info comes from B's directory entry for A's session, rescanned every session_ttl_sec / 3;
      // joined before that scan, it gets the new details when the scan sees them. (Flaky until
      // 2026-12-05: a 'layout' event that came while the page started its receiver was overwritten
      // by the join answer's older fit; test/kiosk/layout.test.ts holds that window open.)
      await later.page.waitForFunction(() => document.body.dataset.fit === 'contain', undefined, { timeout: 8000 });
    } finally {
      await later.page.close();
    }
    expect((await patch('cover')).ok).toBe(true);
    await page.waitForFunction(() => document.body.dataset.fit === 'cover', undefined, { timeout: 5000 });
  }, 60_000);

  it('when A\'s mediasoup worker dies, B drops its relay and the kiosk on B comes back by itself', async () => {
    const ha = await health(a);
    // /healthz names no process: A's worker is the mediasoup-worker child of A's process
    const [workerPid] = childPids(a.proc.pid!, 'mediasoup-worker');
    expect(workerPid, 'no mediasoup-worker process under node A').toBeGreaterThan(0);
    const joinsBefore = await page.evaluate(() => (window as unknown as { kiosk: { joins: number } }).kiosk.joins);
    const t0 = Date.now();
    process.kill(workerPid!, 'SIGKILL');
    await expect.poll(async () => page.evaluate(() => (window as unknown as { kiosk: { joins: number } }).kiosk.joins), { timeout: 15_000, interval: 100 }).toBeGreaterThan(joinsBefore);
    await waitLive(page, 20_000);
    const liveMs = Date.now() - t0;
    const s0 = await inboundStats(page);
    await sleep(2000);
    const s1 = await inboundStats(page);
    const fps = ((s1.framesDecoded - s0.framesDecoded) * 1000) / 2000;
    const after = await health(a);
    console.log(`[cluster] A's worker killed: A restarts ${after.mediasoupWorker.restarts}; kiosk on B live again after ${liveMs} ms, then ${fps.toFixed(1)} fps; A pipes ${(await sessionA()).sfu.pipes}`);
    expect(after.mediasoupWorker.restarts).toBe(ha.mediasoupWorker.restarts + 1);
    expect(fps).toBeGreaterThanOrEqual(15);
    expect((await sessionA()).sfu.pipes).toBe(1);
  }, 60_000);

  it('a token revoked on A is closed and refused on B; once B\'s last kiosk is gone, B closes its relay and A its pipe', async () => {
    const second = await kioskOnB();
    const revoked = await api<{ disconnected: number }>(a, '/api/tokens/revoke', { body: { token: second.token } });
    expect(revoked.ok).toBe(true);
    await expect.poll(() => second.page.evaluate(() => (window as unknown as { kiosk: { state: string } }).kiosk.state), { timeout: 5000, interval: 100 }).toBe('error');
    const onB = await api<{ revoked: { id: string }[] }>(b, '/api/tokens/revoked');
    expect(onB.revoked.map((r) => r.id)).toContain(second.id);
    const refused = await fetch(`${b.url}/api/sessions/default/interrupt`, { method: 'POST', headers: { authorization: `Bearer ${second.token}` } });
    expect(refused.status).toBe(401);
    // the first kiosk still plays
    const s0 = await inboundStats(page);
    await sleep(1000);
    expect((await inboundStats(page)).framesDecoded - s0.framesDecoded).toBeGreaterThan(15);

    await second.page.close();
    await page.close();
    await expect.poll(async () => (await relayB())?.relay ?? null, { timeout: 10_000, interval: 250 }).toBeNull();
    await expect.poll(async () => (await sessionA()).sfu.pipes, { timeout: 5000, interval: 250 }).toBe(0);
  }, 60_000);

  it('Redis goes away: both nodes say degraded and keep running, the kiosk on B keeps playing; Redis back, all is well again', async () => {
    const kiosk = await kioskOnB();
    redis!.kill('SIGKILL');
    await expect.poll(async () => (await health(b)).cluster.redis, { timeout: 10_000, interval: 250 }).toMatch(/^unreachable/);
    // broadcasts (the speaking state) and directory scans fail meanwhile: nothing may end a node
    const source = await api<{ token: string }>(a, '/api/tokens', { body: { session: 'default', role: 'source', ttl_days: 1 } });
    const { samples, sampleRate } = wavSamples(speakWav('Redis is away for a moment.'));
    expect((await uploadSpeech(a.url, source.token, samples, sampleRate)).ok).toBe(true);
    const s0 = await inboundStats(kiosk.page);
    await sleep(4000);
    const fps = (((await inboundStats(kiosk.page)).framesDecoded - s0.framesDecoded) * 1000) / 4000;
    const [ha, hb] = [await fetch(`${a.url}/healthz`), await fetch(`${b.url}/healthz`)];
    console.log(`[cluster] Redis down: healthz A ${ha.status}, B ${hb.status}; kiosk on B ${fps.toFixed(1)} fps`);
    expect([ha.status, hb.status]).toEqual([503, 503]);
    expect(fps).toBeGreaterThanOrEqual(15);
    expect(a.proc.exitCode).toBeNull();
    expect(b.proc.exitCode).toBeNull();
    ({ proc: redis } = await startRedis(dir, Number(new URL(redisUrl).port)));
    await expect.poll(async () => (await fetch(`${b.url}/healthz`)).status, { timeout: 15_000, interval: 250 }).toBe(200);
    await expect.poll(async () => (await health(b)).cluster.elsewhere, { timeout: 10_000, interval: 250 }).toEqual([{ id: 'default', node: 'node-a' }]);
    await kiosk.page.close();
  }, 60_000);

  it('A crashes: B stops listing its session once its keys expire; A starts again and the kiosk on B plays again by itself', async () => {
    const kiosk = await kioskOnB();
    const t0 = Date.now();
    a.proc.kill('SIGKILL');
    await expect.poll(async () => (await health(b)).cluster.elsewhere.length, { timeout: 10_000, interval: 200 }).toBe(0);
    const goneMs = Date.now() - t0;
    await expect.poll(() => kiosk.page.evaluate(() => (window as unknown as { kiosk: { state: string } }).kiosk.state), { timeout: 5000, interval: 100 }).not.toBe('live');
    const t1 = Date.now();
    a.proc = await runNode(a.name, a.file);
    const upMs = Date.now() - t1;
    await waitLive(kiosk.page, 30_000);
    const liveMs = Date.now() - t1 - upMs;
    const s0 = await inboundStats(kiosk.page);
    await sleep(2000);
    const fps = (((await inboundStats(kiosk.page)).framesDecoded - s0.framesDecoded) * 1000) / 2000;
    console.log(`[cluster] A killed: B dropped its session after ${goneMs} ms (ttl 3 s); A up again in ${upMs} ms; kiosk on B live ${liveMs} ms after that, then ${fps.toFixed(1)} fps`);
    expect(fps).toBeGreaterThanOrEqual(15);
    expect((await health(b)).cluster.elsewhere).toEqual([{ id: 'default', node: 'node-a' }]);
    await kiosk.page.close();
  }, 90_000);

  it('a session created on A at run time is listed on B at once, and is gone from B when A deletes it (issue 16)', async () => {
    const form = new FormData();
    form.append('id', 'lobby');
    form.append('portrait', new Blob([new Uint8Array(readFileSync(DEFAULT_PORTRAIT))], { type: 'image/png' }), 'p.png');
    const created = await fetch(`${a.url}/api/sessions`, { method: 'POST', headers: { authorization: `Bearer ${adminKey}` }, body: form });
    expect(created.status).toBe(201);
    const t0 = Date.now();
    await expect.poll(async () => (await health(b)).cluster.elsewhere.map((e) => e.id).sort(), { timeout: 5000, interval: 100 }).toEqual(['default', 'lobby']);
    console.log(`[cluster] a session created on A listed on B after ${Date.now() - t0} ms`);
    expect((await api<{ id: string }>(b, '/api/tokens', { body: { session: 'lobby', role: 'kiosk' } })).ok).toBe(true);
    expect((await fetch(`${a.url}/api/sessions/lobby`, { method: 'DELETE', headers: { authorization: `Bearer ${adminKey}` } })).status).toBe(200);
    await expect.poll(async () => (await health(b)).cluster.elsewhere.map((e) => e.id), { timeout: 5000, interval: 100 }).toEqual(['default']);
  }, 60_000);
});

describe('a cluster node whose Redis cannot be reached', () => {
  it('stops at start with the reason and what to do', async () => {
    const port = await freePort(); // nothing listens there
    await expect(startTestServer({ mode: 'sfu', rtcBase: 50000, config: { cluster: { redis_url: `redis://127.0.0.1:${port}` } } })).rejects.toThrow(
      /cluster\.redis_url: cannot reach redis:\/\/127\.0\.0\.1:\d+ .*set cluster\.redis_url to null for a single node/,
    );
  });
});
