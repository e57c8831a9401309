/**
 * Captions (issue 17, first part): a session with `captions: true` shows each sentence of a say
 * request on its kiosks while the avatar speaks it, clears it at the end and at once on an
 * interrupt, and the caption never covers the mouth (portrait and landscape screens). Real server,
 * real portrait engine, headless Chromium.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { DEFAULT_PORTRAIT } from '../../config/schema.js';
import { enrolPortrait } from '../../models/face/enrol.js';
import { mouthBox } from '../helpers/video-measures.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';
import { closePage, launchChromium, openKiosk } from './browser.js';
import { burstOnsets, installProbe, readProbe } from './probe.js';

let ts: TestServer;
let browser: Browser;
let source: string;

beforeAll(async () => {
  ts = await startTestServer({ mode: 'sfu', rtcBase: 47400, config: { sessions: [{ id: 'default', portrait: DEFAULT_PORTRAIT, captions: true }] } });
  browser = await launchChromium();
  source = ts.server.auth.mint('default', 'source', 600);
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await ts?.server.close();
});

const say = (text: string, interrupt = false) =>
  fetch(`${ts.server.url}/api/sessions/default/say`, { method: 'POST', headers: { authorization: `Bearer ${source}`, 'content-type': 'application/json' }, body: JSON.stringify({ text, interrupt }) });

/** what the page shows every 50 ms: the caption (or null) and whether the avatar speaks */
async function record(page: Page, ms: number): Promise<{ t: number; caption: string | null; speaking: boolean }[]> {
  return page.evaluate(async (ms) => {
    const out: { t: number; caption: string | null; speaking: boolean }[] = [];
    const el = document.getElementById('caption')!;
    const t0 = performance.now();
    while (performance.now() - t0 < ms) {
      out.push({ t: performance.now() - t0, caption: el.hidden ? null : el.textContent, speaking: document.body.dataset.speaking === 'true' });
      await new Promise((r) => setTimeout(r, 50));
    }
    return out;
  }, ms);
}

/** the caption's box and the mouth's box on the page (the mouth from the enrolled portrait, scaled to the video's box) */
async function boxes(page: Page, mouth: { x: number; y: number; w: number; h: number }, size: number) {
  return page.evaluate(
    ({ mouth, size }) => {
      const v = document.getElementById('avatar') as HTMLVideoElement;
      const r = v.getBoundingClientRect();
      // object-fit: contain
      const scale = Math.min(r.width / v.videoWidth, r.height / v.videoHeight);
      const ox = r.left + (r.width - v.videoWidth * scale) / 2;
      const oy = r.top + (r.height - v.videoHeight * scale) / 2;
      const k = (scale * v.videoWidth) / size;
      const c = document.getElementById('caption')!.getBoundingClientRect();
      return { caption: { x: c.left, y: c.top, w: c.width, h: c.height }, mouth: { x: ox + mouth.x * k, y: oy + mouth.y * k, w: mouth.w * k, h: mouth.h * k } };
    },
    { mouth, size },
  );
}

const overlaps = (a: { x: number; y: number; w: number; h: number }, b: { x: number; y: number; w: number; h: number }) =>
  a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;

