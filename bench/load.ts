/**
 * 11. Load and soak (`npm run bench -- --only load [--kiosks 1,2,4,6] [--soak-minutes 30] [--soak-kiosks 4]`).
 *
 * Load: N headless kiosks on one session of the default (portrait) engine over the SFU, the avatar
 * speaking (a sentence through say() every 4 s); per kiosk, the frames decoded per second over 8 s
 * and the browser's own estimate of video minus audio playout (estimatedPlayoutTimestamp). A kiosk
 * "holds" when it decodes >= 24 fps with |A/V| <= 45 ms. The browsers run on this machine too, so
 * on site (each kiosk its own device) the server holds more than this says.
 *
 * Soak: K kiosks for M minutes, the same speech; the server's RSS and heap (this process: the
 * server runs in it) and the mediasoup worker's RSS every 30 s after a GC; growth as a least-squares
 * slope, in MB per hour and per kiosk-hour.
 */
import { readdirSync, readFileSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { startTestServer } from '../test/helpers/test-server.js';
import { currentJitter, inboundStats, launchChromium, openKiosk, waitAudioSettled } from '../test/kiosk/browser.js';
import { f, MB, r2, section, slope } from './common.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const SENTENCES = ['Welcome to the service hall.', 'Please take a number and wait until it is called.', 'The counters on the left are open until five.'];

export interface LoadStep {
  kiosks: number;
  fps: number[];
  syncMs: number[];
  holding: number;
}

/** Speech every 4 s through the HTTP say route (the local TTS), until stop() */
function speaker(url: string, token: string): { stop(): void } {
  let i = 0;
  const timer = setInterval(() => {
    void fetch(`${url}/api/sessions/default/say`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'text/plain' }, body: SENTENCES[i++ % SENTENCES.length] }).catch(() => undefined);
  }, 4000);
  return { stop: () => clearInterval(timer) };
}

export async function benchLoad(steps: number[]): Promise<LoadStep[]> {
  const ts = await startTestServer({ mode: 'sfu', rtcBase: 44400 });
  const browser = await launchChromium();
  const talk = speaker(ts.server.url, ts.server.auth.mint('default', 'source', 3600));
  const out: LoadStep[] = [];
  try {
    const pages: Page[] = [];
    for (const n of steps) {
      const fresh: Page[] = [];
      while (pages.length < n) {
        const p = await openKiosk(browser, ts.server.kioskUrl('default'));
        pages.push(p);
        fresh.push(p);
      }
      // a kiosk that just joined drains what reached it while starting: measure once playout has settled
      await Promise.all(fresh.map((p) => waitAudioSettled(p, 20_000)));
      const a = await Promise.all(pages.map(inboundStats));
      const t0 = performance.now();
      await sleep(8000);
      const b = await Promise.all(pages.map(inboundStats));
      const secs = (performance.now() - t0) / 1000;
      const fps = b.map((s, i) => (s.framesDecoded - a[i]!.framesDecoded) / secs);
      const syncMs = (await Promise.all(pages.map((p) => currentJitter(p, 500)))).map((j) => j.syncEstimate);
      const holding = fps.filter((x, i) => x >= 24 && Math.abs(syncMs[i]!) <= 45).length;
      out.push({ kiosks: n, fps, syncMs, holding });
    }
    return out;
  } finally {
    talk.stop();
    await browser.close();
    await ts.server.close();
  }
}

export interface SoakResult {
  kiosks: number;
  minutes: number;
  samples: { min: number; rssMB: number; heapMB: number; workerMB: number; minFps: number }[];
  rssMBPerHour: number;
  heapMBPerHour: number;
  workerMBPerHour: number;
}

