/**
 * Sessions at run time (issue 16): the admin API creates, reads, changes and deletes sessions on a
 * real server with the real portrait engine; every refusal is checked, a kiosk connected over
 * socket.io sees a portrait change without a reconnect and is told when its session is deleted,
 * the audit log has a line for each call, and a restart keeps what was done.
 */
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import jpeg from 'jpeg-js';
import type { Socket } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_PORTRAIT } from '../../config/schema.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';
import { tryConnect } from '../helpers/socket-connect.js';

import { ASTRONAUT } from '../helpers/speech.js';
let ts: TestServer;
beforeAll(async () => {
  ts = await startTestServer({ mode: 'sfu', rtcBase: 50800, config: { jobs: { portrait_upload_bytes: 4 << 20 } } });
}, 60_000);
afterAll(async () => {
  await ts?.server.close();
});

const png = () => readFileSync(DEFAULT_PORTRAIT);
/** a grey JPEG: an image, but no face in it */
const faceless = () => Buffer.from(jpeg.encode({ width: 320, height: 320, data: Buffer.alloc(320 * 320 * 4, 128) }, 90).data);

function form(fields: Record<string, string>, portrait?: { bytes: Uint8Array; type?: string; name?: string }): FormData {
  const f = new FormData();
  for (const [k, v] of Object.entries(fields)) f.append(k, v);
  if (portrait) f.append('portrait', new Blob([new Uint8Array(portrait.bytes)], { type: portrait.type ?? 'image/png' }), portrait.name ?? 'photo.png');
  return f;
}

async function call(method: string, path: string, body?: FormData | object, credential: string | null = ts.server.adminKey) {
  const headers: Record<string, string> = credential ? { authorization: `Bearer ${credential}` } : {};
  let payload: BodyInit | undefined;
  if (body instanceof FormData) payload = body;
  else if (body) {
    headers['content-type'] = 'application/json';
    payload = JSON.stringify(body);
  }
  const res = await fetch(`${ts.server.url}${path}`, { method, headers, body: payload });
  return { status: res.status, body: (await res.json()) as Record<string, any> };
}

const auditLines = () =>
  readFileSync(ts.config.auth.audit_file, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { action: string; target?: string; result: string; actor: string; from: string });

