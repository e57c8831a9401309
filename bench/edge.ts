/**
 * 13. One edge box for a whole hall (issue 14; `npm run bench -- --only edge [--max 10]`).
 *
 * One server (SFU path, the portrait engine, 512x512 at 25 fps, or `--size 720x1280`) in this process, sessions added
 * at run time through the admin API (memory per session from the process RSS as each is added).
 * Then, for N = 1..max, N sessions are watched and the others are not (media.pause_unwatched_ms
 * 300): per step a quiet window and a window with every watched session speaking (an espeak-ng
 * clip of ~3 s posted as a WAV file every 3.5 s, staggered, so all speak at once most of the time),
 * each session's frames sent per second (the server's own count over the window), the process CPU
 * (engine threads, wrtc encoders, main thread, this bench's HTTP posts) and the mediasoup worker's.
 * A step holds when every watched session sends >= 24 fps in both windows.
 *
 * The viewers: one socket.io kiosk client per watched session that joins (the server registers
 * it, creates its WebRTC transport, renders and encodes for it as for any kiosk) and takes no
 * media, so the SFU forwards it nothing: the SFU's cost per real kiosk is the streaming
 * section's (a few % of a core in all). Two headless Chromium kiosks replace the viewers of two
 * sessions at the largest N that held, as spot checks: decoded fps, the browser's lip-sync estimate,
 * speech posted -> mouth opening on screen. The browsers run on these same 2 cores.
 *
 * Lip sync without the browsers (which starve the server on these 2 cores): at 1 session and at the
 * largest N that held, the others speaking, bursts posted to the first session and what it hands
 * its publisher tapped: the mouth-opening frame's time minus the burst's audio onset's. The pacer
 * sends frames a constant offset after their audio (half a frame + media.video_delay_ms, which
 * the kiosk's lip sync was calibrated with), so a loaded box that keeps that
 * difference keeps the kiosk's lip sync; frames that come late or are passed over widen it.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { io, type Socket } from 'socket.io-client';
import type { Page } from 'playwright-core';
import { DEFAULT_PORTRAIT } from '../config/schema.js';
import { enrolOptions, enrolPortrait } from '../models/face/enrol.js';
import { speakWav, wavSamples } from '../test/helpers/speech.js';
import { startTestServer, uploadSpeech, type TestServer } from '../test/helpers/test-server.js';
import { mouthBox } from '../test/helpers/video-measures.js';
import { inboundStats, launchChromium, openKiosk, waitAudioSettled } from '../test/kiosk/browser.js';
import { speechBursts } from '../test/kiosk/bursts.js';
import { installProbe, median, mouthOpening, onsets, pageNow, pageTimeOrigin, readProbe } from '../test/kiosk/probe.js';
import { section } from './common.js';
import { publisherTap } from './streaming.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const HOLD_FPS = 24;
const QUIET_MS = 4000;
const SPEAK_MS = 8000;

export interface EdgeStep {
  sessions: number;
  /** frames sent per second by each watched session: quiet window, speaking window */
  quietFps: number[];
  speakFps: number[];
  /** cores: this process (the server) and the mediasoup worker, quiet and speaking */
  quietCpu: number;
  speakCpu: number;
  sfuCpu: number;
  holds: boolean;
}

export interface EdgeResult {
  steps: EdgeStep[];
  /** MB of process RSS per added session */
  memoryPerSessionMB: number;
  /** cores per session nobody watches: quiet, and speaking */
  unwatchedQuietCpu: number;
  unwatchedSpeakCpu: number;
  held: number;
  spot?: { sessions: number; decodedFps: number[]; syncEstimateMs: number[]; speechToMouthMs: number[]; serverMinFps: number; browserNote: string };
  /** mouth-opening frame - audio onset handed to the first session's publisher, ms per burst: 1 session, and `sessions` */
  serverSync?: { one: number[]; loaded: number[]; sessions: number };
}

/**
 * Six bursts posted to `ids[0]` while the others speak; per burst, the mouth-opening frame's time
 * minus the audio onset's, as handed to its publisher (ms).
 */
