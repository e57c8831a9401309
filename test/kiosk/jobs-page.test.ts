/** The batch job page in headless Chromium: submit a portrait and a recording by hand, watch the progress bar, download the MP4. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_PORTRAIT } from '../../config/schema.js';
import { speakWav } from '../helpers/speech.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';
import { fromServer, launchChromium } from './browser.js';
import type { Browser } from 'playwright-core';

const TEST_CARD = new URL('../../pipeline/engine/test-pattern-engine.ts', import.meta.url).pathname;
let ts: TestServer;
let browser: Browser;

beforeAll(async () => {
  ts = await startTestServer({ mode: 'direct', rtcBase: 46800, start: { engineModule: TEST_CARD, engineOptions: { width: 64, height: 64 } } });
  browser = await launchChromium();
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await ts?.server.close();
});

describe('the jobs page', () => {
  it('submits a portrait and a recording, shows the progress, offers the MP4 for download', async () => {
    const origin = new URL(ts.server.url).origin;
    const page = await browser.newPage({ acceptDownloads: true });
    const foreign: string[] = [];
    page.on('request', (r) => {
      if (!fromServer(r.url(), origin)) foreign.push(r.url());
    });
    const token = ts.server.auth.mint('default', 'author', 600);
    await page.goto(`${ts.server.url}/kiosk/jobs.html#token=${token}`);
    await page.setInputFiles('#portrait', { name: 'teacher.png', mimeType: 'image/png', buffer: readFileSync(DEFAULT_PORTRAIT) });
    await page.setInputFiles('#audio', { name: 'lesson.wav', mimeType: 'audio/wav', buffer: speakWav('Good morning, class. Today we read a story about a fox, a crow and a piece of cheese, and then we write our own.'.repeat(2)) });
    await page.click('#send');
    await page.waitForSelector('#jobs tbody tr', { timeout: 10_000 });
    // the progress bar moves while the job renders
    const values = new Set<number>();
    const end = Date.now() + 60_000;
    while ((await page.getAttribute('#jobs tbody tr', 'data-state')) !== 'done') {
      values.add(Number(await page.$eval('#jobs tbody tr progress', (p) => (p as HTMLProgressElement).value)));
      if (Date.now() > end) throw new Error('the job did not finish in 60 s');
      await page.waitForTimeout(150);
    }
    expect(await page.textContent('#jobs tbody tr')).toMatch(/lesson\.wav \(fast\).*done, \d+\.\d s/);
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#jobs tbody tr button')]);
    const path = join(ts.dir, 'page-download.mp4');
    await download.saveAs(path);
    const mp4 = readFileSync(path);
    expect(mp4.subarray(4, 8).toString('latin1')).toBe('ftyp');
    expect(mp4.length).toBeGreaterThan(20_000);
    expect([...values].some((v) => v > 0 && v < 1) || values.size >= 2).toBe(true);
    expect(foreign).toEqual([]);
  }, 90_000);

  it('a 5000-character file name does not widen the page, and a U+202E in a name reverses nothing (issue 19, item 11)', async () => {
    const token = ts.server.auth.mint('default', 'author', 600);
    const names = ['x'.repeat(5000) + '.wav', 'invoice\u202Evaw.exe'];
    for (const name of names) {
      const form = new FormData();
      form.append('portrait', new Blob([new Uint8Array(readFileSync(DEFAULT_PORTRAIT))], { type: 'image/png' }), 'p.png');
      form.append('audio', new Blob([new Uint8Array(speakWav('One.'))], { type: 'audio/wav' }), name);
      const res = await fetch(`${ts.server.url}/api/jobs`, { method: 'POST', headers: { authorization: `Bearer ${token}` }, body: form });
      expect(res.status).toBe(202);
      const job = (await res.json()) as { input: { uploads: { field: string; name: string }[] } };
      const kept = job.input.uploads.find((u) => u.field === 'audio')!.name;
      // kept as a label: no bidi controls, at most 120 characters
      expect(kept).not.toMatch(/[\u202a-\u202e\u2066-\u2069]/);
      expect([...kept].length).toBeLessThanOrEqual(120);
    }
    const page = await browser.newPage({ viewport: { width: 1024, height: 768 } });
    await page.goto(`${ts.server.url}/kiosk/jobs.html#token=${token}`);
    await expect.poll(() => page.$$eval('#jobs tbody tr', (r) => r.length), { timeout: 10_000 }).toBeGreaterThanOrEqual(2);
    const layout = await page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, view: window.innerWidth, text: document.querySelector('#jobs')!.textContent ?? '' }));
    expect(layout.scroll).toBeLessThanOrEqual(layout.view);
    expect(layout.text).toContain('invoicevaw.exe');
    expect(layout.text).not.toMatch(/[\u202a-\u202e]/);
    await page.close();
  }, 60_000);
});
