/**
 * The kiosk page needs nothing but its own server: a host page, in headless Chromium, loads, goes
 * live over WebRTC (SFU), speaks typed text through the say box (the server's TTS: here no upstream
 * is configured, so espeak-ng, as with the WAN down) and the avatar's mouth moves. Every request
 * the browser makes is recorded, and any to another origin is blocked and counted; the peer
 * connections' ICE configuration and the candidates they are given are recorded too.
 */
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_PORTRAIT } from '../../config/schema.js';
import { enrolPortrait } from '../../models/face/enrol.js';
import { KIOSK_CSP } from '../../server/http/routes.js';
import { startTestServer, type TestServer } from '../helpers/test-server.js';
import { mouthBox } from '../helpers/video-measures.js';
import { fromServer, launchChromium, waitLive } from './browser.js';
import { installProbe, median, mouthOpening, pageNow, readProbe } from './probe.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let ts: TestServer;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let origin: string;
const requests: string[] = [];
const blocked: string[] = [];
const sockets: string[] = [];

beforeAll(async () => {
  ts = await startTestServer({ mode: 'sfu', rtcBase: 45600 });
  origin = new URL(ts.server.url).origin;
  browser = await launchChromium();
  context = await browser.newContext({ viewport: { width: 512, height: 910 } });
  context.on('request', (r) => requests.push(r.url()));
  // anything not from the server is refused here (as a kiosk with the WAN down would see it) and counted
  await context.route('**/*', (route) => {
    const u = route.request().url();
    if (fromServer(u, origin)) return route.continue();
    blocked.push(u);
    return route.abort('internetdisconnected');
  });
  await context.addInitScript(() => {
    (globalThis as unknown as { __name: (f: unknown) => unknown }).__name = (f) => f;
    const seen = { configs: [] as unknown[], remoteSdp: [] as string[], remoteCandidates: [] as string[] };
    (window as unknown as { rtcSeen: typeof seen }).rtcSeen = seen;
    const Native = window.RTCPeerConnection;
    class Recorded extends Native {
      constructor(config?: RTCConfiguration) {
        super(config);
        seen.configs.push(JSON.parse(JSON.stringify(config ?? {})));
      }
      override setRemoteDescription(d: RTCSessionDescriptionInit) {
        if (d?.sdp) seen.remoteSdp.push(d.sdp);
        return super.setRemoteDescription(d);
      }
      override addIceCandidate(c?: RTCIceCandidateInit | null) {
        if (c?.candidate) seen.remoteCandidates.push(c.candidate);
        return super.addIceCandidate(c ?? undefined);
      }
    }
    window.RTCPeerConnection = Recorded as typeof RTCPeerConnection;
  });
}, 90_000);

afterAll(async () => {
  await browser?.close();
  await ts?.server.close();
});

describe('the kiosk page with nothing but its server', () => {
  it('goes live, speaks typed text with the local TTS, and requests nothing from any other origin', async () => {
    // a fresh page each attempt (the kiosk project retries a test once)
    await page?.close();
    requests.length = 0;
    blocked.length = 0;
    sockets.length = 0;
    page = await context.newPage();
    page.on('websocket', (w) => sockets.push(w.url()));
    page.on('pageerror', (e) => console.error('[kiosk page error]', e.message));
    const res = await page.goto(ts.server.kioskUrl('default', 'host'));
    expect(res?.headers()['content-security-policy']).toBe(KIOSK_CSP);
    await waitLive(page);
    const cfg = ts.config;
    const portrait = await enrolPortrait(DEFAULT_PORTRAIT, { minResolution: cfg.avatar.min_resolution, expandRatio: cfg.avatar.expand_ratio, cacheDir: cfg.runtime.cache_dir });
    await installProbe(page, mouthBox(portrait));
    await sleep(800);
    const restLuma = median((await readProbe(page)).frames.map((f) => f.luma));

    // the host types a sentence; the server speaks it with espeak-ng (no upstream configured)
    expect(await page.isVisible('#say')).toBe(true);
    const since = await pageNow(page);
    await page.fill('#say-text', 'Good morning. Please take a number and wait to be called.');
    await page.click('#say-button');
    await page.waitForFunction(() => (window as unknown as { kiosk: { say: { spoken: unknown[] } } }).kiosk.say.spoken.length >= 2, undefined, { timeout: 10_000 });
    await sleep(2500);
    const spoken = await page.evaluate(() => (window as unknown as { kiosk: { say: { spoken: { provider: string; index: number }[] } } }).kiosk.say.spoken);
    expect(spoken.map((s) => [s.index, s.provider])).toEqual([[0, 'local'], [1, 'local']]);
    const peak = Math.max(...mouthOpening((await readProbe(page, since)).frames, restLuma).map((o) => o.open));
    expect(peak).toBeGreaterThan(8);

    // everything came from the server
    const foreign = requests.filter((u) => !fromServer(u, origin));
    console.log(`kiosk page: ${requests.length} requests, all to ${origin}; websockets ${JSON.stringify([...new Set(sockets)])}; blocked ${blocked.length}`);
    expect(requests.length).toBeGreaterThanOrEqual(3); // page, script, style (+ socket.io)
    expect(requests.some((u) => u.includes('/kiosk/kiosk.js'))).toBe(true);
    expect(foreign).toEqual([]);
    expect(blocked).toEqual([]);
    expect(sockets.length).toBeGreaterThanOrEqual(1); // socket.io: /kiosk and /audio share one websocket
    expect(sockets.every((u) => u.startsWith(origin.replace(/^http/, 'ws') + '/'))).toBe(true);

    // WebRTC: no STUN/TURN servers, and the only candidates are the server's own address
    const rtc = await page.evaluate(() => (window as unknown as { rtcSeen: { configs: { iceServers?: unknown[] }[]; remoteSdp: string[]; remoteCandidates: string[] } }).rtcSeen);
    expect(rtc.configs.length).toBeGreaterThanOrEqual(1);
    expect(rtc.configs.every((c) => (c.iceServers ?? []).length === 0)).toBe(true);
    const candidateIps = [...rtc.remoteSdp.flatMap((s) => s.split(/\r?\n/).filter((l) => l.startsWith('a=candidate:'))), ...rtc.remoteCandidates]
      .map((l) => l.replace(/^a=/, '').split(' ')[4]);
    expect(new Set(candidateIps)).toEqual(new Set(['127.0.0.1']));
  }, 90_000);
});
