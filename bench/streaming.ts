/**
 * Live streaming figures, measured in a real kiosk (headless Chromium) against a real server:
 *   - glass-to-glass latency: an audio chunk sent to /audio -> the mouth opening visible in the
 *     page (requestVideoFrameCallback display time), and -> the audio heard in the page;
 *   - audio/video sync at the kiosk: speech-burst onset heard vs mouth opening seen;
 *   - jitter-buffer delays the browser reports.
 * Page and server share one machine clock: page time + performance.timeOrigin = Date.now().
 */
import type { Page } from 'playwright-core';
import { DEFAULT_PORTRAIT } from '../config/schema.js';
import { enrolPortrait } from '../models/face/enrol.js';
import { connectAudio, sendSpeech, startTestServer, type TestServer } from '../test/helpers/test-server.js';
import { mouthBox } from '../test/helpers/video-measures.js';
import { inboundStats, launchChromium, openKiosk } from '../test/kiosk/browser.js';
import { speechBursts } from '../test/kiosk/bursts.js';
import { installProbe, median, mouthOpening, onsets, pageTimeOrigin, readProbe } from '../test/kiosk/probe.js';
import { summarise, type Summary } from './common.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface LatencyResult {
  mode: 'sfu' | 'direct';
  /** chunk sent -> mouth visibly opening, ms */
  mouth: Summary;
  /** chunk sent -> audio heard, ms */
  audio: Summary;
  /** mouth onset - audio onset at the kiosk, ms (negative: the mouth leads) */
  sync: Summary;
  audioJitterMs: number;
  videoJitterMs: number;
}

export async function benchLatency(mode: 'sfu' | 'direct', bursts = 8): Promise<LatencyResult> {
  const ts: TestServer = await startTestServer({ mode, rtcBase: 44000 });
  const browser = await launchChromium();
  try {
    const cfg = ts.config;
    const portrait = await enrolPortrait(DEFAULT_PORTRAIT, { minResolution: cfg.avatar.min_resolution, expandRatio: cfg.avatar.expand_ratio, cacheDir: cfg.runtime.cache_dir });
    const page: Page = await openKiosk(browser, ts.server.kioskUrl('default'));
    await installProbe(page, mouthBox(portrait));
    await sleep(1500);
    const origin = await pageTimeOrigin(page);
    const restLuma = median((await readProbe(page)).frames.map((f) => f.luma));
    const audio = await connectAudio(ts.server.url, { token: ts.server.auth.mint('default', 'source', 3600) });
    const one = speechBursts(1, 0.5, 0);
    const sent: number[] = [];
    for (let i = 0; i < bursts; i++) {
      await sleep(900 + Math.random() * 400); // random phase against the 40 ms frame grid
      sent.push(Date.now() - origin);
      await sendSpeech(audio, one.samples, one.sampleRate, 1000);
    }
    await sleep(1500);
    const rec = await readProbe(page);
    const open = mouthOpening(rec.frames, restLuma);
    const peakOpen = Math.max(...open.map((o) => o.open));
    const peakRms = Math.max(...rec.audio.map((a) => a.rms));
    const mouthOn = onsets(open.map((o) => ({ t: o.t, v: o.open })), 0.3 * peakOpen, 0.12 * peakOpen, 300);
    const audioOn = onsets(rec.audio.map((a) => ({ t: a.t, v: a.rms })), 0.2 * peakRms, 0.05 * peakRms, 300);
    const firstAfter = (xs: number[], t: number) => xs.find((x) => x >= t && x < t + 800);
    const mouthLat: number[] = [];
    const audioLat: number[] = [];
    const sync: number[] = [];
    for (const t of sent) {
      const m = firstAfter(mouthOn, t);
      const a = firstAfter(audioOn, t);
      if (m !== undefined) mouthLat.push(m - t);
      if (a !== undefined) audioLat.push(a - t);
      if (m !== undefined && a !== undefined) sync.push(m - a);
    }
    const st = await inboundStats(page);
    audio.close();
    return { mode, mouth: summarise(mouthLat), audio: summarise(audioLat), sync: summarise(sync), audioJitterMs: st.audioJitterMs, videoJitterMs: st.videoJitterMs };
  } finally {
    await browser.close();
    await ts.server.close();
  }
}

// npx tsx bench/streaming.ts [sfu|direct]: this section alone
if (process.argv[1]?.endsWith('streaming.ts')) {
  const mode = (process.argv[2] as 'sfu' | 'direct') ?? 'sfu';
  benchLatency(mode).then(
    (r) => {
      console.log(JSON.stringify(r, null, 1));
      process.exit(0);
    },
    (e) => {
      console.error(e);
      process.exit(1);
    },
  );
}
