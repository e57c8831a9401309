/**
 * What the outside probe found (issue 19), each against a real server with a real mediasoup worker,
 * counted rather than timed: transports held after joins and leaves, bytes read before a 401,
 * interrupts accepted, connections per token, connections to the default namespace and per
 * address, reports believed.
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import type { Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/test-server.js';
import { tryConnect } from '../helpers/socket-connect.js';
import type { Role } from '../../server/auth/tokens.js';
import { vadSessionsLoaded } from '../../pipeline/motion/vad.js';
import { startBanner } from '../../server/start-banner.js';

const ROOT = new URL('../../', import.meta.url).pathname;

let ts: TestServer;
beforeAll(async () => {
  ts = await startTestServer({ mode: 'sfu', rtcBase: 50400, config: { limits: { kiosks_per_token: 3, interrupts_per_second: 2, mics_per_session: 12 } } });
});
afterAll(async () => {
  await ts?.server.close();
});

const token = (role: Role = 'kiosk') => ts.server.auth.mint('default', role, 3600);
const connect = (url: string, ns: string, auth: Record<string, unknown>, headers?: Record<string, string>) => tryConnect(url, ns, auth, { forceNew: true, headers });

describe('hardening (issue 19)', () => {
  it('item 1: thirty joins at once on one connection and twenty joins cut short by a disconnect leave no transport (no ports) behind', async () => {
    const session = ts.server.sessions.get('default')!;
    const base = (await session.routerTransports())!;
    const { socket } = await connect(ts.server.url, '/kiosk', { token: token() });
    const answers = (await Promise.all(Array.from({ length: 30 }, () => socket!.timeout(10_000).emitWithAck('join', {})))) as { ok: boolean; error?: string }[];
    const heldWhileJoined = (await session.routerTransports())! - base;
    socket!.close();
    for (let i = 0; i < 20; i++) {
      const k = await connect(ts.server.url, '/kiosk', { token: token() });
      k.socket!.emit('join', {}, () => undefined);
      k.socket!.close();
    }
    const settled = async () => {
      await new Promise((r) => setTimeout(r, 100));
      return (await session.routerTransports())! - base;
    };
    await expect.poll(settled, { timeout: 10_000, interval: 100 }).toBe(0);
    expect(session.kioskCount).toBe(0);
    // one join ran, the others were told one is in progress; one transport while it was joined
    expect(answers.filter((a) => a.ok)).toHaveLength(1);
    expect(answers.filter((a) => !a.ok).every((a) => /already in progress|already joined/.test(a.error!))).toBe(true);
    expect(heldWhileJoined).toBe(1);
  }, 60_000);

  it('item 2: an audio upload without a credential is refused before its body is read (401 after 64 KiB of 16 MiB)', async () => {
    const refusedBefore = await new Promise<{ status: number; sent: number }>((resolve, reject) => {
      const u = new URL(`${ts.server.url}/api/sessions/default/audio`);
      let sent = 0;
      const req = httpRequest({ host: u.hostname, port: u.port, path: u.pathname, method: 'POST', headers: { 'content-type': 'audio/wav', 'content-length': String(16 << 20) } }, (res) => {
        resolve({ status: res.statusCode!, sent });
        res.resume();
        req.destroy();
      });
      req.on('error', (e) => (sent > 0 ? undefined : reject(e)));
      const chunk = Buffer.alloc(64 * 1024);
      req.write(chunk, () => (sent += chunk.length));
      setTimeout(() => resolve({ status: 0, sent }), 3000);
    });
    expect(refusedBefore.status).toBe(401);
    expect(refusedBefore.sent).toBeLessThanOrEqual(64 * 1024);
  });

  it('item 3: a flood of interrupts is limited per session (limits.interrupts_per_second 2, bursts of 4): the rest are rate-limited', async () => {
    await new Promise((r) => setTimeout(r, 2100)); // a full bucket
    const { socket } = await connect(ts.server.url, '/kiosk', { token: token() });
    try {
      const answers = (await Promise.all(Array.from({ length: 40 }, () => socket!.timeout(5000).emitWithAck('interrupt', {})))) as { ok: boolean; code?: string }[];
      const accepted = answers.filter((a) => a.ok).length;
      expect(accepted).toBeGreaterThanOrEqual(1);
      expect(accepted).toBeLessThanOrEqual(6); // 4 at once + 2 a second while the 40 arrive
      expect(answers.filter((a) => !a.ok).every((a) => a.code === 'rate-limited')).toBe(true);
    } finally {
      socket!.close();
    }
  });

  it('item 4: one token holds at most limits.kiosks_per_token connections; another kiosk still gets in', async () => {
    const shared = token();
    const held = await Promise.all([1, 2, 3].map(() => connect(ts.server.url, '/kiosk', { token: shared })));
    expect(held.every((h) => h.socket?.connected)).toBe(true);
    const fourth = await connect(ts.server.url, '/kiosk', { token: shared });
    expect(fourth.error).toMatch(/too-many-connections/);
    const other = await connect(ts.server.url, '/kiosk', { token: token() });
    expect(other.socket?.connected).toBe(true);
    const join = (await other.socket!.timeout(10_000).emitWithAck('join', {})) as { ok: boolean };
    expect(join.ok).toBe(true);
    for (const h of [...held, other]) h.socket!.close();
    // once one closes, the token may connect again
    await expect.poll(async () => {
      const again = await connect(ts.server.url, '/kiosk', { token: shared });
      again.socket?.close();
      return again.socket !== undefined;
    }, { timeout: 5000 }).toBe(true);
  }, 30_000);

  it('item 5: twelve microphones (one chunk each) load the voice-activity model once, not twelve times; a session hears at most limits.mics_per_session; one token holds at most limits.audio_connections_per_token sources', async () => {
    const before = vadSessionsLoaded();
    const pcm = Buffer.from(new Int16Array(3200).map((_, i) => Math.round(3000 * Math.sin(i / 7))).buffer);
    const mics: Socket[] = [];
    try {
      for (let i = 0; i < 12; i++) {
        const m = await connect(ts.server.url, '/audio', { token: token('host') });
        mics.push(m.socket!);
        const r = (await m.socket!.timeout(10_000).emitWithAck('mic', { encoding: 's16le', sampleRate: 16_000, channels: 1 }, pcm)) as { ok: boolean };
        expect(r.ok).toBe(true);
      }
      expect(vadSessionsLoaded() - before).toBeLessThanOrEqual(1);
      // the session hears limits.mics_per_session (12 here) microphones: the 13th is refused until one goes
      const mic = (s: Socket) => s.timeout(10_000).emitWithAck('mic', { encoding: 's16le', sampleRate: 16_000, channels: 1 }, pcm) as Promise<{ ok: boolean; code?: string; error?: string }>;
      const thirteenth = (await connect(ts.server.url, '/audio', { token: token('host') })).socket!;
      mics.push(thirteenth);
      const refused = await mic(thirteenth);
      expect(refused).toMatchObject({ ok: false, code: 'too-many-microphones' });
      expect(refused.error).toMatch(/limits\.mics_per_session/);
      mics.shift()!.close();
      await expect.poll(async () => (await mic(thirteenth)).ok, { timeout: 5000, interval: 100 }).toBe(true);
      const shared = token('host');
      const held = await Promise.all([1, 2, 3, 4].map(() => connect(ts.server.url, '/audio', { token: shared })));
      mics.push(...held.map((h) => h.socket!));
      expect(held.every((h) => h.socket?.connected)).toBe(true);
      expect((await connect(ts.server.url, '/audio', { token: shared })).error).toMatch(/too-many-connections/);
    } finally {
      for (const m of mics) m.close();
    }
  }, 30_000);

  it('item 7: an impossible kiosk report (1000 fps, 1e15 dropped frames, 10 s offset, an audio delay of 1e9 or -5 ms) does not reach /metrics; a real one does', async () => {
    const { socket } = await connect(ts.server.url, '/kiosk', { token: token() });
    try {
      expect(((await socket!.timeout(10_000).emitWithAck('join', {})) as { ok: boolean }).ok).toBe(true);
      const metric = async () => ((await (await fetch(`${ts.server.url}/metrics`)).text()).split('\n').filter((l) => l.startsWith('avatar_kiosk_fps')));
      const base = { framesDecoded: 10, framesDropped: 0, audioSamples: 48_000, avOffsetMs: 20, width: 512, height: 512 };
      for (const bogus of [{ ...base, fps: 1000 }, { ...base, fps: 25, framesDropped: 1e15 }, { ...base, fps: 25, avOffsetMs: -10_000 }, { ...base, fps: 25, audioDelayMs: 1e9 }, { ...base, fps: 25, audioDelayMs: -5 }]) socket!.emit('report', bogus);
      await new Promise((r) => setTimeout(r, 300));
      expect((await metric()).some((l) => / (1000|25)$/.test(l))).toBe(false);
      socket!.emit('report', { ...base, fps: 24.75 });
      await expect.poll(async () => (await metric()).some((l) => / 24\.75$/.test(l)), { timeout: 3000 }).toBe(true);
    } finally {
      socket!.close();
    }
  });

  it('item 9: behind a trusted proxy (server.trust_proxy) each client has its own refused-credential budget; without it the header is ignored', async () => {
    const behind = await startTestServer({ mode: 'direct', rtcBase: 50800, config: { server: { trust_proxy: ['127.0.0.1'] }, limits: { auth_failures_per_minute: 3 } } });
    const direct = await startTestServer({ mode: 'direct', rtcBase: 51000, config: { limits: { auth_failures_per_minute: 3 } } });
    const say = (t: TestServer, from: string) =>
      fetch(`${t.server.url}/api/sessions/default/say`, { method: 'POST', headers: { authorization: 'Bearer forged', 'content-type': 'application/json', 'x-forwarded-for': from }, body: '{"text":"x"}' });
    const health = (t: TestServer, from: string) => fetch(`${t.server.url}/healthz`, { headers: { 'x-forwarded-for': from } });
    const kiosk = async (t: TestServer, from: string) => {
      const r = await connect(t.server.url, '/kiosk', { token: t.server.auth.mint('default', 'kiosk', 60) }, { 'x-forwarded-for': from });
      r.socket?.close();
      return { ok: r.socket !== undefined, error: r.error };
    };
    try {
      for (let i = 0; i < 3; i++) expect((await say(behind, '10.9.9.1')).status).toBe(401);
      expect((await health(behind, '10.9.9.1')).status).toBe(429); // the bad client is locked out
      expect((await health(behind, '10.9.9.2')).status).toBe(200); // the rest of the hall is not
      expect((await kiosk(behind, '10.9.9.1')).error).toMatch(/^rate-limited/);
      expect((await kiosk(behind, '10.9.9.2')).ok).toBe(true);
      // not trusted: the header is the client's word, ignored; everyone is 127.0.0.1
      for (let i = 0; i < 3; i++) expect((await say(direct, `10.9.9.${i + 1}`)).status).toBe(401);
      expect((await health(direct, '10.9.9.7')).status).toBe(429);
    } finally {
      await behind.server.close();
      await direct.server.close();
    }
  }, 30_000);

  it('item 11: a refused DTLS fingerprint is a bad request without mediasoup\'s internals in it', async () => {
    const { socket } = await connect(ts.server.url, '/kiosk', { token: token() });
    try {
      expect(((await socket!.timeout(10_000).emitWithAck('join', {})) as { ok: boolean }).ok).toBe(true);
      const r = (await socket!.timeout(10_000).emitWithAck('sfu:connect', { dtlsParameters: { role: 'client', fingerprints: [{ algorithm: 'md5x', value: 'AB:CD' }] } })) as { ok: boolean; code?: string; error?: string };
      expect(r).toMatchObject({ ok: false, code: 'bad-request', error: 'sfu:connect: the DTLS parameters were refused' });
    } finally {
      socket!.close();
    }
  });

  it('item 11: a malformed multipart body and too many parts are bad requests saying so (not 500, not "over its size limit")', async () => {
    const author = token('author');
    const post = (body: string, boundary = 'XyZ') =>
      fetch(`${ts.server.url}/api/jobs`, { method: 'POST', headers: { authorization: `Bearer ${author}`, 'content-type': `multipart/form-data; boundary=${boundary}` }, body });
    const truncated = await post('--XyZ\r\nContent-Disposition: form-data; name="text"\r\n\r\nhello');
    expect(truncated.status).toBe(400);
    expect(await truncated.json()).toMatchObject({ ok: false, code: 'bad-request', error: expect.stringMatching(/^malformed multipart body/) });
    // every part a field the API knows (text), one after another: past the parser's limits
    const field = `--XyZ\r\nContent-Disposition: form-data; name="text"\r\n\r\nx\r\n`;
    const many = await post(`${field.repeat(9)}--XyZ--\r\n`);
    expect(many.status).toBe(400);
    expect(((await many.json()) as { error: string }).error).toMatch(/^too many parts/);
  });

  it('item 11: the start prints no token into a log; on a terminal its links live auth.start_link_hours; /healthz names no process', async () => {
    // npm start under a service manager: standard output is a pipe (a log)
    const file = join(ts.dir, 'start.json');
    writeFileSync(file, JSON.stringify({ server: { port: 0 }, media: { mode: 'direct' }, auth: { secret_file: join(ts.dir, 's2'), admin_key_file: join(ts.dir, 'k2'), revoked_file: join(ts.dir, 'r2.json') }, runtime: { cache_dir: join(ts.dir, 'portraits'), sessions_dir: join(ts.dir, 'sessions2') }, jobs: { dir: join(ts.dir, 'jobs2') } }));
    const child = spawn(process.execPath, ['--import', 'tsx', 'server/main.ts', '--config', file], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => (out += b.toString()));
    try {
      await expect.poll(() => out, { timeout: 60_000, interval: 200 }).toMatch(/health: http/);
    } finally {
      child.kill('SIGTERM');
    }
    expect(out).toMatch(/kiosk links are printed on a terminal only/);
    expect(out).not.toMatch(/token=|k1\./);
    // on a terminal: the links, each token living start_link_hours (12 h), not a year
    const lines = startBanner(ts.server, ts.config, true);
    const tokens = lines.flatMap((l) => [...l.matchAll(/#token=([^\s]+)/g)].map((m) => decodeURIComponent(m[1]!)));
    expect(tokens).toHaveLength(2);
    for (const t of tokens) {
      const left = ts.server.auth.claims(t).exp - Date.now() / 1000;
      expect(left).toBeGreaterThan(11.9 * 3600);
      expect(left).toBeLessThanOrEqual(12 * 3600 + 5);
    }
    const health = (await (await fetch(`${ts.server.url}/healthz`)).json()) as { mediasoupWorker: Record<string, unknown> };
    expect(health.mediasoupWorker.state).toBe('running');
    expect(JSON.stringify(health)).not.toMatch(/pid/);
  }, 90_000);

  it('item 11: the kiosk page comes without source maps', async () => {
    const js = await (await fetch(`${ts.server.url}/kiosk/kiosk.js`)).text();
    expect(js.length).toBeGreaterThan(1000);
    expect(js).not.toMatch(/sourceMappingURL/);
    expect((await fetch(`${ts.server.url}/kiosk/kiosk.js.map`)).status).toBe(404);
  });

  it('item 6: the default namespace serves nobody, and one address opens at most limits.socket_connections_per_minute connections', async () => {
    const tight = await startTestServer({ mode: 'direct', rtcBase: 50600, config: { limits: { socket_connections_per_minute: 10 } } });
    try {
      const root = await connect(tight.server.url, '/', {});
      expect(root.error).toMatch(/no such namespace/);
      expect(tight.server.io.of('/').sockets.size).toBe(0);
      const results = [];
      const t0 = performance.now();
      for (let i = 0; i < 14; i++) results.push(await connect(tight.server.url, '/kiosk', { token: 'k1.e30.AAAA' }));
      const refill = Math.floor((((performance.now() - t0) / 1000) * 10) / 60); // the budget refills 10 a minute
      // each reached the handshake (and was refused its bad token) until the address's budget was spent
      const handshaken = results.filter((r) => /bad token signature/.test(r.error ?? '')).length;
      expect(handshaken).toBeLessThanOrEqual(9 + refill); // 10 a minute, one spent on '/'
      expect(handshaken).toBeGreaterThanOrEqual(1);
      expect(results.length - handshaken).toBeGreaterThanOrEqual(5);
    } finally {
      await tight.server.close();
    }
  }, 30_000);
});
