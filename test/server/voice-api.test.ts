/**
 * say and mic through a real server (fastify, socket.io, the session's timeline, the model-free
 * test-card engine) with real TTS: espeak-ng, and a loopback stand-in upstream that is stopped
 * mid-text and started again. /healthz, /metrics and the 'sentence' events tell which provider
 * spoke what.
 */
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodePcmS16 } from '../../pipeline/audio/pcm.js';
import type { MicResult, SentenceEvent } from '../../server/protocol.js';
import { StandInTts } from '../helpers/stand-in-tts.js';
import { speakWav, wavSamples } from '../helpers/speech.js';
import { connectAudio, startTestServer, type AudioSocket, type TestServer } from '../helpers/test-server.js';

const TEST_CARD = fileURLToPath(new URL('../../pipeline/engine/test-pattern-engine.ts', import.meta.url));
const TEXT =
  'Welcome to the service hall. Please take a number from the machine. Your number will be shown on the screen. ' +
  'Counter one handles passports. Counter two handles residence permits. Thank you for waiting.';

let ts: TestServer;
let url: string;
let upstream: StandInTts;
let audio: AudioSocket;
const events: (SentenceEvent & { at: number })[] = [];

beforeAll(async () => {
  upstream = new StandInTts({ pieces: 4, pieceGapMs: 15 });
  await upstream.start();
  ts = await startTestServer({
    mode: 'direct',
    rtcBase: 45200,
    config: {
      voice: { upstream: { url: upstream.url, timeout_ms: 700, probe_interval_ms: 300 }, max_sentences: 20, ahead_ms: 60_000 },
      limits: { max_queued_seconds: 120 },
    },
    start: { engineModule: TEST_CARD, engineOptions: { width: 64, height: 64 } },
  });
  url = ts.server.url;
  audio = await connectAudio(url, { token: ts.server.auth.mint('default', 'host', 600) });
  audio.on('sentence', (e) => events.push({ ...e, at: Date.now() }));
}, 60_000);

afterAll(async () => {
  audio?.close();
  await ts?.server.close();
  await upstream?.stop();
});