async function serverSync(ts: TestServer, ids: string[], clip: { samples: Float32Array; sampleRate: number }): Promise<number[]> {
  const talk = speakers(ts, ids.slice(1), clip);
  await sleep(1000);
  const tap = publisherTap(ts, 0, ids[0]);
  const token = ts.server.auth.mint(ids[0]!, 'source', 3600);
  const one = speechBursts(1, 0.5, 0);
  const sent: number[] = [];
  try {
    for (let i = 0; i < 6; i++) {
      await sleep(900 + Math.random() * 400);
      sent.push(Date.now());
      await uploadSpeech(ts.server.url, token, one.samples, one.sampleRate, ids[0]!);
    }
    await sleep(1500);
  } finally {
    tap.detach();
    await talk.stop();
  }
  const peakOf = (xs: { v: number }[]) => Math.max(...xs.map((x) => x.v));
  const audioOn = onsets(tap.audio, 0.2 * peakOf(tap.audio), 0.05 * peakOf(tap.audio), 300);
  const frameOn = onsets(tap.frames, 0.3 * peakOf(tap.frames), 0.12 * peakOf(tap.frames), 300);
  const out: number[] = [];
  for (const t of sent) {
    const a = audioOn.find((x) => x >= t && x < t + 800), f = frameOn.find((x) => x >= t && x < t + 800);
    if (a !== undefined && f !== undefined) out.push(f - a);
  }
  return out;
}

/** CPU seconds of this process and of its mediasoup worker so far */
function cpuSeconds(): { proc: number; sfu: number } {
  const u = process.cpuUsage();
  let sfu = 0;
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      if (!stat.includes('(mediasoup-worke)')) continue;
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(f[1]) === process.pid) sfu += (Number(f[11]) + Number(f[12])) / 100;
    } catch {
      /* gone */
    }
  }
  return { proc: (u.user + u.system) / 1e6, sfu };
}

/** Frames sent per second by each of `ids`, and cores used, over `ms`. */
async function window(ts: TestServer, ids: string[], ms: number): Promise<{ fps: number[]; cpu: number; sfu: number }> {
  const sent = () => ids.map((id) => ts.server.sessions.require(id).stats().media.framesSent);
  const a = sent();
  const c0 = cpuSeconds();
  const t0 = performance.now();
  await sleep(ms);
  const b = sent();
  const c1 = cpuSeconds();
  const secs = (performance.now() - t0) / 1000;
  return { fps: b.map((x, i) => (x - a[i]!) / secs), cpu: (c1.proc - c0.proc) / secs, sfu: (c1.sfu - c0.sfu) / secs };
}

/** Posts the clip to each session every 3.5 s, staggered; stop() waits until every queue is empty. */
function speakers(ts: TestServer, ids: string[], clip: { samples: Float32Array; sampleRate: number }): { stop(): Promise<void> } {
  const timers = ids.map((id, i) => {
    const token = ts.server.auth.mint(id, 'source', 3600);
    const post = () => void uploadSpeech(ts.server.url, token, clip.samples, clip.sampleRate, id).catch(() => undefined);
    const start = setTimeout(() => {
      post();
      timers[i]!.every = setInterval(post, 3500);
    }, (i * 3500) / Math.max(1, ids.length) / 4);
    return { start, every: undefined as NodeJS.Timeout | undefined };
  });
  return {
    async stop() {
      for (const t of timers) {
        clearTimeout(t.start);
        clearInterval(t.every);
      }
      const busy = () => ids.some((id) => ts.server.sessions.require(id).busySpeaking);
      for (let i = 0; i < 100 && busy(); i++) await sleep(100);
    },
  };
}

async function addSession(ts: TestServer, id: string, photo: Uint8Array<ArrayBuffer>): Promise<void> {
  const f = new FormData();
  f.append('id', id);
  f.append('portrait', new Blob([photo], { type: 'image/png' }), 'portrait.png');
  const res = await fetch(`${ts.server.url}/api/sessions`, { method: 'POST', headers: { authorization: `Bearer ${ts.server.adminKey}` }, body: f });
  if (res.status !== 201 && res.status !== 200) throw new Error(`adding session ${id}: HTTP ${res.status} ${await res.text()}`);
}

/** A kiosk client that joins and takes no media (see the header). */
async function viewer(ts: TestServer, id: string): Promise<Socket> {
  const s = io(`${ts.server.url}/kiosk`, { auth: { token: ts.server.auth.mint(id, 'kiosk', 3600) }, transports: ['websocket'], forceNew: true });
  const res = (await s.timeout(10_000).emitWithAck('join', {})) as { ok: boolean; error?: string };
  if (!res.ok) throw new Error(`viewer of ${id}: ${res.error}`);
  return s;
}

