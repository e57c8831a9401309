/**
 * A hung kiosk does not slow the others: one of two kiosks on a session has its page frozen (the
 * debugger pauses its JavaScript, as a hung tablet: no signalling, no reports, no heartbeats). The
 * other kiosk still decodes at full rate and the server still sends 25 frames a second; after the
 * ping timeout the server drops the hung kiosk and releases its transport and consumers (counted).
 * Real SFU, real Chromium pages.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/test-server.js';
import { inboundStats, launchChromium, openKiosk } from './browser.js';

let ts: TestServer;
let browser: Browser;

beforeAll(async () => {
  ts = await startTestServer({ mode: 'sfu', rtcBase: 49600 });
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
  await ts?.server.close();
});

async function fpsOver(page: Page, ms: number): Promise<number> {
  const a = (await inboundStats(page)).framesDecoded;
  await new Promise((r) => setTimeout(r, ms));
  return (((await inboundStats(page)).framesDecoded - a) * 1000) / ms;
}

describe('a hung kiosk', () => {
  it('slows only itself, and is dropped with everything it held after the ping timeout', async () => {
    const fast = await openKiosk(browser, ts.server.kioskUrl('default'));
    const hung = await openKiosk(browser, ts.server.kioskUrl('default'));
    const session = ts.server.sessions.require('default');
    expect(session.stats().sfu).toMatchObject({ kiosks: 2, transports: 2, consumers: 4 });
    const cdp = await hung.context().newCDPSession(hung);
    await cdp.send('Debugger.enable');
    await cdp.send('Debugger.pause');
    const sentBefore = session.source.stats().framesSent;
    const t0 = Date.now();
    const fastFps = await fpsOver(fast, 4000);
    const serverFps = ((session.source.stats().framesSent - sentBefore) * 1000) / (Date.now() - t0);
    console.log(`hung kiosk: the other decodes ${fastFps.toFixed(1)} fps, the server sends ${serverFps.toFixed(1)} fps`);
    expect(fastFps).toBeGreaterThanOrEqual(23);
    expect(serverFps).toBeGreaterThanOrEqual(23.5);
    // pingInterval 5 s + pingTimeout 5 s: the server gives up on it and releases what it held
    await expect.poll(() => session.stats().kiosks, { timeout: 20_000, interval: 250 }).toBe(1);
    const dropped = Date.now() - t0;
    expect(session.stats().sfu).toMatchObject({ kiosks: 1, transports: 1, consumers: 2 });
    console.log(`hung kiosk dropped ${dropped} ms after it froze`);
    expect(await fpsOver(fast, 2000)).toBeGreaterThanOrEqual(23);
    await cdp.send('Debugger.resume').catch(() => undefined);
  }, 60_000);
});
