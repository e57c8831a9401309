/**
 * The server's surface with a real server (socket.io, fastify, mediasoup worker, wrtc encoder) and
 * the model-free test-card engine (these checks are about the server, not the portrait): health,
 * metrics, authentication refusals, audio chunks good and bad, the queue bound, file uploads.
 */
import { fileURLToPath } from 'node:url';
import { io } from 'socket.io-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectAudio, startTestServer, type TestServer } from '../helpers/test-server.js';
import { speakWav } from '../helpers/speech.js';
import { signToken } from '../../server/auth/tokens.js';

const TEST_CARD = fileURLToPath(new URL('../../pipeline/engine/test-pattern-engine.ts', import.meta.url));
let ts: TestServer;
let url: string;

beforeAll(async () => {
  ts = await startTestServer({
    mode: 'sfu',
    rtcBase: 43800,
    config: { limits: { max_queued_seconds: 3, audio_upload_bytes: 256 * 1024 } },
    start: { engineModule: TEST_CARD, engineOptions: { width: 64, height: 64 } },
  });
  url = ts.server.url;
}, 60_000);

afterAll(async () => {
  await ts?.server.close();
});

const sourceToken = () => ts.server.auth.mint('default', 'source', 600);
const kioskToken = () => ts.server.auth.mint('default', 'kiosk', 600);
const s16 = (n: number, amp = 0.3) => {
  const a = new Int16Array(n);
  for (let i = 0; i < n; i++) a[i] = Math.round(amp * 32767 * Math.sin((2 * Math.PI * 220 * i) / 16000));
  return Buffer.from(a.buffer);
};

function handshake(ns: string, auth: Record<string, unknown>): Promise<string> {
  return new Promise((resolve) => {
    const s = io(`${url}${ns}`, { auth, transports: ['websocket'], reconnection: false });
    s.once('connect', () => {
      s.close();
      resolve('connected');
    });
    s.once('connect_error', (e) => {
      s.close();
      resolve(e.message);
    });
  });
}