describe('sessions at run time (admin API)', () => {
  it('refuses: no credential, a kiosk token, a bad id, no portrait, not an image, a photo over the size limit, a photo without a face, a duplicate id', async () => {
    const kiosk = ts.server.auth.mint('default', 'kiosk', 600);
    expect((await call('POST', '/api/sessions', form({ id: 'hall-a' }, { bytes: png() }), null)).status).toBe(401);
    expect((await call('POST', '/api/sessions', form({ id: 'hall-a' }, { bytes: png() }), kiosk)).status).toBe(401);
    const badId = await call('POST', '/api/sessions', form({ id: 'Hall A!' }, { bytes: png() }));
    expect(badId.status).toBe(400);
    expect(badId.body.error).toMatch(/id/);
    expect((await call('POST', '/api/sessions', form({ id: 'hall-a' }))).body.error).toMatch(/portrait/);
    const text = await call('POST', '/api/sessions', form({ id: 'hall-a' }, { bytes: Buffer.from('GIF89a not a photo'), type: 'image/gif' }));
    expect(text.status).toBe(415);
    const big = await call('POST', '/api/sessions', form({ id: 'hall-a' }, { bytes: Buffer.concat([png(), Buffer.alloc(5 << 20)]) }));
    expect(big.status).toBe(413);
    const noFace = await call('POST', '/api/sessions', form({ id: 'hall-a' }, { bytes: faceless(), type: 'image/jpeg' }));
    expect(noFace.status).toBe(422);
    expect(noFace.body).toMatchObject({ ok: false, code: 'bad-portrait' });
    expect(noFace.body.error).toMatch(/no face/);
    const unknownVoice = await call('POST', '/api/sessions', form({ id: 'hall-a', voice: 'klingon-x' }, { bytes: png() }));
    expect(unknownVoice.status).toBe(400);
    expect(unknownVoice.body.error).toMatch(/no voice "klingon-x"/);
    const dup = await call('POST', '/api/sessions', form({ id: 'default' }, { bytes: png() }));
    expect(dup.status).toBe(409);
    // nothing of the refused ones runs or is listed
    expect(ts.server.sessions.all().map((s) => s.id)).toEqual(['default']);
    expect((await call('GET', '/api/sessions/hall-a')).status).toBe(404);
    // every call is in the audit log, refusals with their code
    const lines = auditLines().filter((l) => l.action === 'session.create');
    expect(lines.map((l) => l.result)).toEqual(['forbidden', 'forbidden', 'bad-request', 'bad-request', 'bad-request', 'bad-request', 'bad-portrait', 'bad-request', 'conflict']);
    expect(lines[0]!.from).toBe('127.0.0.1');
  }, 60_000);

  it('creates a session from a photo (201): it is listed and speaks with its own voice', async () => {
    const res = await call('POST', '/api/sessions', form({ id: 'hall-a', name: 'Hall A, window 3', voice: 'en-gb', preset: 'fast' }, { bytes: png() }));
    expect(res.status).toBe(201);
    expect(res.body.session).toMatchObject({ id: 'hall-a', name: 'Hall A, window 3', voice: 'en-gb', preset: 'fast', fromConfig: false });
    expect((await call('GET', '/api/sessions/hall-a')).body.session.name).toBe('Hall A, window 3');
    expect(ts.server.sessions.require('hall-a').sayQueue.voice).toBe('en-gb');
    expect(ts.server.sessions.require('default').sayQueue.voice).toBeUndefined();
    const health = (await (await fetch(`${ts.server.url}/healthz`)).json()) as { sessions: { id: string }[] };
    expect(health.sessions.map((s) => s.id)).toContain('hall-a');
    const source = ts.server.auth.mint('hall-a', 'source', 600);
    const say = await fetch(`${ts.server.url}/api/sessions/hall-a/say`, { method: 'POST', headers: { authorization: `Bearer ${source}`, 'content-type': 'text/plain' }, body: 'Welcome to hall A.' });
    expect(say.status).toBe(200);
    await expect.poll(() => ts.server.sessions.require('hall-a').stats().say.sentences, { timeout: 10_000 }).toBeGreaterThan(0);
    expect(auditLines().at(-1)).toMatchObject({ action: 'session.create', result: 'ok', actor: 'admin-key' });
  }, 60_000);

  it('a new portrait swaps in while a kiosk stays connected (no media-restart); a new name and voice take at once', async () => {
    const { socket } = await tryConnect(ts.server.url, '/kiosk', { token: ts.server.auth.mint('hall-a', 'kiosk', 600) }, { forceNew: true });
    const k = socket as Socket;
    const events: string[] = [];
    k.onAny((e: string) => events.push(e));
    k.on('disconnect', () => events.push('disconnect'));
    const joined = (await k.timeout(10_000).emitWithAck('join', {})) as { ok: boolean };
    expect(joined.ok).toBe(true);
    const before = ts.server.sessions.require('hall-a');
    const res = await call('PATCH', '/api/sessions/hall-a', form({ name: 'Hall A, window 4', voice: '' }, { bytes: readFileSync(ASTRONAUT) }));
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ restarted: false, session: { name: 'Hall A, window 4', voice: null } });
    expect(ts.server.sessions.require('hall-a')).toBe(before);
    expect(k.connected).toBe(true);
    expect(events).not.toContain('media-restart');
    expect(events).not.toContain('disconnect');
    // the session renders on, from the new engine
    const f0 = before.stats().engineFramesRendered;
    await expect.poll(() => before.stats().engineFramesRendered, { timeout: 5000 }).toBeGreaterThan(f0 + 10);
    // a photo without a face leaves everything as it was
    const refused = await call('PATCH', '/api/sessions/hall-a', form({}, { bytes: faceless(), type: 'image/jpeg' }));
    expect(refused.status).toBe(422);
    expect(ts.server.sessions.require('hall-a')).toBe(before);
    expect(before.sayQueue.voice).toBeUndefined();
    // another preset is another resolution: the session starts again under its id and its kiosk is told to join again
    const quality = await call('PATCH', '/api/sessions/hall-a', { preset: 'quality' });
    expect(quality.status).toBe(200);
    expect(quality.body).toMatchObject({ restarted: true, session: { preset: 'quality' } });
    expect(ts.server.sessions.require('hall-a')).not.toBe(before);
    expect([ts.server.sessions.require('hall-a').info.width, ts.server.sessions.require('hall-a').info.height]).toEqual([720, 1280]);
    await expect.poll(() => events.includes('media-restart'), { timeout: 5000 }).toBe(true);
    expect(k.connected).toBe(true);
    k.close();
  }, 90_000);

  it('deletes a session: its kiosk is told and disconnected, it is not listed, its tokens are refused; counted in the answer', async () => {
    const { socket } = await tryConnect(ts.server.url, '/kiosk', { token: ts.server.auth.mint('hall-a', 'kiosk', 600) }, { forceNew: true });
    const k = socket as Socket;
    const told = new Promise<{ reason: string }>((r) => k.once('session-ended', r));
    const gone = new Promise<void>((r) => k.once('disconnect', () => r()));
    expect(((await k.timeout(10_000).emitWithAck('join', {})) as { ok: boolean }).ok).toBe(true);
    const token = ts.server.auth.mint('hall-a', 'kiosk', 600);
    const res = await call('DELETE', '/api/sessions/hall-a');
    expect(res.status).toBe(200);
    expect(res.body.released.kiosks).toBe(1);
    expect((await told).reason).toMatch(/removed/);
    await gone;
    expect(ts.server.sessions.has('hall-a')).toBe(false);
    expect((await call('GET', '/api/sessions/hall-a')).status).toBe(404);
    expect((await call('DELETE', '/api/sessions/hall-a')).status).toBe(404);
    // a kiosk token of the deleted session is refused; the other session's kiosks come in as before
    const stale = await tryConnect(ts.server.url, '/kiosk', { token }, { forceNew: true });
    expect(stale.error).toMatch(/hall-a/);
    const other = await tryConnect(ts.server.url, '/kiosk', { token: ts.server.auth.mint('default', 'kiosk', 600) }, { forceNew: true });
    expect(other.socket?.connected).toBe(true);
    other.socket?.close();
  }, 60_000);

  it('the console sign-in: a cookie (HttpOnly, SameSite=Strict) acts as the admin key only with its CSRF token and from this origin', async () => {
    const url = ts.server.url;
    expect((await fetch(`${url}/admin/api/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ key: 'wrong' }) })).status).toBe(401);
    const res = await fetch(`${url}/admin/api/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ key: ts.server.adminKey }) });
    expect(res.status).toBe(200);
    const setCookie = res.headers.get('set-cookie')!;
    expect(setCookie).toMatch(/^kiosk_console=[\w-]+; HttpOnly; SameSite=Strict; Path=\/; Max-Age=3600/);
    expect(setCookie).not.toContain(ts.server.adminKey);
    const cookie = setCookie.split(';')[0]!;
    const { csrf } = (await res.json()) as { csrf: string };
    const say = (headers: Record<string, string>) =>
      fetch(`${url}/api/sessions/default/say`, { method: 'POST', headers: { cookie, 'content-type': 'application/json', ...headers }, body: JSON.stringify({ text: 'Hello.' }) });
    // reads need the cookie only; changes need the CSRF token, and no other origin
    expect((await fetch(`${url}/api/sessions`, { headers: { cookie } })).status).toBe(200);
    expect((await say({})).status).toBe(403);
    expect((await say({ 'x-csrf-token': 'guess' })).status).toBe(403);
    expect((await say({ 'x-csrf-token': csrf, origin: 'https://evil.example' })).status).toBe(403);
    expect((await say({ 'x-csrf-token': csrf, origin: new URL(url).origin })).status).toBe(200);
    // the console's actions are audited as the console's
    await call('DELETE', '/api/sessions/nope');
    const del = await fetch(`${url}/api/sessions/nope`, { method: 'DELETE', headers: { cookie, 'x-csrf-token': csrf } });
    expect(del.status).toBe(404);
    expect(auditLines().at(-1)).toMatchObject({ action: 'session.delete', actor: expect.stringMatching(/^console:/), result: 'not-found' });
    // signed out: the cookie is nothing
    expect((await fetch(`${url}/admin/api/session`, { method: 'DELETE', headers: { cookie, 'x-csrf-token': csrf } })).status).toBe(200);
    expect((await fetch(`${url}/api/sessions`, { headers: { cookie } })).status).toBe(401);
  });

  it('a cross-site request gets no CORS grant (a page elsewhere cannot send the admin key)', async () => {
    const res = await fetch(`${ts.server.url}/api/sessions`, { method: 'OPTIONS', headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization' } });
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('a restart keeps the sessions created at run time and forgets the deleted ones (the config\'s included)', async () => {
    expect((await call('POST', '/api/sessions', form({ id: 'ward-7', name: 'Ward 7' }, { bytes: png() }))).status).toBe(201);
    expect((await call('DELETE', '/api/sessions/default')).status).toBe(200);
    await ts.restart();
    expect(ts.server.sessions.all().map((s) => s.id)).toEqual(['ward-7']);
    expect((await call('GET', '/api/sessions/ward-7')).body.session).toMatchObject({ name: 'Ward 7', fromConfig: false });
    expect(readFileSync(join(ts.config.runtime.sessions_dir, 'sessions.json'), 'utf8')).toMatch(/"deleted": \[\s*"default"\s*\]/);
    // a stored session whose portrait is gone does not stop the next start: it is left out, said so, and deletable
    expect((await call('POST', '/api/sessions', form({ id: 'ward-8' }, { bytes: png() }))).status).toBe(201);
    const stored = JSON.parse(readFileSync(join(ts.config.runtime.sessions_dir, 'sessions.json'), 'utf8')) as { sessions: { id: string; portrait: string }[] };
    rmSync(stored.sessions.find((x) => x.id === 'ward-8')!.portrait);
    await ts.restart();
    expect(ts.server.sessions.all().map((s) => s.id)).toEqual(['ward-7']);
    const failed = await call('GET', '/api/sessions/ward-8');
    expect(failed.body.session).toMatchObject({ id: 'ward-8', state: 'failed', error: expect.stringMatching(/ward-8|no such image/) });
    expect((await call('DELETE', '/api/sessions/ward-8')).status).toBe(200);
    expect((await call('GET', '/api/sessions/ward-8')).status).toBe(404);
  }, 120_000);
});
