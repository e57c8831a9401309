/**
 * Live streaming figures, measured in real kiosks (headless Chromium) against a real server (the
 * portrait engine, wrtc encoder, mediasoup or direct peers), all on this machine:
 *   - glass-to-glass latency: speech posted to the session (an audio file, as a TTS service does) -> the mouth opening visible in the
 *     page (requestVideoFrameCallback display time), and -> the audio heard in the page (on the video
 *     element's own path; the Web Audio tap's reading beside it: test/kiosk/probe.ts);
 *   - lip sync at the kiosk: speech-burst onset heard vs mouth opening seen;
 *   - barge-in: a touch on stop -> the face at rest on screen;
 *   - kiosks one session holds at 25 fps, with the CPU each adds (server process, SFU worker, and
 *     the browsers, which share this machine: on site they are other devices).
 * Page and server share one clock: page time + performance.timeOrigin = Date.now().
 * Figures are taken once the kiosk's jitter buffers have settled (see waitAudioSettled).
 */
import { readdirSync, readFileSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { deepMerge } from '../config/load.js';
import { DEFAULT_PORTRAIT } from '../config/schema.js';
import { enrolPortrait } from '../models/face/enrol.js';
import { startTestServer, uploadSpeech, type TestServer } from '../test/helpers/test-server.js';
import { mouthBox } from '../test/helpers/video-measures.js';
import { speakWav, wavSamples } from '../test/helpers/speech.js';
import { inboundStats, launchChromium, openKiosk, waitAudioSettled } from '../test/kiosk/browser.js';
import { speechBursts } from '../test/kiosk/bursts.js';
import { burstOnsets, installProbe, median, mouthOpening, onsets, pageNow, pageTimeOrigin, readProbe, restAfterTouch, touchStopWhileOpen } from '../test/kiosk/probe.js';
import { summarise, type Summary } from './common.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
export type Mode = 'sfu' | 'direct';

export interface LatencyResult {
  mode: Mode;
  /** ms the kiosk's jitter buffers took to settle after it went live */
  settleMs: number;
  audioJitterMs: number;
  videoJitterMs: number;
  /** speech posted -> mouth visibly opening, ms */
  mouth: Summary;
  /** speech posted -> audio heard (the video element's own audio path: test/kiosk/probe.ts `element`), ms */
  audio: Summary;
  /** mouth onset - audio onset at the kiosk, ms (negative: the mouth leads) */
  sync: Summary;
  /** the same two through the Web Audio tap, the measure until 2026-12-05 (probe.ts `audio`) */
  tap: { audio: Summary; sync: Summary };
  /** touch on stop -> face at rest on screen, ms */
  interrupt: Summary;
  /**
   * The server's part, measured on its wall clock from the same post: the upload answered (decoded
   * and queued), the burst's audio onset handed to the publisher (encoder and RTP), the frame whose
   * mouth opens handed to it. The kiosk's part is the rest.
   */
  server: { accepted: Summary; audioOut: Summary; frameOut: Summary };
  /**
   * How late each 10 ms of audio reached the publisher against its pacing, ms over the earliest
   * chunk of the run. On the x264 path that is when its Opus packet goes to the router (encoded in
   * the same call); the kiosk's audio jitter buffer grows with it.
   */
  audioSendJitter: Summary;
}

/**
 * Records what a session hands to its publisher (a MediaSink beside it): per 10 ms audio chunk its
 * RMS, per frame its jaw opening, each with the wall time (ms, page clock) it was handed over.
 */
export function publisherTap(ts: TestServer, origin: number, id = 'default') {
  const audio: { t: number; v: number }[] = [];
  const frames: { t: number; v: number }[] = [];
  /** per audio chunk: handed over - the wall time it plays (performance.now ms, the session's clock): the pacing delay + how late it left */
  const audioAfterPlay: number[] = [];
  const detach = ts.server.sessions.require(id).source.addSink({
    audio(samples, playsAtMs) {
      let e = 0;
      for (let i = 0; i < samples.length; i++) e += samples[i]! * samples[i]!;
      audio.push({ t: Date.now() - origin, v: Math.sqrt(e / samples.length) });
      audioAfterPlay.push(performance.now() - playsAtMs);
    },
    frame(f) {
      frames.push({ t: Date.now() - origin, v: f.params.jawOpen });
    },
  });
  return { audio, frames, audioAfterPlay, detach };
}

async function withKiosk<T>(mode: Mode, rtcBase: number, fn: (ts: TestServer, browser: Browser, page: Page, restLuma: number) => Promise<T>): Promise<T> {
  // BENCH_ENCODER=wrtc|x264 measures one SFU publisher against the other (default: the config's)
  // BENCH_VIDEO_DELAY_MS=n measures with another media.video_delay_ms (calibrating the lip sync)
  // BENCH_CONFIG='{"avatar":{"lip_sync_offset_ms":-20}}' merges any other config into the server's
  const encoder = process.env.BENCH_ENCODER;
  const videoDelay = process.env.BENCH_VIDEO_DELAY_MS;
  const media = { ...(encoder ? { encoder } : {}), ...(videoDelay !== undefined ? { video_delay_ms: Number(videoDelay) } : {}) };
  const extra = process.env.BENCH_CONFIG ? (JSON.parse(process.env.BENCH_CONFIG) as Record<string, unknown>) : {};
  const ts = await startTestServer({ mode, rtcBase, config: deepMerge(extra, Object.keys(media).length > 0 ? { media } : {}) });
  const browser = await launchChromium();
  try {
    const cfg = ts.config;
    const portrait = await enrolPortrait(DEFAULT_PORTRAIT, { minResolution: cfg.avatar.min_resolution, expandRatio: cfg.avatar.expand_ratio, cacheDir: cfg.runtime.cache_dir });
    const page = await openKiosk(browser, ts.server.kioskUrl('default'));
    await installProbe(page, mouthBox(portrait), { element: true });
    await sleep(1000);
    const restLuma = median((await readProbe(page)).frames.map((f) => f.luma));
    return await fn(ts, browser, page, restLuma);
  } finally {
    await browser.close();
    await ts.server.close();
  }
}

export async function benchLatency(mode: Mode, bursts = 8, interrupts = 4): Promise<LatencyResult> {
  return withKiosk(mode, 44000, async (ts, _browser, page, restLuma) => {
    const settled = await waitAudioSettled(page);
    const origin = await pageTimeOrigin(page);
    const token = ts.server.auth.mint('default', 'source', 3600);
    // 1. bursts, each sent alone at a random phase against the 40 ms frame grid
    const one = speechBursts(1, 0.5, 0);
    const sent: number[] = [];
    const accepted: number[] = [];
    const since = await pageNow(page);
    const tap = publisherTap(ts, origin);
    for (let i = 0; i < bursts; i++) {
      await sleep(900 + Math.random() * 400);
      sent.push(Date.now() - origin);
      await uploadSpeech(ts.server.url, token, one.samples, one.sampleRate);
      accepted.push(Date.now() - origin - sent[sent.length - 1]!);
    }
    await sleep(1500);
    tap.detach();
    const rec = await readProbe(page, since);
    const open = mouthOpening(rec.frames, restLuma);
    const peakOpen = Math.max(...open.map((o) => o.open));
    const mouthOn = onsets(open.map((o) => ({ t: o.t, v: o.open })), 0.3 * peakOpen, 0.12 * peakOpen, 300);
    const audioOn = burstOnsets(rec.element);
    const tapOn = burstOnsets(rec.audio);
    // the same onset rules on what the server handed to its publisher
    const peakOf = (xs: { v: number }[]) => Math.max(...xs.map((x) => x.v));
    const audioOut = onsets(tap.audio, 0.2 * peakOf(tap.audio), 0.05 * peakOf(tap.audio), 300);
    const frameOut = onsets(tap.frames, 0.3 * peakOf(tap.frames), 0.12 * peakOf(tap.frames), 300);
    const firstAfter = (xs: number[], t: number) => xs.find((x) => x >= t && x < t + 800);
    const mouthLat: number[] = [];
    const audioLat: number[] = [];
    const sync: number[] = [];
    const tapLat: number[] = [];
    const tapSync: number[] = [];
    const audioOutLat: number[] = [];
    const frameOutLat: number[] = [];
    for (const t of sent) {
      const m = firstAfter(mouthOn, t);
      const a = firstAfter(audioOn, t);
      if (m !== undefined) mouthLat.push(m - t);
      if (a !== undefined) audioLat.push(a - t);
      if (m !== undefined && a !== undefined) sync.push(m - a);
      const w = firstAfter(tapOn, t);
      if (w !== undefined) tapLat.push(w - t);
      if (m !== undefined && w !== undefined) tapSync.push(m - w);
      const ao = firstAfter(audioOut, t), fo = firstAfter(frameOut, t);
      if (ao !== undefined) audioOutLat.push(ao - t);
      if (fo !== undefined) frameOutLat.push(fo - t);
    }
    // 2. barge-in: speech, then a touch on stop mid-sentence
    const { samples, sampleRate } = wavSamples(speakWav('One two three four five six seven eight nine ten.'));
    const rest: number[] = [];
    for (let i = 0; i < interrupts; i++) {
      await uploadSpeech(ts.server.url, token, samples, sampleRate);
      await sleep(800 + Math.random() * 800);
      const tStop = await touchStopWhileOpen(page, restLuma, 25);
      await sleep(1200);
      const { restAt } = restAfterTouch(mouthOpening((await readProbe(page, tStop - 1000)).frames, restLuma), tStop);
      if (restAt) rest.push(restAt.t - tStop);
    }
    const st = await inboundStats(page);
    return {
      mode, settleMs: settled.waitedMs, audioJitterMs: st.audioJitterMs, videoJitterMs: st.videoJitterMs,
      mouth: summarise(mouthLat), audio: summarise(audioLat), sync: summarise(sync), interrupt: summarise(rest),
      tap: { audio: summarise(tapLat), sync: summarise(tapSync) },
      server: { accepted: summarise(accepted), audioOut: summarise(audioOutLat), frameOut: summarise(frameOutLat) },
      audioSendJitter: summarise(overMinimum(tap.audioAfterPlay)),
    };
  });
}

/** Each value less the smallest: how much later than the earliest. */
function overMinimum(xs: number[]): number[] {
  const min = Math.min(...xs);
  return xs.map((x) => x - min);
}

export interface CapacityStep {
  kiosks: number;
  /** lowest decoded frame rate over the kiosks, frames/s */
  minFps: number;
  /** % of one core: the server process (engine, encoder, signalling), the mediasoup worker, the browsers */
  serverCpu: number;
  sfuCpu: number;
  browserCpu: number;
}

export async function benchCapacity(mode: Mode, steps = [1, 2, 4, 6, 8]): Promise<CapacityStep[]> {
  const ts = await startTestServer({ mode, rtcBase: 44400 });
  const browser = await launchChromium();
  const out: CapacityStep[] = [];
  try {
    const pages: Page[] = [];
    for (const n of steps) {
      while (pages.length < n) pages.push(await openKiosk(browser, ts.server.kioskUrl('default')));
      await sleep(3000);
      const a = await Promise.all(pages.map(inboundStats));
      const cpu0 = { server: process.cpuUsage(), sfu: await sfuCpuMs(ts), browser: browserCpuMs(), t: performance.now() };
      await sleep(8000);
      const b = await Promise.all(pages.map(inboundStats));
      const secs = (performance.now() - cpu0.t) / 1000;
      const fps = b.map((s, i) => (s.framesDecoded - a[i]!.framesDecoded) / secs);
      const server = process.cpuUsage(cpu0.server);
      out.push({
        kiosks: n,
        minFps: Math.min(...fps),
        serverCpu: ((server.user + server.system) / 1e3 / secs / 10),
        sfuCpu: ((await sfuCpuMs(ts)) - cpu0.sfu) / secs / 10,
        browserCpu: (browserCpuMs() - cpu0.browser) / secs / 10,
      });
    }
    return out;
  } finally {
    await browser.close();
    await ts.server.close();
  }
}

/** CPU ms of the mediasoup worker process so far (0 on the direct path). */
async function sfuCpuMs(ts: TestServer): Promise<number> {
  const pids = readdirSync('/proc').filter((p) => /^\d+$/.test(p));
  let ms = 0;
  for (const pid of pids) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      if (!stat.includes('(mediasoup-worke)')) continue;
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(f[1]) !== process.pid) continue; // only this server's worker
      ms += ((Number(f[11]) + Number(f[12])) * 1000) / 100;
    } catch {
      /* gone */
    }
  }
  void ts;
  return ms;
}

