/**
 * The operator console (/admin/) in headless Chromium against a real server (real portrait engine,
 * real mediasoup worker): sign in, create a session from a photo, add a kiosk and open the URL its
 * QR code encodes in a second page, see the face, make it speak from the say box, replace the
 * portrait while the kiosk watches (no reconnect), delete the session (the kiosk says it is gone);
 * no request of either page leaves the server's origin, and the page never holds the admin key.
 */
import { readFileSync } from 'node:fs';
import jsQRModule from 'jsqr';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { DEFAULT_PORTRAIT } from '../../config/schema.js';
import { decodeImage, encodePng } from '../../models/face/image.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';
import { closePage, fromServer, inboundStats, launchChromium, openKiosk } from './browser.js';

// jsqr is CommonJS with `exports.default`: under ESM the function is the default's default
const jsQR = ((jsQRModule as unknown as { default?: typeof jsQRModule }).default ?? jsQRModule) as unknown as (data: Uint8ClampedArray, w: number, h: number) => { data: string } | null;

let ts: TestServer;
let browser: Browser;
const foreign: string[] = [];

beforeAll(async () => {
  ts = await startTestServer({ mode: 'sfu', rtcBase: 47600 });
  browser = await launchChromium();
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await ts?.server.close();
});

function watch(page: Page): Page {
  const origin = new URL(ts.server.url).origin;
  page.on('request', (r) => {
    if (!fromServer(r.url(), origin)) foreign.push(r.url());
  });
  return page;
}

/** another photo of a face: the default portrait in cold light (red down, blue up) */
function tinted(png: Buffer): Buffer {
  const img = decodeImage(png);
  for (let i = 0; i < img.rgba.length; i += 4) {
    img.rgba[i] = Math.round(img.rgba[i]! * 0.6);
    img.rgba[i + 2] = Math.min(255, Math.round(img.rgba[i + 2]! * 1.5 + 30));
  }
  return encodePng(img);
}

/** the mean colour of the kiosk's video picture (a different portrait shows another) */
const meanColour = (kiosk: Page) =>
  kiosk.evaluate(() => {
    const v = (window as unknown as { kiosk: { video: HTMLVideoElement } }).kiosk.video;
    const c = document.createElement('canvas');
    c.width = 64;
    c.height = 64;
    const g = c.getContext('2d')!;
    g.drawImage(v, 0, 0, 64, 64);
    const d = g.getImageData(0, 0, 64, 64).data;
    const sum = [0, 0, 0];
    for (let i = 0; i < d.length; i += 4) for (let k = 0; k < 3; k++) sum[k]! += d[i + k]!;
    return sum.map((s) => s / (64 * 64));
  });

