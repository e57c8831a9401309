/**
 * Refusals, each proved against a real server: a revoked token (its live connections closed, and
 * still refused after a restart), an address that keeps presenting bad credentials, too many
 * requests, a socket.io connection that floods, and HTTPS with the configured certificate (plain
 * HTTP then gets nothing).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { request as httpsRequest } from 'node:https';
import { join } from 'node:path';
import type { Socket } from 'socket.io-client';
import { afterAll, describe, expect, it } from 'vitest';
import { AuthFailureLimiter } from '../../server/auth/failure-limiter.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';
import { tryConnect } from '../helpers/socket-connect.js';

const servers: TestServer[] = [];
afterAll(async () => {
  for (const s of servers) await s.server.close();
});

async function start(rtcBase: number, config: Record<string, unknown> = {}): Promise<TestServer> {
  const ts = await startTestServer({ mode: 'direct', rtcBase, config });
  servers.push(ts);
  return ts;
}

const connect = (url: string, ns: string, auth: Record<string, unknown>) => tryConnect(url, ns, auth);

const post = (url: string, path: string, key: string, body: unknown) =>
  fetch(`${url}${path}`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });

describe('token revocation', () => {
  it('a revoked token is refused everywhere from then on, its live connections are closed, and a restart remembers it', async () => {
    const ts = await start(47800);
    const { url, adminKey } = ts.server;
    const minted = (await (await post(url, '/api/tokens', adminKey, { session: 'default', role: 'host' })).json()) as { token: string; id: string };
    expect(minted.id).toMatch(/^[\w-]{12}$/);
    const kept = (await (await post(url, '/api/tokens', adminKey, { session: 'default', role: 'host' })).json()) as { token: string };
    const live = await connect(url, '/kiosk', { token: minted.token });
    expect(live.socket?.connected).toBe(true);
    const closed = new Promise<string>((r) => live.socket!.once('disconnect', r));

    // only the admin key may revoke
    expect((await post(url, '/api/tokens/revoke', kept.token, { id: minted.id })).status).toBe(401);
    const res = await post(url, '/api/tokens/revoke', adminKey, { id: minted.id });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { disconnected: number }).disconnected).toBe(1);
    expect(await closed).toBe('io server disconnect');

    expect((await connect(url, '/kiosk', { token: minted.token })).error).toBe('token revoked');
    const say = await post(url, '/api/sessions/default/say', minted.token, { text: 'Hello.' });
    expect(say.status).toBe(401);
    expect(((await say.json()) as { error: string }).error).toBe('token revoked');
    // another token of the same role is untouched
    const other = await connect(url, '/kiosk', { token: kept.token });
    expect(other.socket?.connected).toBe(true);
    other.socket!.close();
    const listed = (await (await fetch(`${url}/api/tokens/revoked`, { headers: { authorization: `Bearer ${adminKey}` } })).json()) as { revoked: { id: string }[] };
    expect(listed.revoked.map((r) => r.id)).toEqual([minted.id]);

    await ts.restart();
    expect((await connect(ts.server.url, '/kiosk', { token: minted.token })).error).toBe('token revoked');
    // revoking by the token itself keeps the entry exactly until the token's own expiry
    const byToken = await post(ts.server.url, '/api/tokens/revoke', ts.server.adminKey, { token: kept.token });
    const body = (await byToken.json()) as { revoked: { exp: number } };
    expect(body.revoked.exp).toBeGreaterThan(Date.now() / 1000 + 300 * 86_400);
    expect((await post(ts.server.url, '/api/tokens/revoke', ts.server.adminKey, { id: '' })).status).toBe(400);
  });
});

describe('rate limits', () => {
  it('an address that presents 5 bad credentials in a minute is refused everything (429) until the minute has passed, HTTP and socket.io alike', async () => {
    const ts = await start(48000, { limits: { auth_failures_per_minute: 5 } });
    const { url, adminKey } = ts.server;
    for (let i = 0; i < 3; i++) expect((await post(url, '/api/sessions/default/say', `forged-${i}`, { text: 'x' })).status).toBe(401);
    expect((await connect(url, '/kiosk', { token: 'forged' })).error).toBe('malformed token');
    expect((await connect(url, '/audio', { token: 'forged' })).error).toBe('malformed token');
    // five refusals: now even the admin key is turned away from this address
    const blocked = await fetch(`${url}/api/sessions`, { headers: { authorization: `Bearer ${adminKey}` } });
    expect(blocked.status).toBe(429);
    expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(((await blocked.json()) as { code: string }).code).toBe('rate-limited');
    expect((await connect(url, '/kiosk', { token: ts.server.auth.mint('default', 'kiosk', 60) })).error).toMatch(/^rate-limited: too many refused credentials/);
  });

  it('the limiter counts per address and forgets after its window', () => {
    let now = 0;
    const l = new AuthFailureLimiter(3, 60_000, () => now);
    for (let i = 0; i < 3; i++) l.fail('10.0.0.1');
    expect(l.retryAfterSec('10.0.0.1')).toBe(60);
    expect(l.retryAfterSec('10.0.0.2')).toBe(0);
    now = 30_000;
    expect(l.retryAfterSec('10.0.0.1')).toBe(30);
    now = 60_001;
    expect(l.retryAfterSec('10.0.0.1')).toBe(0);
    const small = new AuthFailureLimiter(1, 60_000, () => now, 100);
    for (let i = 0; i < 1000; i++) small.fail(`10.1.${i >> 8}.${i & 255}`);
    expect(small.retryAfterSec('10.1.3.231')).toBeGreaterThan(0); // the latest are kept
    expect(small.retryAfterSec('10.1.0.0')).toBe(0); // the oldest were dropped (bounded memory)
  });

  it('more HTTP requests a minute than configured: 429 rate-limited', async () => {
    const ts = await start(48200, { limits: { http_requests_per_minute: 10 } });
    const codes: number[] = [];
    for (let i = 0; i < 12; i++) codes.push((await fetch(`${ts.server.url}/healthz`)).status);
    expect(codes.slice(0, 10).every((c) => c === 200 || c === 503)).toBe(true);
    const last = await fetch(`${ts.server.url}/healthz`);
    expect(last.status).toBe(429);
    expect(((await last.json()) as { code: string }).code).toBe('rate-limited');
  });

  it('a socket.io connection that floods gets rate-limited answers; the server and other connections go on', async () => {
    const ts = await start(48400, { limits: { socket_messages_per_second: 5 } });
    const { url } = ts.server;
    const flood = await connect(url, '/kiosk', { token: ts.server.auth.mint('default', 'kiosk', 60) });
    const calm = await connect(url, '/kiosk', { token: ts.server.auth.mint('default', 'kiosk', 60) });
    // sfu:resume on a direct-path server: every handled message gets an answer (an error), fast
    const ask = (s: Socket) => new Promise<{ ok: boolean; code?: string }>((r) => s.emit('sfu:resume' as never, {} as never, r as never));
    const answers = await Promise.all(Array.from({ length: 30 }, () => ask(flood.socket!)));
    const limited = answers.filter((a) => a.code === 'rate-limited').length;
    expect(limited).toBeGreaterThanOrEqual(30 - 10 - 1); // a bucket of 2 x 5
    expect(limited).toBeLessThan(30);
    const calmAnswer = await ask(calm.socket!);
    expect(calmAnswer.code).not.toBe('rate-limited');
    await new Promise((r) => setTimeout(r, 1000));
    const later = await ask(flood.socket!);
    expect(later.code).not.toBe('rate-limited');
    flood.socket!.close();
    calm.socket!.close();
  });
});

describe('TLS', () => {
  it('serves HTTPS with the configured certificate; plain HTTP on that port gets nothing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tls-'));
    const cert = join(dir, 'cert.pem');
    const key = join(dir, 'key.pem');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1', '-days', '1', '-keyout', key, '-out', cert], { stdio: 'ignore' });
    const ts = await start(48800, { server: { tls: { cert_file: cert, key_file: key } } });
    expect(ts.server.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const status = await new Promise<number>((resolve, reject) => {
      httpsRequest(`${ts.server.url}/healthz`, { ca: readFileSync(cert) }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      }).on('error', reject).end();
    });
    expect([200, 503]).toContain(status);
    await expect(fetch(ts.server.url.replace('https:', 'http:') + '/healthz', { signal: AbortSignal.timeout(3000) })).rejects.toThrow();
    // a certificate file that is not there: the server does not start, and says which key
    await expect(startTestServer({ mode: 'direct', rtcBase: 49000, config: { server: { tls: { cert_file: join(dir, 'nope.pem'), key_file: key } } } })).rejects.toThrow(/server\.tls\.cert_file: cannot read .*nope\.pem \(ENOENT\)/);
  });
});
