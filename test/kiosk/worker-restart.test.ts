/**
 * The mediasoup worker dies (SIGKILL, as an OOM kill would): the server starts a new one, builds
 * the session's SFU room again on it and tells the kiosk, which joins again by itself and shows
 * video again. Real worker process, real headless Chromium kiosk.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/test-server.js';
import { inboundStats, launchChromium, openKiosk } from './browser.js';

let ts: TestServer;
let browser: Browser;
let page: Page;

interface Health {
  ok: boolean;
  mediasoupWorker: { state: string; restarts: number };
}
const health = async () => (await (await fetch(`${ts.server.url}/healthz`)).json()) as Health;

beforeAll(async () => {
  ts = await startTestServer({ mode: 'sfu', rtcBase: 47200 });
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
  await ts?.server.close();
});

describe('mediasoup worker death', () => {
  it('a new worker starts, the session rebuilds its SFU room, and the kiosk comes back by itself', async () => {
    page = await openKiosk(browser, ts.server.kioskUrl('default'));
    await expect.poll(async () => (await inboundStats(page)).framesDecoded, { timeout: 10_000 }).toBeGreaterThan(25);
    const before = await health();
    expect(before.mediasoupWorker).toMatchObject({ state: 'running', restarts: 0 });
    const joinsBefore = await page.evaluate(() => (window as unknown as { kiosk: { joins: number } }).kiosk.joins);

    // /healthz does not name the worker's process (issue 19, item 11); the server object does
    const pidBefore = ts.server.mediasoupWorkerPid()!;
    expect(pidBefore).toBeGreaterThan(0);
    process.kill(pidBefore, 'SIGKILL');

    await expect.poll(async () => (await health()).mediasoupWorker.restarts, { timeout: 15_000, interval: 100 }).toBe(1);
    const after = await health();
    expect(after.mediasoupWorker.state).toBe('running');
    expect(ts.server.mediasoupWorkerPid()).not.toBe(pidBefore);
    // the kiosk joined again without a touch and decodes video from the new worker
    await expect.poll(() => page.evaluate(() => (window as unknown as { kiosk: { joins: number } }).kiosk.joins), { timeout: 15_000 }).toBeGreaterThan(joinsBefore);
    await expect.poll(async () => (await inboundStats(page)).framesDecoded, { timeout: 15_000, interval: 250 }).toBeGreaterThan(25);
    const st = await page.evaluate(() => (window as unknown as { kiosk: { state: string } }).kiosk.state);
    expect(st).toBe('live');
    // one kiosk, one receive transport on the new room: nothing of the old one is counted
    const sfu = ts.server.sessions.require('default').stats().sfu!;
    expect(sfu.kiosks).toBe(1);
    expect(sfu.producers).toBe(2);
    await expect.poll(async () => (await health()).ok, { timeout: 5000 }).toBe(true);
  }, 60_000);
});