export async function benchSoak(kiosks: number, minutes: number, gc?: () => void, onSample?: (s: SoakResult['samples'][number]) => void): Promise<SoakResult> {
  const ts = await startTestServer({ mode: 'sfu', rtcBase: 44400 });
  const browser = await launchChromium();
  const talk = speaker(ts.server.url, ts.server.auth.mint('default', 'source', 86_400));
  const samples: SoakResult['samples'] = [];
  try {
    const pages: Page[] = [];
    while (pages.length < kiosks) pages.push(await openKiosk(browser, ts.server.kioskUrl('default')));
    const t0 = performance.now();
    let prev = await Promise.all(pages.map(inboundStats));
    let tPrev = performance.now();
    while (performance.now() - t0 < minutes * 60_000) {
      await sleep(Math.min(30_000, Math.max(0, minutes * 60_000 - (performance.now() - t0))));
      gc?.();
      const now = await Promise.all(pages.map(inboundStats));
      const secs = (performance.now() - tPrev) / 1000;
      const fps = now.map((s, i) => (s.framesDecoded - prev[i]!.framesDecoded) / secs);
      prev = now;
      tPrev = performance.now();
      const m = process.memoryUsage();
      const s = { min: (performance.now() - t0) / 60_000, rssMB: MB(m.rss), heapMB: MB(m.heapUsed), workerMB: workerRssMB(), minFps: Math.min(...fps) };
      samples.push(s);
      onSample?.(s);
    }
    // growth from the second sample on (the first minutes fill caches and buffers)
    const used = samples.length > 3 ? samples.slice(1) : samples;
    const perHour = (k: 'rssMB' | 'heapMB' | 'workerMB') => slope(used.map((x) => x.min), used.map((x) => x[k])) * 60;
    return { kiosks, minutes, samples, rssMBPerHour: perHour('rssMB'), heapMBPerHour: perHour('heapMB'), workerMBPerHour: perHour('workerMB') };
  } finally {
    talk.stop();
    await browser.close();
    await ts.server.close();
  }
}

/** RSS of this process's mediasoup worker(s), MB. */
function workerRssMB(): number {
  let kb = 0;
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      if (!stat.includes('(mediasoup-worke)')) continue;
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) !== process.pid) continue;
      const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
      kb += Number(m?.[1] ?? 0);
    } catch {
      /* gone */
    }
  }
  return kb / 1024;
}

export function printLoad(steps: LoadStep[]): Record<string, unknown> {
  section('11. load: N kiosks on one session (sfu, portrait engine, speaking); hold = >= 24 fps and |A/V| <= 45 ms');
  console.log(`${'kiosks'.padStart(7)}${'holding'.padStart(9)}${'min fps'.padStart(9)}${'max |A/V| ms'.padStart(14)}   per kiosk fps / A/V ms`);
  for (const s of steps) {
    const worst = Math.max(...s.syncMs.map((x) => (Number.isFinite(x) ? Math.abs(x) : Infinity)));
    console.log(`${String(s.kiosks).padStart(7)}${String(s.holding).padStart(9)}${f(Math.min(...s.fps), 9, 1)}${f(worst, 14, 0)}   ${s.fps.map((x, i) => `${x.toFixed(1)}/${Number.isFinite(s.syncMs[i]!) ? s.syncMs[i]!.toFixed(0) : '?'}`).join(' ')}`);
  }
  console.log('the browsers share this machine\'s cores with the server: on site each kiosk is its own device');
  return { steps: steps.map((s) => ({ kiosks: s.kiosks, holding: s.holding, fps: s.fps.map(r2), syncMs: s.syncMs.map((x) => (Number.isFinite(x) ? r2(x) : null)) })) };
}

export function printSoak(r: SoakResult): Record<string, unknown> {
  section(`11b. soak: ${r.kiosks} kiosks for ${r.minutes} min (speaking every 4 s); memory after GC, MB`);
  const perKioskHour = (x: number) => x / r.kiosks;
  console.log(`growth: server rss ${f(r.rssMBPerHour, 7, 1)} MB/h = ${perKioskHour(r.rssMBPerHour).toFixed(1)} MB per kiosk-hour; heap ${r.heapMBPerHour.toFixed(1)} MB/h; mediasoup worker ${r.workerMBPerHour.toFixed(1)} MB/h = ${perKioskHour(r.workerMBPerHour).toFixed(2)} MB per kiosk-hour`);
  console.log(`min fps over the run: ${Math.min(...r.samples.map((s) => s.minFps)).toFixed(1)}`);
  return { kiosks: r.kiosks, minutes: r.minutes, rssMBPerHour: r2(r.rssMBPerHour), heapMBPerHour: r2(r.heapMBPerHour), workerMBPerHour: r2(r.workerMBPerHour), rssMBPerKioskHour: r2(perKioskHour(r.rssMBPerHour)), samples: r.samples.map((s) => [r2(s.min), r2(s.rssMB), r2(s.heapMB), r2(s.workerMB), r2(s.minFps)]) };
}