describe('health and metrics', () => {
  it('/healthz says ok, the media mode, the worker and each session with its frame rate', async () => {
    // fps is measured over the last 2 s: right after the start it is still below the target, and the
    // other test files running beside this one on the same cores can hold frames back for a while
    // (CI read 16.7 once, right after a reading above 20): polled, the target reached once
    await expect.poll(async () => ((await (await fetch(`${url}/healthz`)).json()) as { sessions: { fps: number }[] }).sessions[0]!.fps, { timeout: 10_000, interval: 250 }).toBeGreaterThan(20);
    const res = await fetch(`${url}/healthz`);
    const body = (await res.json()) as { status: string; mode: string; mediasoupWorker: { state: string; pid?: number }; sessions: { id: string; fps: number }[] };
    expect(res.status).toBe(200);
    expect(body.status).toBe('ok');
    expect(body.mode).toBe('sfu');
    expect(body.mediasoupWorker.state).toBe('running');
    // the worker runs, but an unauthenticated page does not name its process (issue 19, item 11)
    expect(body.mediasoupWorker.pid).toBeUndefined();
    expect(ts.server.mediasoupWorkerPid()).toBeGreaterThan(0);
    expect(body.sessions).toHaveLength(1);
    expect(body.sessions[0]!.id).toBe('default');
    expect(body.sessions[0]!.fps).toBeGreaterThan(0);
  });

  it('/metrics is Prometheus text with sessions, fps, stage times and kiosks', async () => {
    const res = await fetch(`${url}/metrics`);
    const text = await res.text();
    expect(res.headers.get('content-type')).toMatch(/text\/plain/);
    expect(text).toMatch(/^avatar_sessions\{mode="sfu"\} 1$/m);
    // the fps over the last 2 s, polled as /healthz's above (CI read 19.4 once)
    const fpsIn = (metrics: string) => Number(/^avatar_fps_sent\{session="default"\} ([\d.]+)$/m.exec(metrics)?.[1]);
    expect(fpsIn(text)).toBeGreaterThan(0);
    await expect.poll(async () => fpsIn(await (await fetch(`${url}/metrics`)).text()), { timeout: 10_000, interval: 250 }).toBeGreaterThan(20);
    expect(text).toMatch(/^avatar_stage_ms\{session="default",stage="engine"\} [\d.e-]+$/m);
    // the default SFU path encodes with x264: its time per frame is a stage of its own (fps > 20 above: frames were encoded)
    const encodeMs = Number(/^avatar_stage_ms\{session="default",stage="encode"\} ([\d.e-]+)$/m.exec(text)?.[1]);
    expect(encodeMs).toBeGreaterThan(0);
    expect(encodeMs).toBeLessThan(40);
    expect(text).toMatch(/^avatar_kiosks\{session="default"\} 0$/m);
    expect(text).toMatch(/^avatar_process_resident_memory_bytes \d+/m);
    expect(text).toMatch(/^# TYPE avatar_frames_sent_total counter$/m);
  });

  it('listens on the configured address only', () => {
    expect(url).toBe(`http://127.0.0.1:${ts.server.port}`);
  });

  it('serves the kiosk page with a policy that forbids every other origin', async () => {
    const res = await fetch(`${url}/kiosk/`);
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('<video id="avatar"');
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("connect-src 'self'");
    expect((await fetch(`${url}/kiosk/kiosk.js`)).status).toBe(200);
    expect((await fetch(`${url}/`, { redirect: 'manual' })).headers.get('location')).toBe('/kiosk/');
  });
});

describe('authentication', () => {
  it('the kiosk namespace refuses no token, a forged or expired token, and a token without "view"', async () => {
    expect(await handshake('/kiosk', {})).toMatch(/no token/);
    expect(await handshake('/kiosk', { token: 'k1.e30.AAAA' })).toMatch(/bad token signature/);
    const foreign = signToken(Buffer.from('some-other-secret-32-bytes-long!!'), { sid: 'default', scope: ['view'], ttlSec: 60 });
    expect(await handshake('/kiosk', { token: foreign })).toMatch(/bad token signature/);
    const expired = ts.server.auth.mint('default', 'kiosk', 1);
    await new Promise((r) => setTimeout(r, 2100));
    expect(await handshake('/kiosk', { token: expired })).toMatch(/token expired/);
    expect(await handshake('/kiosk', { token: sourceToken() })).toMatch(/may not view/);
    expect(await handshake('/kiosk', { token: kioskToken() })).toBe('connected');
    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(Number(/^avatar_auth_refused_total\{channel="kiosk"\} (\d+)$/m.exec(metrics)?.[1])).toBeGreaterThanOrEqual(5);
  }, 15_000);

  it('the audio namespace wants "speak": a kiosk token is refused, a source token and the admin key are let in', async () => {
    expect(await handshake('/audio', { token: kioskToken() })).toMatch(/may not speak/);
    expect(await handshake('/audio', { token: sourceToken() })).toBe('connected');
    expect(await handshake('/audio', { token: ts.server.adminKey, session: 'default' })).toBe('connected');
    expect(await handshake('/audio', { token: ts.server.adminKey })).toMatch(/needs the session/);
  });

  it('management calls need the admin key; a minted kiosk token works', async () => {
    const noKey = await fetch(`${url}/api/tokens`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ session: 'default', role: 'kiosk' }) });
    expect(noKey.status).toBe(401);
    const withToken = await fetch(`${url}/api/sessions`, { headers: { authorization: `Bearer ${kioskToken()}` } });
    expect(withToken.status).toBe(401);
    const res = await fetch(`${url}/api/tokens`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${ts.server.adminKey}` },
      body: JSON.stringify({ session: 'default', role: 'kiosk', ttl_days: 1 }),
    });
    const body = (await res.json()) as { token: string; url: string };
    expect(res.status).toBe(200);
    expect(body.url).toBe(`${url}/kiosk/#token=${encodeURIComponent(body.token)}`);
    expect(await handshake('/kiosk', { token: body.token })).toBe('connected');
    const bad = await fetch(`${url}/api/tokens`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${ts.server.adminKey}` },
      body: JSON.stringify({ session: 'nope', role: 'root' }),
    });
    expect(bad.status).toBe(400);
    const list = (await (await fetch(`${url}/api/sessions`, { headers: { authorization: `Bearer ${ts.server.adminKey}` } })).json()) as { sessions: { id: string }[] };
    expect(list.sessions.map((s) => s.id)).toEqual(['default']);
  });
});

describe('audio chunks', () => {
  it('a good chunk is taken and acknowledged with the queue depth', async () => {
    const s = await connectAudio(url, { token: sourceToken() });
    try {
      const res = await s.timeout(5000).emitWithAck('chunk', { encoding: 's16le', sampleRate: 16000, channels: 1 }, s16(3200));
      expect(res).toMatchObject({ ok: true, acceptedMs: 200 });
      expect(res.ok && res.queuedMs).toBeGreaterThan(100);
    } finally {
      s.close();
    }
  });

  it('malformed chunks are refused with a reason and the session goes on', async () => {
    const s = await connectAudio(url, { token: sourceToken() });
    const send = (format: unknown, pcm: unknown) => s.timeout(5000).emitWithAck('chunk', format as never, pcm as never);
    try {
      const cases: [unknown, unknown, RegExp, string][] = [
        [{ encoding: 's16le', sampleRate: 16000, channels: 1 }, Buffer.alloc(301), /301 bytes|whole/, 'audio-format'],
        [{ encoding: 's16le', sampleRate: 96000, channels: 1 }, s16(960), /96000 Hz is outside/, 'audio-format'],
        [{ encoding: 'mp3', sampleRate: 16000, channels: 1 }, s16(320), /unknown PCM encoding/, 'audio-format'],
        [{ encoding: 's16le', sampleRate: 16000, channels: 6 }, s16(320), /channels/, 'audio-format'],
        [{ encoding: 'f32le', sampleRate: 16000, channels: 1 }, Buffer.from(new Float32Array([NaN, 0, 0, 0]).buffer), /NaN|finite/i, 'audio-format'],
        [{ encoding: 's16le', sampleRate: 16000, channels: 1 }, 'not binary', /pcm must be binary/, 'bad-request'],
        ['format', s16(320), /first argument must be the format/, 'bad-request'],
      ];
      for (const [format, pcm, message, code] of cases) {
        const res = await send(format, pcm);
        expect(res.ok, JSON.stringify(format)).toBe(false);
        if (!res.ok) {
          expect(res.error).toMatch(message);
          expect(res.code).toBe(code);
        }
      }
      const good = await send({ encoding: 's16le', sampleRate: 16000, channels: 1 }, s16(320));
      expect(good.ok).toBe(true);
      expect(s.connected).toBe(true);
    } finally {
      s.close();
    }
  });

  it('a chunk beyond the queue bound is refused whole; interrupt empties the queue', async () => {
    const s = await connectAudio(url, { token: sourceToken() });
    try {
      const fmt = { encoding: 's16le', sampleRate: 16000, channels: 1 } as const;
      const first = await s.timeout(5000).emitWithAck('chunk', fmt, s16(16000 * 2));
      expect(first.ok).toBe(true);
      const full = await s.timeout(5000).emitWithAck('chunk', fmt, s16(16000 * 2));
      expect(full).toMatchObject({ ok: false, code: 'queue-full' });
      expect(!full.ok && full.error).toMatch(/speech queue full/);
      const stop = await s.timeout(5000).emitWithAck('interrupt', {});
      expect(stop.ok).toBe(true);
      expect(stop.ok && stop.droppedMs).toBeGreaterThan(1000);
      expect(ts.server.sessions.require('default').queuedMs).toBe(0);
    } finally {
      s.close();
    }
  });
});

describe('audio file upload', () => {
  const post = (body: Uint8Array | string, headers: Record<string, string>) =>
    fetch(`${url}/api/sessions/default/audio`, { method: 'POST', body: typeof body === 'string' ? body : new Uint8Array(body), headers });

  it('a WAV is decoded and queued; the answer says how long it is', async () => {
    await fetch(`${url}/api/sessions/default/interrupt`, { method: 'POST', headers: { authorization: `Bearer ${sourceToken()}` } });
    const wav = speakWav('Hello.');
    const res = await post(wav, { 'content-type': 'audio/wav', authorization: `Bearer ${sourceToken()}` });
    const body = (await res.json()) as { ok: boolean; acceptedMs: number; codec: string };
    expect(res.status).toBe(200);
    expect(body.codec).toBe('pcm_s16le');
    const seconds = (wav.length - 44) / 2 / 22050;
    expect(Math.abs(body.acceptedMs - seconds * 1000)).toBeLessThan(25);
  });

  it('refuses no credential (401), a kiosk token (403), a body over the limit (413), a wrong type (415), bytes that are not audio (400)', async () => {
    const wav = speakWav('Hi.');
    expect((await post(wav, { 'content-type': 'audio/wav' })).status).toBe(401);
    expect((await post(wav, { 'content-type': 'audio/wav', authorization: `Bearer ${kioskToken()}` })).status).toBe(403);
    expect((await post(new Uint8Array(300 * 1024), { 'content-type': 'audio/wav', authorization: `Bearer ${sourceToken()}` })).status).toBe(413);
    expect((await post('hello', { 'content-type': 'text/plain', authorization: `Bearer ${sourceToken()}` })).status).toBe(415);
    const junk = await post(new Uint8Array(4000).fill(7), { 'content-type': 'audio/mpeg', authorization: `Bearer ${sourceToken()}` });
    expect(junk.status).toBe(400);
    expect(((await junk.json()) as { code: string }).code).toBe('audio-format');
    const other = await fetch(`${url}/api/sessions/other/audio`, { method: 'POST', body: new Uint8Array(wav), headers: { 'content-type': 'audio/wav', authorization: `Bearer ${sourceToken()}` } });
    expect(other.status).toBe(401);
  });
});
