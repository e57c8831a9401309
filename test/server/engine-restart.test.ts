/**
 * A session whose engine worker thread dies: the session starts a new engine (the face back at
 * rest, queued speech counted as lost), keeps its media source (kiosks stay connected), and the
 * server goes on serving. Real server, real worker thread that really exits.
 */
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/test-server.js';

const ENGINE = fileURLToPath(new URL('./fixtures/crash-once-engine.ts', import.meta.url));
let ts: TestServer | undefined;

afterAll(async () => {
  await ts?.server.close();
});

describe('engine worker crash', () => {
  it('restarts the engine, keeps the stream and the server, and says so in health and metrics', async () => {
    const flagFile = join(mkdtempSync(join(tmpdir(), 'crash-once-')), 'crashed');
    ts = await startTestServer({
      mode: 'sfu',
      rtcBase: 44800,
      start: { engineModule: ENGINE, engineOptions: { flagFile, crashAfterFrames: 25 } },
    });
    const session = ts.server.sessions.require('default');
    const framesBefore = session.source.stats().framesSent;
    await expect.poll(() => session.stats().engineRestarts, { timeout: 15_000, interval: 100 }).toBe(1);
    expect(existsSync(flagFile)).toBe(true);
    // the same media source goes on: frames keep flowing from the new engine, at rest
    const after = session.source.stats().framesSent;
    expect(after).toBeGreaterThan(framesBefore);
    await expect.poll(() => session.source.stats().framesSent - after, { timeout: 5000 }).toBeGreaterThan(40);
    expect(session.stats().state).toBe('idle');
    await expect.poll(async () => (await fetch(`${ts!.server.url}/healthz`)).status, { timeout: 5000, interval: 250 }).toBe(200);
    const metrics = await (await fetch(`${ts.server.url}/metrics`)).text();
    expect(metrics).toMatch(/^avatar_engine_restarts_total\{session="default"\} 1$/m);
    // the new engine takes speech
    const pcm = new Int16Array(1600).fill(3000);
    expect(session.ingest({ pcm: new Uint8Array(pcm.buffer), format: { encoding: 's16le', sampleRate: 16000, channels: 1 } }).acceptedMs).toBe(100);
  }, 40_000);
});