/** CPU ms of the Chromium processes this process started (the browser and its renderers). */
function browserCpuMs(): number {
  const parent = new Map<number, number>();
  const info = new Map<number, { comm: string; ms: number }>();
  for (const p of readdirSync('/proc').filter((x) => /^\d+$/.test(x))) {
    try {
      const stat = readFileSync(`/proc/${p}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      parent.set(Number(p), Number(f[1]));
      info.set(Number(p), { comm: stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')), ms: ((Number(f[11]) + Number(f[12])) * 1000) / 100 });
    } catch {
      /* gone */
    }
  }
  let total = 0;
  for (const [pid, { comm, ms }] of info) {
    if (!comm.startsWith('chrom')) continue;
    for (let p: number | undefined = parent.get(pid); p !== undefined && p > 1; p = parent.get(p)) {
      if (p === process.pid) {
        total += ms;
        break;
      }
    }
  }
  return total;
}

export function printLatency(r: LatencyResult, log = console.log): void {
  const s = (x: Summary) => `p50 ${x.p50.toFixed(0)}  p95 ${x.p95.toFixed(0)}  mean ${x.mean.toFixed(0)}  (n ${x.n})`;
  log(`[${r.mode}] settled ${(r.settleMs / 1000).toFixed(1)} s after joining; jitter buffers: audio ${r.audioJitterMs.toFixed(0)} ms, video ${r.videoJitterMs.toFixed(0)} ms (means since joining)`);
  log(`[${r.mode}] glass-to-glass, speech posted -> mouth opening visible ${s(r.mouth)} ms`);
  log(`[${r.mode}] glass-to-glass, speech posted -> audio heard          ${s(r.audio)} ms   (the video element's own audio path: what its loudspeaker plays)`);
  log(`[${r.mode}] lip sync, mouth onset - audio onset (neg: mouth leads) ${s(r.sync)} ms   TARGET within +-45 ms: ${Math.abs(r.sync.mean) <= 45 ? 'PASS' : 'FAIL'}`);
  log(`[${r.mode}] (through the Web Audio tap, the measure until 2026-12-05: audio heard ${s(r.tap.audio)} ms; lip sync ${s(r.tap.sync)} ms)`);
  log(`[${r.mode}] barge-in, touch on stop -> face at rest on screen      ${s(r.interrupt)} ms   TARGET <= 120 ms: ${r.interrupt.max <= 120 ? 'PASS' : 'FAIL'}`);
  const v = r.server;
  log(`[${r.mode}] timeline, p50 ms from the post: upload answered ${v.accepted.p50.toFixed(0)}, audio onset to the publisher ${v.audioOut.p50.toFixed(0)}, ` +
    `mouth-opening frame to the publisher ${v.frameOut.p50.toFixed(0)}; heard ${r.audio.p50.toFixed(0)}, seen ${r.mouth.p50.toFixed(0)} ` +
    `(the kiosk's part: audio ${(r.audio.p50 - v.audioOut.p50).toFixed(0)}, video ${(r.mouth.p50 - v.frameOut.p50).toFixed(0)})`);
  const j = r.audioSendJitter;
  log(`[${r.mode}] audio to the publisher, ms later than the earliest chunk against its pacing: p50 ${j.p50.toFixed(1)}  p95 ${j.p95.toFixed(1)}  max ${j.max.toFixed(1)}  ` +
    `(media.encoder x264 sends its Opus packet in that call; wrtc encodes on a thread of its own; the kiosk's audio jitter buffer grows with this jitter)`);
}

export function printCapacity(mode: Mode, steps: CapacityStep[], log = console.log): number {
  log(`[${mode}] ${'kiosks'.padStart(6)} ${'min fps'.padStart(8)} ${'server %'.padStart(9)} ${'sfu %'.padStart(7)} ${'browsers %'.padStart(11)}   (% of one core)`);
  for (const s of steps) log(`[${mode}] ${String(s.kiosks).padStart(6)} ${s.minFps.toFixed(1).padStart(8)} ${s.serverCpu.toFixed(1).padStart(9)} ${s.sfuCpu.toFixed(1).padStart(7)} ${s.browserCpu.toFixed(1).padStart(11)}`);
  const held = steps.filter((s) => s.minFps >= 24).map((s) => s.kiosks);
  const first = steps[0]!;
  const last = steps[steps.length - 1]!;
  const perKiosk = (last.serverCpu + last.sfuCpu - first.serverCpu - first.sfuCpu) / Math.max(1, last.kiosks - first.kiosks);
  const perBrowser = (last.browserCpu - first.browserCpu) / Math.max(1, last.kiosks - first.kiosks);
  log(`[${mode}] kiosks held at >= 24 fps here: ${held.length ? Math.max(...held) : 0} (of ${steps.map((s) => s.kiosks).join(', ')} tried; the browsers share these cores)`);
  log(`[${mode}] CPU per added kiosk: server + SFU ${perKiosk.toFixed(1)} % of a core; each headless browser page ${perBrowser.toFixed(1)} %`);
  return perKiosk;
}

// npx tsx bench/streaming.ts [sfu|direct]: one path alone (npm run bench -- --only streaming: both);
// BENCH_ENCODER=wrtc the SFU path with the wrtc publisher instead of x264
if (process.argv[1]?.endsWith('streaming.ts')) {
  const mode = (process.argv[2] as Mode) ?? 'sfu';
  (async () => {
    printLatency(await benchLatency(mode));
    printCapacity(mode, await benchCapacity(mode));
  })().then(
    () => process.exit(0),
    (e) => {
      console.error(e);
      process.exit(1);
    },
  );
}