export async function benchEdge(max: number, gc?: () => void, size?: { width: number; height: number }): Promise<EdgeResult> {
  // BENCH_ENCODER=wrtc|x264: the SFU publisher to measure (default: the config's, x264)
  const encoder = process.env.BENCH_ENCODER ? { encoder: process.env.BENCH_ENCODER } : {};
  const ts = await startTestServer({ mode: 'sfu', rtcBase: 53000, config: { media: { pause_unwatched_ms: 300, ...encoder }, ...(size ? { avatar: size } : {}) } });
  const photo = new Uint8Array(readFileSync(DEFAULT_PORTRAIT)) as Uint8Array<ArrayBuffer>;
  const ids = ['default'];
  const viewers = new Map<string, Socket>();
  try {
    // memory per session: RSS as sessions are added (each its engine worker thread, models, media)
    gc?.();
    await sleep(500);
    const rss0 = process.memoryUsage().rss;
    for (let i = 1; i < max; i++) {
      await addSession(ts, `s${i}`, photo);
      ids.push(`s${i}`);
    }
    await sleep(1500);
    gc?.();
    const memoryPerSessionMB = (process.memoryUsage().rss - rss0) / 2 ** 20 / Math.max(1, max - 1);
    const clip = wavSamples(speakWav('Please take a number and wait until it is called. Counter three is open.'));

    // nobody watches any session
    await sleep(1000);
    const uq = await window(ts, ids, QUIET_MS);
    const allSpeak = speakers(ts, ids, clip);
    await sleep(1000);
    const us = await window(ts, ids, SPEAK_MS);
    await allSpeak.stop();
    const unwatchedQuietCpu = uq.cpu / ids.length;
    const unwatchedSpeakCpu = us.cpu / ids.length;
    console.log(`${max} sessions nobody watches: ${uq.cpu.toFixed(3)} cores quiet (${(100 * unwatchedQuietCpu).toFixed(1)} % of a core each), ${us.cpu.toFixed(3)} speaking (${(100 * unwatchedSpeakCpu).toFixed(1)} % each, the HTTP posts and resampling included); frames sent: ${Math.max(...uq.fps, ...us.fps).toFixed(1)}/s at most`);

    // lip sync at the publisher with one session watched and speaking (the baseline of the loaded figure below)
    viewers.set(ids[0]!, await viewer(ts, ids[0]!));
    await sleep(1500);
    const syncOne = await serverSync(ts, ids.slice(0, 1), clip);
    const steps: EdgeStep[] = [];
    console.log(`${'N'.padStart(3)}  ${'quiet: min fps'.padStart(15)}  ${'cores'.padStart(6)}  ${'speaking: min fps'.padStart(18)}  ${'cores'.padStart(6)}  ${'sfu'.padStart(5)}  holds`);
    for (let n = 1; n <= max; n++) {
      const watched = ids.slice(0, n);
      if (!viewers.has(ids[n - 1]!)) viewers.set(ids[n - 1]!, await viewer(ts, ids[n - 1]!));
      await sleep(1500);
      const q = await window(ts, watched, QUIET_MS);
      const talk = speakers(ts, watched, clip);
      await sleep(1000);
      const s = await window(ts, watched, SPEAK_MS);
      await talk.stop();
      const holds = Math.min(...q.fps, ...s.fps) >= HOLD_FPS;
      steps.push({ sessions: n, quietFps: q.fps, speakFps: s.fps, quietCpu: q.cpu, speakCpu: s.cpu, sfuCpu: s.sfu, holds });
      console.log(`${String(n).padStart(3)}  ${Math.min(...q.fps).toFixed(1).padStart(15)}  ${q.cpu.toFixed(2).padStart(6)}  ${Math.min(...s.fps).toFixed(1).padStart(18)}  ${s.cpu.toFixed(2).padStart(6)}  ${s.sfu.toFixed(2).padStart(5)}  ${holds ? 'yes' : 'no'}`);
    }
    let held = 0;
    for (const st of steps) if (st.holds) held = st.sessions;

    // spot checks: two real kiosks at the largest N that held (at least 2)
    const at = Math.max(2, held);
    for (const id of ids.slice(at)) {
      viewers.get(id)?.close();
      viewers.delete(id);
    }
    await sleep(1000);
    const loaded = await serverSync(ts, ids.slice(0, at), clip);
    const spot = await spotCheck(ts, ids.slice(0, at), viewers, clip);
    return { steps, memoryPerSessionMB, unwatchedQuietCpu, unwatchedSpeakCpu, held, spot: { sessions: at, ...spot }, serverSync: { one: syncOne, loaded, sessions: at } };
  } finally {
    for (const v of viewers.values()) v.close();
    await ts.server.close();
  }
}

