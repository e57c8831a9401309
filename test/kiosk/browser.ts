/**
 * Headless Chromium (Debian's /usr/bin/chromium) driven by playwright-core, as a kiosk.
 * Flags from shared/FINDINGS.md: no background networking (the machine has no internet), autoplay
 * with sound, fake microphone; timers are not throttled so several kiosk pages keep their pace.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
/** Runs CHROMIUM at nice 10: see the script for why. */
const LAUNCHER = fileURLToPath(new URL('./chromium-low-priority.sh', import.meta.url));

export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--autoplay-policy=no-user-gesture-required',
  '--use-fake-ui-for-media-stream',
  '--use-fake-device-for-media-stream',
  '--disable-background-timer-throttling',
  '--disable-renderer-backgrounding',
  '--disable-backgrounding-occluded-windows',
];

/** `fakeMicrophone`: a WAV file the fake capture device plays (looped) instead of its beep. */
export async function launchChromium(opts: { fakeMicrophone?: string } = {}): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`Chromium is not installed at ${CHROMIUM}: apt-get install -y chromium (bash deploy/setup.sh does it)`);
  }
  const args = opts.fakeMicrophone ? [...CHROMIUM_ARGS, `--use-file-for-fake-audio-capture=${opts.fakeMicrophone}`] : CHROMIUM_ARGS;
  return chromium.launch({ executablePath: LAUNCHER, headless: true, args, env: { ...process.env, CHROMIUM_PATH: CHROMIUM } });
}

/** A request the page may make: to the server it came from, or in-page data (data:, blob:). */
export function fromServer(url: string, origin: string): boolean {
  return url.startsWith(`${origin}/`) || url.startsWith('data:') || url.startsWith('blob:');
}

/** Opens a kiosk URL in a portrait-shaped page and waits until the page says it is live. */
export async function openKiosk(browser: Browser, url: string, timeoutMs = 20_000): Promise<Page> {
  // portrait-shaped; 512 px wide, as wide as the video, so the browser does not rescale every frame
  const page = await browser.newPage({ viewport: { width: 512, height: 910 } });
  page.on('pageerror', (e) => console.error('[kiosk page error]', e.message));
  // functions passed to page.evaluate from code compiled by tsx (esbuild keepNames) call __name()
  await page.addInitScript('globalThis.__name = (f) => f;');
  await page.goto(url);
  await waitLive(page, timeoutMs);
  return page;
}

/** Closes a page unless it is closed already (a test's cleanup, run whether the test passed or not). */
export async function closePage(page: Page): Promise<void> {
  if (!page.isClosed()) await page.close();
}

export async function waitLive(page: Page, timeoutMs = 20_000): Promise<void> {
  await page.waitForFunction(
    () => {
      const k = (window as unknown as { kiosk?: { state: string; video: HTMLVideoElement } }).kiosk;
      return k?.state === 'live' && k.video.videoWidth > 0;
    },
    undefined,
    { timeout: timeoutMs, polling: 50 },
  );
}

export interface InboundStats {
  framesDecoded: number;
  framesDropped: number;
  frameWidth: number;
  frameHeight: number;
  audioSamples: number;
  audioEnergy: number;
  /** mean jitter-buffer delay so far, ms (audio includes the lip-sync delay when audio waits for video) */
  audioJitterMs: number;
  videoJitterMs: number;
  /** inbound-rtp entries of each kind in the page's report (the page's own tracks: one each) */
  videoStreams: number;
  audioStreams: number;
}

/**
 * Waits until the kiosk's playout has settled: a kiosk that just joined holds the audio that
 * reached it while the page was starting and plays the voice late for some seconds while the
 * browser drains it, and its lip sync converges in steps. Settled = from one second to the next,
 * the mean audio jitter-buffer delay changed by under 5 ms and the browser's own estimate of
 * video minus audio playout position (estimatedPlayoutTimestamp) by under 10 ms. Gives up after
 * `maxMs`; returns how long it waited and the figures then.
 */