describe('operator console', () => {
  it('signs in, creates a session, provisions a kiosk by QR, speaks, swaps the portrait live and deletes the session', async () => {
    const page = watch(await browser.newPage({ viewport: { width: 1024, height: 1366 } }));
    onTestFinished(async () => {
      await closePage(page);
      // a failed try's session is deleted (as the console does): its retry would find "hall-b" already
      // there, with a kiosk in its list and the first try's new portrait, which it could not swap again
      if (ts.server.sessions.has('hall-b')) {
        await fetch(`${ts.server.url}/api/sessions/hall-b`, { method: 'DELETE', headers: { authorization: `Bearer ${ts.server.adminKey}` } });
      }
    });
    page.on('dialog', (d) => void d.accept());
    await page.addInitScript('globalThis.__name = (f) => f;');
    await page.goto(`${ts.server.url}/admin/`);
    await page.waitForSelector('#sign-in:not([hidden])');
    // before the sign-in only its form shows
    expect(await page.isVisible('#console')).toBe(false);
    await page.fill('#key', 'not-the-key');
    await page.click('#sign-in button');
    await expect.poll(() => page.textContent('#sign-in-error')).toMatch(/not the admin key/);
    await page.fill('#key', ts.server.adminKey);
    await page.click('#sign-in button');
    await page.waitForSelector('#console:not([hidden])');
    expect(await page.isVisible('#console')).toBe(true);
    expect(await page.isVisible('#sign-in')).toBe(false);
    // the key is not kept: not in a script-readable cookie, storage or the page
    expect(await page.evaluate(() => document.cookie)).toBe('');
    expect(await page.evaluate(() => JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage }))).not.toContain(ts.server.adminKey);
    expect(await page.content()).not.toContain(ts.server.adminKey);
    const cookie = (await page.context().cookies()).find((c) => c.name === 'kiosk_console')!;
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Strict' });
    expect(cookie.expires * 1000 - Date.now()).toBeLessThanOrEqual(3600_000 + 5000);

    // a new session from a photo
    await page.click('#new-session summary');
    await page.fill('#new-id', 'hall-b');
    await page.fill('#new-name', 'Hall B, window 1');
    await page.setInputFiles('#new-portrait', { name: 'person.png', mimeType: 'image/png', buffer: readFileSync(DEFAULT_PORTRAIT) });
    await page.click('#create-send');
    const card = page.locator('[data-session="hall-b"]');
    await card.waitFor({ timeout: 30_000 });
    await expect.poll(() => card.locator('h3').textContent()).toBe('Hall B, window 1 (hall-b)');

    // a named kiosk: its URL, and a QR code that encodes the same URL
    await card.locator('[data-action="new-kiosk"] input').fill('Hall B, window 1 screen');
    await card.locator('[data-action="new-kiosk"] button').click();
    const url = (await card.locator('.kiosk-url').getAttribute('href'))!;
    await card.locator('.kiosk-qr').waitFor();
    await page.waitForFunction(() => (document.querySelector('.kiosk-qr') as HTMLImageElement | null)?.complete === true);
    const qr = await card.locator('.kiosk-qr').evaluate((img: HTMLImageElement) => {
      const c = document.createElement('canvas');
      c.width = 400;
      c.height = 400;
      const g = c.getContext('2d')!;
      g.fillStyle = '#fff';
      g.fillRect(0, 0, 400, 400);
      g.drawImage(img, 0, 0, 400, 400);
      return Array.from(g.getImageData(0, 0, 400, 400).data);
    });
    const decoded = jsQR(Uint8ClampedArray.from(qr), 400, 400);
    expect(decoded?.data).toBe(url);
    expect(url).toMatch(/\/kiosk\/#token=/);

    // the kiosk opens the URL and shows the face
    const kiosk = watch(await openKiosk(browser, url, 30_000));
    onTestFinished(() => closePage(kiosk));
    await expect.poll(async () => (await inboundStats(kiosk)).framesDecoded, { timeout: 10_000 }).toBeGreaterThan(25);
    const joins = await kiosk.evaluate(() => (window as unknown as { kiosk: { joins: number } }).kiosk.joins);
    // the console lists the kiosk with what it reports
    await expect.poll(() => card.locator('tbody tr').first().textContent(), { timeout: 10_000 }).toMatch(/Hall B, window 1 screen.*now.*127\.0\.0\.1/);

    // the preview: the kiosk page, small and muted, in a frame of the console
    await card.locator('[data-action="preview"]').click();
    const preview = page.frameLocator('[data-session="hall-b"] iframe.preview');
    await expect.poll(() => preview.locator('body').getAttribute('data-state'), { timeout: 20_000 }).toBe('live');
    expect(await preview.locator('video').evaluate((v: HTMLVideoElement) => v.muted && v.videoWidth > 0)).toBe(true);
    await card.locator('[data-action="preview"]').click();
    await expect.poll(() => card.locator('iframe').count()).toBe(0);

    // the say box makes it speak
    await card.locator('[data-action="say"] textarea').fill('Good morning. Please take a number.');
    await card.locator('[data-action="say"] button').click();
    await kiosk.waitForFunction(() => document.body.dataset.speaking === 'true', undefined, { timeout: 15_000 });
    await kiosk.waitForFunction(() => document.body.dataset.speaking === 'false', undefined, { timeout: 20_000 });

    // a new portrait while the kiosk watches: another picture, same connection
    const before = await meanColour(kiosk);
    await card.locator('[data-action="portrait"] input').setInputFiles({ name: 'blue.png', mimeType: 'image/png', buffer: tinted(readFileSync(DEFAULT_PORTRAIT)) });
    await card.locator('[data-action="portrait"] button').click();
    await expect.poll(() => card.locator('[data-action="portrait"] button').isEnabled(), { timeout: 60_000 }).toBe(true);
    expect(await card.locator('.error').textContent()).toBe('');
    await expect.poll(async () => {
      const after = await meanColour(kiosk);
      return Math.max(...after.map((v, i) => Math.abs(v - before[i]!)));
    }, { timeout: 30_000, interval: 250 }).toBeGreaterThan(8);
    expect(await kiosk.evaluate(() => (window as unknown as { kiosk: { joins: number } }).kiosk.joins)).toBe(joins);
    const f0 = (await inboundStats(kiosk)).framesDecoded;
    await expect.poll(async () => (await inboundStats(kiosk)).framesDecoded, { timeout: 5000 }).toBeGreaterThan(f0 + 20);

    // delete: the kiosk says its assistant is gone
    await card.locator('[data-action="delete"]').click();
    await kiosk.waitForFunction(() => document.body.dataset.state === 'ended', undefined, { timeout: 10_000 });
    expect(await kiosk.textContent('#status-text')).toMatch(/not available/);
    await expect.poll(() => page.locator('[data-session="hall-b"]').count(), { timeout: 5000 }).toBe(0);
    expect(ts.server.sessions.has('hall-b')).toBe(false);
    expect(foreign).toEqual([]);
  }, 180_000);
});