async function spotCheck(ts: TestServer, watched: string[], viewers: Map<string, Socket>, clip: { samples: Float32Array; sampleRate: number }) {
  const browser = await launchChromium();
  try {
    const cfg = ts.config;
    const portrait = await enrolPortrait(DEFAULT_PORTRAIT, enrolOptions(cfg.avatar, cfg.runtime.cache_dir));
    const pages: Page[] = [];
    for (const id of watched.slice(0, 2)) {
      pages.push(await openKiosk(browser, ts.server.kioskUrl(id), 30_000));
      viewers.get(id)?.close(); // the page watches it now
    }
    const settled = await Promise.all(pages.map((p) => waitAudioSettled(p, 15_000)));
    // decoded fps over 6 s with every watched session speaking
    const talk = speakers(ts, watched, clip);
    await sleep(1000);
    const a = await Promise.all(pages.map(inboundStats));
    const srv = window(ts, watched, 6000);
    await sleep(6000);
    const b = await Promise.all(pages.map(inboundStats));
    const server = await srv;
    await talk.stop();
    const decodedFps = b.map((x, i) => (x.framesDecoded - a[i]!.framesDecoded) / 6);
    // speech posted -> mouth opening on the first kiosk's screen (bursts, the others quiet)
    const page = pages[0]!;
    await installProbe(page, mouthBox(portrait));
    await sleep(800);
    const restLuma = median((await readProbe(page)).frames.map((f) => f.luma));
    const origin = await pageTimeOrigin(page);
    const token = ts.server.auth.mint(watched[0]!, 'source', 3600);
    const one = speechBursts(1, 0.5, 0);
    const since = await pageNow(page);
    const sent: number[] = [];
    for (let i = 0; i < 6; i++) {
      await sleep(900 + Math.random() * 400);
      sent.push(Date.now() - origin);
      await uploadSpeech(ts.server.url, token, one.samples, one.sampleRate, watched[0]!);
    }
    await sleep(1500);
    const rec = await readProbe(page, since);
    const open = mouthOpening(rec.frames, restLuma);
    const peak = Math.max(...open.map((o) => o.open));
    const mouthOn = onsets(open.map((o) => ({ t: o.t, v: o.open })), 0.3 * peak, 0.12 * peak, 300);
    const speechToMouthMs: number[] = [];
    for (const t of sent) {
      const m = mouthOn.find((x) => x >= t && x < t + 800);
      if (m !== undefined) speechToMouthMs.push(m - t);
    }
    console.log(`  spot check probe: ${rec.frames.length} frames shown, mouth peak ${peak.toFixed(1)} luma levels, ${mouthOn.length} mouth onsets for ${sent.length} bursts; first lags ${sent.map((t) => ((mouthOn.find((x) => x >= t) ?? NaN) - t).toFixed(0)).join(', ')} ms`);
    return {
      decodedFps,
      syncEstimateMs: settled.map((s) => s.syncEstimateMs),
      speechToMouthMs,
      serverMinFps: Math.min(...server.fps),
      browserNote: 'two headless Chromium kiosks on these 2 cores',
    };
  } finally {
    await browser.close();
  }
}

export function printEdge(r: EdgeResult, log = console.log): Record<string, unknown> {
  log(`memory: +${r.memoryPerSessionMB.toFixed(0)} MB RSS per session`);
  if (r.spot) {
    const s = r.spot;
    log(
      `spot check at ${s.sessions} sessions (${s.browserNote}): decoded ${s.decodedFps.map((x) => x.toFixed(1)).join(' and ')} fps; ` +
        `browser lip-sync estimate (video - audio playout) ${s.syncEstimateMs.map((x) => x.toFixed(0)).join(' and ')} ms; ` +
        `speech posted -> mouth on screen ${s.speechToMouthMs.map((x) => x.toFixed(0)).join(', ')} ms (p50 ${median(s.speechToMouthMs).toFixed(0)}); server min ${s.serverMinFps.toFixed(1)} fps meanwhile`,
    );
  }
  if (r.serverSync) {
    const { one, loaded, sessions } = r.serverSync;
    const f = (xs: number[]) => `${xs.map((x) => x.toFixed(0)).join(', ')} ms (p50 ${median(xs).toFixed(0)})`;
    log(`lip sync at the publisher (mouth-opening frame - audio onset handed over; no browsers): 1 session ${f(one)}; ${sessions} sessions, all speaking: ${f(loaded)}`);
  }
  log(`edge: ${r.held} sessions at >= ${HOLD_FPS} fps`);
  return { ...r, steps: r.steps.map((s) => ({ ...s, quietFps: s.quietFps.map((x) => Math.round(x * 10) / 10), speakFps: s.speakFps.map((x) => Math.round(x * 10) / 10) })) };
}

export function edgeSectionTitle(): void {
  section('13. one edge box: sessions at >= 24 fps each, watched and not (issue 14)');
}