export async function waitAudioSettled(page: Page, maxMs = 15_000): Promise<{ waitedMs: number; audioMs: number; videoMs: number; syncEstimateMs: number }> {
  const t0 = Date.now();
  let prev = await currentJitter(page);
  for (;;) {
    const cur = await currentJitter(page);
    const steady = Math.abs(cur.audio - prev.audio) < 5 && Math.abs(cur.syncEstimate - prev.syncEstimate) < 10;
    if (steady || Date.now() - t0 >= maxMs) return { waitedMs: Date.now() - t0, audioMs: cur.audio, videoMs: cur.video, syncEstimateMs: cur.syncEstimate };
    prev = cur;
  }
}

/**
 * Mean jitter-buffer delay of audio and video over the next `ms`, and the browser's estimate of
 * video minus audio playout position at the end (ms of sender time; NaN until both are known).
 */
export async function currentJitter(page: Page, ms = 1000): Promise<{ audio: number; video: number; syncEstimate: number }> {
  const a = await jitterCounters(page);
  await new Promise((r) => setTimeout(r, ms));
  const b = await jitterCounters(page);
  const d = (x: 'audio' | 'video') => (b[x].n > a[x].n ? ((b[x].delay - a[x].delay) / (b[x].n - a[x].n)) * 1000 : NaN);
  return { audio: d('audio'), video: d('video'), syncEstimate: b.video.playout - b.audio.playout };
}

async function jitterCounters(page: Page): Promise<Record<'audio' | 'video', { delay: number; n: number; playout: number }>> {
  return page.evaluate(async () => {
    const k = (window as unknown as { kiosk: { getStats(): Promise<RTCStatsReport> | undefined } }).kiosk;
    const out = { audio: { delay: 0, n: 0, playout: NaN }, video: { delay: 0, n: 0, playout: NaN } };
    (await k.getStats())?.forEach((s: Record<string, number | string>) => {
      if (s.type === 'inbound-rtp' && (s.kind === 'audio' || s.kind === 'video')) {
        out[s.kind] = {
          delay: Number(s.jitterBufferDelay ?? 0),
          n: Number(s.jitterBufferEmittedCount ?? 0),
          playout: s.estimatedPlayoutTimestamp === undefined ? NaN : Number(s.estimatedPlayoutTimestamp),
        };
      }
    });
    return out;
  });
}

/** The kiosk's inbound video and audio counters (RTCPeerConnection stats). */
export async function inboundStats(page: Page): Promise<InboundStats> {
  return page.evaluate(async () => {
    const k = (window as unknown as { kiosk: { getStats(): Promise<RTCStatsReport> | undefined } }).kiosk;
    const report = await k.getStats();
    const out = { framesDecoded: 0, framesDropped: 0, frameWidth: 0, frameHeight: 0, audioSamples: 0, audioEnergy: 0, audioJitterMs: 0, videoJitterMs: 0, videoStreams: 0, audioStreams: 0 };
    const jb = (s: Record<string, number | string>) => (Number(s.jitterBufferEmittedCount) > 0 ? (Number(s.jitterBufferDelay) / Number(s.jitterBufferEmittedCount)) * 1000 : 0);
    report?.forEach((s: Record<string, number | string>) => {
      if (s.type !== 'inbound-rtp') return;
      if (s.kind === 'video') {
        out.videoStreams += 1;
        out.framesDecoded = Number(s.framesDecoded ?? 0);
        out.framesDropped = Number(s.framesDropped ?? 0);
        out.frameWidth = Number(s.frameWidth ?? 0);
        out.frameHeight = Number(s.frameHeight ?? 0);
        out.videoJitterMs = jb(s);
      } else if (s.kind === 'audio') {
        out.audioStreams += 1;
        out.audioSamples = Number(s.totalSamplesReceived ?? 0);
        out.audioEnergy = Number(s.totalAudioEnergy ?? 0);
        out.audioJitterMs = jb(s);
      }
    });
    return out;
  });
}

