/**
 * A real server for tests: startServer() on 127.0.0.1, an OS-chosen HTTP port, secrets and the
 * portrait cache in a temporary folder, and its own range of RTC ports (test files run in parallel
 * processes, so each file passes a different `rtcBase`).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { io, type Socket } from 'socket.io-client';
import { parseConfig } from '../../config/load.js';
import type { Config } from '../../config/schema.js';
import { deepMerge } from '../../config/load.js';
import { startServer, type RunningServer, type StartOptions } from '../../server/app.js';
import type { AudioClientToServer, AudioServerToClient, ChunkResult } from '../../server/protocol.js';
import { createLogger } from '../../server/log.js';
import { wavBytes } from './speech.js';

export interface TestServer {
  server: RunningServer;
  config: Config;
  dir: string;
  /** stops and starts the server again on the same port (kiosks should come back by themselves) */
  restart(): Promise<RunningServer>;
}

/**
 * @param opts.defaultFrame render the embedded default's picture (540x960); otherwise the 512x512
 *   square, which most suites use because they measure other things and it costs half as much
 */
export async function startTestServer(opts: { mode: 'sfu' | 'direct'; rtcBase: number; config?: Record<string, unknown>; start?: StartOptions; defaultFrame?: boolean }): Promise<TestServer> {
  const dir = mkdtempSync(join(tmpdir(), 'avatar-server-'));
  const raw = deepMerge(
    {
      ...(opts.defaultFrame ? {} : { avatar: { width: null, height: null } }),
      server: { host: '127.0.0.1', port: 0 },
      // most suites measure a session's own frames with no kiosk watching: they keep it rendering
      // (test/kiosk/unwatched.test.ts tests the pause of a session nobody watches, the default)
      media: { mode: opts.mode, rtc_min_port: opts.rtcBase, rtc_max_port: opts.rtcBase + 199, pause_unwatched_ms: null },
      auth: { secret_file: join(dir, 'secret'), admin_key_file: join(dir, 'admin-key'), revoked_file: join(dir, 'revoked.json'), audit_file: join(dir, 'audit', 'admin.log'), tokens_file: join(dir, 'tokens.json') },
      runtime: { cache_dir: join(dir, 'portraits'), sessions_dir: join(dir, 'sessions') },
      jobs: { dir: join(dir, 'jobs') },
    },
    opts.config ?? {},
  );
  let config = parseConfig(raw, 'test config');
  const start: StartOptions = { log: createLogger(process.env.LOG_LEVEL ?? 'warn'), ...opts.start };
  let server = await startServer(config, start);
  const t: TestServer = {
    get server() {
      return server;
    },
    config,
    dir,
    async restart() {
      const port = server.port;
      await server.close();
      config = parseConfig(deepMerge(raw, { server: { port } }), 'test config');
      server = await startServer(config, start);
      return server;
    },
  };
  return t;
}

export type AudioSocket = Socket<AudioServerToClient, AudioClientToServer>;

/** Connects to /audio with a token (or the admin key and a session). */
export async function connectAudio(url: string, auth: { token: string; session?: string }): Promise<AudioSocket> {
  const s = io(`${url}/audio`, { auth, transports: ['websocket'], reconnection: false }) as AudioSocket;
  await new Promise<void>((resolve, reject) => {
    s.once('connect', () => resolve());
    s.once('connect_error', (e) => reject(e));
  });
  return s;
}

/** Sends mono float speech as s16le chunks of `chunkMs`, each acknowledged; then ends the segment. */
export async function sendSpeech(s: AudioSocket, samples: Float32Array, sampleRate: number, chunkMs = 200): Promise<ChunkResult[]> {
  const step = Math.round((sampleRate * chunkMs) / 1000);
  const results: ChunkResult[] = [];
  for (let i = 0; i < samples.length; i += step) {
    const part = samples.subarray(i, Math.min(samples.length, i + step));
    const pcm = new Int16Array(part.length);
    for (let j = 0; j < part.length; j++) pcm[j] = Math.max(-32768, Math.min(32767, Math.round(part[j]! * 32767)));
    results.push(await s.timeout(5000).emitWithAck('chunk', { encoding: 's16le', sampleRate, channels: 1 }, Buffer.from(pcm.buffer)));
  }
  await s.timeout(5000).emitWithAck('segment-end', {});
  return results;
}

/**
 * Posts mono float speech as a WAV file to the session (POST /api/sessions/:id/audio), as a TTS
 * service in another process would; resolves with the server's answer.
 */
export async function uploadSpeech(url: string, token: string, samples: Float32Array, sampleRate: number, session = 'default'): Promise<{ ok: boolean; acceptedMs: number }> {
  const res = await fetch(`${url}/api/sessions/${session}/audio`, {
    method: 'POST',
    headers: { 'content-type': 'audio/wav', authorization: `Bearer ${token}` },
    body: new Uint8Array(wavBytes(samples, sampleRate)),
  });
  const body = (await res.json()) as { ok: boolean; acceptedMs: number; error?: string };
  if (!res.ok) throw new Error(`upload refused (${res.status}): ${body.error}`);
  return body;
}