const token = (role: 'kiosk' | 'source' | 'host') => ts.server.auth.mint('default', role, 600);
const say = (body: unknown, role: 'kiosk' | 'source' | 'host' = 'source') =>
  fetch(`${url}/api/sessions/default/say`, {
    method: 'POST',
    headers: { 'content-type': typeof body === 'string' ? 'text/plain' : 'application/json', authorization: `Bearer ${token(role)}` },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
const health = async () => (await (await fetch(`${url}/healthz`)).json()) as { status: string; tts: { active: string; upstream: { up: boolean }; local: { ok: boolean }; switches: Record<string, number> } };
const metric = async (line: RegExp) => {
  const m = line.exec(await (await fetch(`${url}/metrics`)).text());
  return m ? Number(m[1]) : NaN;
};
const session = () => ts.server.sessions.require('default');

describe('say', () => {
  it('speaks text upstream while it is healthy; the speech reaches the session', async () => {
    expect((await health()).tts).toMatchObject({ active: 'upstream', upstream: { up: true }, local: { ok: true } });
    const before = session().stats().chunksAccepted;
    const res = await say({ text: 'Good morning. Please take a seat.' });
    const body = (await res.json()) as { ok: boolean; sayId: number; sentences: number };
    expect(res.status).toBe(200);
    expect(body).toMatchObject({ ok: true, sentences: 2 });
    await expect.poll(() => events.filter((e) => e.sayId === body.sayId).length, { timeout: 10_000, interval: 20, message: 'two sentences' }).toBe(2);
    expect(events.filter((e) => e.sayId === body.sayId).map((e) => [e.index, e.provider])).toEqual([[0, 'upstream'], [1, 'upstream']]);
    expect(session().stats().chunksAccepted).toBeGreaterThan(before);
  });

  it('upstream stopped mid-text: the rest is spoken by espeak-ng in order, none lost or doubled, within 1 s; visible in /healthz, /metrics; back upstream after it restarts', async () => {
    upstream.stopMidText(2);
    const res = await say({ text: TEXT });
    const { sayId, sentences } = (await res.json()) as { sayId: number; sentences: number };
    expect(sentences).toBe(6);
    await expect.poll(() => events.filter((e) => e.sayId === sayId).length, { timeout: 20_000, interval: 20, message: 'all six sentences' }).toBe(6);
    const mine = events.filter((e) => e.sayId === sayId);
    expect(mine.map((e) => e.index)).toEqual([0, 1, 2, 3, 4, 5]);
    const firstLocal = mine.findIndex((e) => e.provider === 'local');
    expect(firstLocal).toBeGreaterThanOrEqual(2);
    expect(mine.slice(firstLocal).every((e) => e.provider === 'local')).toBe(true);
    expect(mine[firstLocal]!.at - upstream.cutAt!).toBeLessThan(1000);

    const h = await health();
    expect(h.status).toBe('ok'); // the local engine speaks: not degraded
    expect(h.tts).toMatchObject({ active: 'local', upstream: { up: false } });
    expect(await metric(/^avatar_tts_active\{provider="local"\} (\d+)/m)).toBe(1);
    expect(await metric(/^avatar_tts_switches_total\{provider="local"\} (\d+)/m)).toBe(1);
    expect(await metric(/^avatar_tts_sentences_total\{provider="local"\} (\d+)/m)).toBeGreaterThanOrEqual(6 - firstLocal);

    await upstream.start();
    await expect
      .poll(async () => (await health()).tts.active, { timeout: 10_000, interval: 20, message: 'the switch back' })
      .toBe('upstream')
      .catch(async (e: Error) => {
        throw new Error(`${e.message}; tts ${JSON.stringify((await health()).tts)}; upstream listening ${upstream.listening}, served ${JSON.stringify(upstream.served.slice(-4))}`);
      });
    const ack = await audio.timeout(5000).emitWithAck('say', { text: 'Counter three is open. Please go ahead.' });
    expect(ack).toMatchObject({ ok: true, sentences: 2 });
    if (!ack.ok) return;
    await expect.poll(() => events.filter((e) => e.sayId === ack.sayId).length, { timeout: 10_000, interval: 20, message: 'the text after the restart' }).toBe(2);
    expect(events.filter((e) => e.sayId === ack.sayId).map((e) => e.provider)).toEqual(['upstream', 'upstream']);
    expect(await metric(/^avatar_tts_switches_total\{provider="upstream"\} (\d+)/m)).toBe(1);
  });

  it('interrupt drops the sentences not yet spoken and the speech queued; nothing of that text comes after', async () => {
    upstream.hang = true; // sentences take the 700 ms timeout, then go local: some still wait at the interrupt
    try {
      const { sayId } = (await (await say({ text: TEXT })).json()) as { sayId: number };
      await expect.poll(() => events.some((e) => e.sayId === sayId), { timeout: 5000, interval: 20, message: 'the first sentence' }).toBe(true);
      const res = await fetch(`${url}/api/sessions/default/interrupt`, { method: 'POST', headers: { authorization: `Bearer ${token('source')}` } });
      const body = (await res.json()) as { droppedMs: number; droppedSentences: number };
      const spokenBefore = events.filter((e) => e.sayId === sayId).length;
      expect(body.droppedMs).toBeGreaterThan(0);
      expect(body.droppedSentences + spokenBefore).toBe(6);
      await new Promise((r) => setTimeout(r, 1500));
      expect(events.filter((e) => e.sayId === sayId).length).toBe(spokenBefore);
      expect(session().sayQueue.length).toBe(0);
    } finally {
      upstream.hang = false;
    }
  });

  it('refuses bad say requests with clear errors and goes on', async () => {
    let res = await say({ text: '  ' });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: string }).error).toMatch(/nothing to speak/);
    res = await say({ words: 'hello' });
    expect(res.status).toBe(400);
    res = await say({ text: 'Hello.' }, 'kiosk');
    expect(res.status).toBe(403);
    res = await fetch(`${url}/api/sessions/default/say`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"text":"Hi."}' });
    expect(res.status).toBe(401);
    // past max_sentences (20): refused whole
    session().interrupt();
    res = await say({ text: 'One. '.repeat(21) });
    expect(res.status).toBe(429);
    expect(((await res.json()) as { code: string }).code).toBe('queue-full');
    // a plain-text body is taken too
    res = await say('Thank you.');
    expect(res.status).toBe(200);
    session().interrupt();
  });
});

describe('mic (Silero-gated)', () => {
  it('queues the host\'s speech and not the silence around it', async () => {
    session().interrupt();
    const mic = await connectAudio(url, { token: token('host') });
    try {
      const rate = 16_000;
      const { samples, sampleRate } = wavSamples(speakWav('Hello, this is the host speaking.'));
      const step = Math.round(sampleRate / 50);
      const send = (x: Float32Array, r: number): Promise<MicResult> => mic.timeout(5000).emitWithAck('mic', { encoding: 's16le', sampleRate: r, channels: 1 }, Buffer.from(encodePcmS16(x)));
      const quiet: MicResult[] = [];
      for (let i = 0; i < 50; i++) quiet.push(await send(new Float32Array(rate / 50), rate));
      expect(quiet.every((r) => r.ok && !r.speech && r.forwardedMs === 0)).toBe(true);
      expect(session().queuedMs).toBe(0);
      const spoken: MicResult[] = [];
      for (let i = 0; i < samples.length; i += step) spoken.push(await send(samples.subarray(i, i + step), sampleRate));
      const forwarded = spoken.reduce((a, r) => a + (r.ok ? r.forwardedMs : 0), 0);
      const speechMs = (samples.length * 1000) / sampleRate;
      expect(spoken.some((r) => r.ok && r.speech)).toBe(true);
      expect(forwarded).toBeGreaterThan(0.6 * speechMs);
      expect(forwarded).toBeLessThan(speechMs + 400);
      const bad = await mic.timeout(5000).emitWithAck('mic', { encoding: 's16le', sampleRate: 16_000, channels: 1 }, Buffer.alloc(3));
      expect(bad).toMatchObject({ ok: false, code: 'audio-format' });
      expect(await mic.timeout(5000).emitWithAck('segment-end', {})).toMatchObject({ ok: true });
    } finally {
      mic.close();
      session().interrupt();
    }
  });
});