describe('captions', () => {
  it('show each sentence within 200 ms of its audio being heard, clear at its end and at once on an interrupt, and never cover the mouth', async () => {
    const portrait = await enrolPortrait(DEFAULT_PORTRAIT, { minResolution: ts.config.avatar.min_resolution, expandRatio: ts.config.avatar.expand_ratio, cacheDir: ts.config.runtime.cache_dir });
    const m = mouthBox(portrait);
    const mouth = { x: m.x, y: m.y, w: m.width, h: m.height };
    const page = await openKiosk(browser, ts.server.kioskUrl('default'));
    onTestFinished(() => closePage(page)); // also when it fails: its retry starts with no kiosk left over
    // the in-page probe hears the audio as it plays (page clock); the captions' changes are timed on the same clock
    await installProbe(page, { x: m.x, y: m.y, width: m.width, height: m.height });
    await page.evaluate(() => {
      const w = window as unknown as { captionLog: { t: number; text: string | null }[] };
      w.captionLog = [];
      const el = document.getElementById('caption')!;
      new MutationObserver(() => w.captionLog.push({ t: performance.now(), text: el.hidden ? null : el.textContent })).observe(el, { attributes: true, childList: true, characterData: true, subtree: true });
    });
    const sentences = ['Good morning.', 'Please take a number and wait until it is called.'];
    expect((await say(sentences.join(' '))).status).toBe(200);
    const seen = await record(page, 6000);
    // each caption appears within 200 ms of its sentence's audio being heard
    const probe = await readProbe(page);
    const log = await page.evaluate(() => (window as unknown as { captionLog: { t: number; text: string | null }[] }).captionLog);
    const shows = sentences.map((text) => log.find((l) => l.text === text)!.t);
    const peak = Math.max(...probe.audio.map((a) => a.rms));
    const heard = burstOnsets(probe.audio, 150);
    const diffs = shows.map((t) => heard.reduce((best, o) => (Math.abs(o - t) < Math.abs(best) ? o - t : best), Infinity));
    console.log(`[captions] caption shown vs its audio heard (ms, + = audio later): ${diffs.map((d) => d.toFixed(0)).join(', ')}`);
    for (const d of diffs) expect(Math.abs(d)).toBeLessThanOrEqual(200);
    // and cleared after its audio ended
    const cleared = log.find((l) => l.text === null && l.t > shows[1]!)!.t;
    const lastLoud = Math.max(...probe.audio.filter((a) => a.rms >= 0.05 * peak).map((a) => a.t));
    console.log(`[captions] cleared ${(cleared - lastLoud).toFixed(0)} ms after the last audible audio`);
    expect(cleared - lastLoud).toBeGreaterThan(-200);
    const shown = [...new Set(seen.map((s) => s.caption).filter((c): c is string => c !== null))];
    expect(shown).toEqual(sentences);
    // in step with the voice: while a caption shows, the avatar speaks most of the time, and the caption goes when the speech ends
    const withCaption = seen.filter((s) => s.caption !== null);
    const speakingShare = withCaption.filter((s) => s.speaking).length / withCaption.length;
    console.log(`[captions] ${withCaption.length * 50} ms of caption, speaking during ${(speakingShare * 100).toFixed(0)} % of it`);
    expect(speakingShare).toBeGreaterThan(0.7);
    expect(seen.at(-1)!.caption).toBeNull();

    // portrait screen: the caption and the mouth do not meet
    await say('Your number is forty two. Please go to window three.');
    await page.waitForFunction(() => !document.getElementById('caption')!.hidden, undefined, { timeout: 10_000 });
    const portraitBoxes = await boxes(page, mouth, ts.server.sessions.require('default').info.width);
    expect(overlaps(portraitBoxes.caption, portraitBoxes.mouth)).toBe(false);
    // an interrupt clears it at once
    const t0 = Date.now();
    expect((await fetch(`${ts.server.url}/api/sessions/default/interrupt`, { method: 'POST', headers: { authorization: `Bearer ${source}` } })).status).toBe(200);
    await page.waitForFunction(() => document.getElementById('caption')!.hidden, undefined, { timeout: 2000, polling: 20 });
    console.log(`[captions] cleared ${Date.now() - t0} ms after the interrupt`);

    // landscape screen: the caption goes along the top, still clear of the mouth
    await page.setViewportSize({ width: 1280, height: 720 });
    await say('Thank you for waiting.');
    await page.waitForFunction(() => !document.getElementById('caption')!.hidden, undefined, { timeout: 10_000 });
    const landscape = await boxes(page, mouth, ts.server.sessions.require('default').info.width);
    expect(overlaps(landscape.caption, landscape.mouth)).toBe(false);
    await page.close();
  }, 90_000);
});
