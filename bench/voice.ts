/**
 * say -> first mouth movement in a kiosk (headless Chromium, SFU path, real portrait engine), for
 * each TTS provider, all on this machine:
 *   upstream         the loopback stand-in service (test/helpers/stand-in-tts.ts: espeak-ng en-gb,
 *                    streamed in 4 pieces): the server's own cost around an upstream that answers
 *                    at once; a real service adds its time to first audio;
 *   local            espeak-ng, with the upstream down (refused connections: no waiting);
 *   failover (hang)  the upstream accepts the request and never answers: the watchdog's timeout
 *                    (voice.upstream.timeout_ms) then espeak-ng.
 * Each figure splits into: say -> the sentence's audio handed to the session (synthesis), and
 * say -> the mouth visibly opening on the kiosk's screen (requestVideoFrameCallback).
 */
import type { Page } from 'playwright-core';
import { DEFAULT_PORTRAIT } from '../config/schema.js';
import { enrolPortrait } from '../models/face/enrol.js';
import type { SentenceRecord } from '../server/voice/say-queue.js';
import { StandInTts } from '../test/helpers/stand-in-tts.js';
import { startTestServer, type TestServer } from '../test/helpers/test-server.js';
import { mouthBox } from '../test/helpers/video-measures.js';
import { launchChromium, openKiosk } from '../test/kiosk/browser.js';
import { installProbe, median, mouthOpening, pageTimeOrigin, readProbe } from '../test/kiosk/probe.js';
import { summarise, type Summary } from './common.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const TEXT = 'Hello, welcome to the service hall.';

export interface SayLatency {
  provider: 'upstream' | 'local' | 'failover (hang)';
  /** say -> the sentence handed to the session, ms */
  synth: Summary;
  /** say -> mouth opening on screen, ms */
  mouth: Summary;
  /** providers that actually spoke (should all be the one named, failover: local) */
  spokenBy: string[];
}

async function until(cond: () => boolean | Promise<boolean>, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`bench: condition not reached in ${ms} ms`);
    await sleep(25);
  }
}

export async function benchSayToMouth(trials = 6): Promise<SayLatency[]> {
  const upstream = new StandInTts({ pieces: 4, pieceGapMs: 10 });
  await upstream.start();
  let ts: TestServer | undefined;
  const browser = await launchChromium();
  try {
    ts = await startTestServer({ mode: 'sfu', rtcBase: 44000, config: { voice: { upstream: { url: upstream.url, timeout_ms: 700, probe_interval_ms: 250 } } } });
    const server = ts.server;
    const cfg = ts.config;
    const portrait = await enrolPortrait(DEFAULT_PORTRAIT, { minResolution: cfg.avatar.min_resolution, expandRatio: cfg.avatar.expand_ratio, cacheDir: cfg.runtime.cache_dir });
    const page: Page = await openKiosk(browser, server.kioskUrl('default'));
    await installProbe(page, mouthBox(portrait));
    await sleep(1500);
    const restLuma = median((await readProbe(page)).frames.map((f) => f.luma));
    const origin = await pageTimeOrigin(page);
    const session = server.sessions.require('default');
    const records: SentenceRecord[] = [];
    session.sayQueue.on('sentence', (r) => records.push(r));
    const token = server.auth.mint('default', 'source', 3600);

    /** one say: [ms to the session, ms to the mouth on screen, provider] */
    const once = async (): Promise<[number, number | undefined, string]> => {
      const n = records.length;
      const sent = Date.now() - origin;
      const res = await fetch(`${server.url}/api/sessions/default/say`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify({ text: TEXT }) });
      if (!res.ok) throw new Error(`say refused: ${res.status} ${await res.text()}`);
      await until(() => records.length > n, 5000);
      await sleep(2200);
      const open = mouthOpening((await readProbe(page, sent - 200)).frames, restLuma).filter((o) => o.t >= sent);
      const peak = Math.max(0, ...open.map((o) => o.open));
      const onset = peak >= 4 ? open.find((o) => o.open >= 0.3 * peak)?.t : undefined;
      await sleep(800 + Math.random() * 400); // back at rest, at a random phase
      return [records[n]!.sinceSayMs, onset === undefined ? undefined : onset - sent, records[n]!.provider];
    };
    const run = async (provider: SayLatency['provider'], before?: () => Promise<void>): Promise<SayLatency> => {
      const synth: number[] = [];
      const mouth: number[] = [];
      const by = new Set<string>();
      for (let i = 0; i < trials; i++) {
        await before?.();
        const [s, m, p] = await once();
        synth.push(s);
        if (m !== undefined) mouth.push(m);
        by.add(p);
      }
      return { provider, synth: summarise(synth), mouth: summarise(mouth), spokenBy: [...by] };
    };

    const out: SayLatency[] = [];
    await once(); // warm-up: the first synthesis and the kiosk's first speech
    out.push(await run('upstream'));
    await upstream.stop();
    await once(); // the refused connection switches to local
    out.push(await run('local'));
    await upstream.start();
    out.push(
      await run('failover (hang)', async () => {
        upstream.hang = false;
        await until(() => server.tts.active === 'upstream', 10_000);
        upstream.hang = true;
      }),
    );
    return out;
  } finally {
    await browser.close();
    await ts?.server.close();
    await upstream.stop();
  }
}

export function printSayLatency(rows: SayLatency[], timeoutMs = 700, log = console.log): void {
  const s = (x: Summary) => `p50 ${x.p50.toFixed(0).padStart(5)}  p95 ${x.p95.toFixed(0).padStart(5)}  max ${x.max.toFixed(0).padStart(5)}  (n ${x.n})`;
  for (const r of rows) {
    log(`${r.provider.padEnd(16)} say -> audio to the session  ${s(r.synth)} ms`);
    log(`${''.padEnd(16)} say -> mouth moves on screen  ${s(r.mouth)} ms   spoken by: ${r.spokenBy.join(', ')}`);
  }
  const fo = rows.find((r) => r.provider === 'failover (hang)');
  if (fo) log(`failover budget: the switch must happen within 1 s: say -> audio ${fo.synth.max.toFixed(0)} ms max (timeout ${timeoutMs} ms + local synthesis): ${fo.synth.max <= 1000 ? 'PASS' : 'FAIL'}`);
}

// npx tsx bench/voice.ts
if (process.argv[1]?.endsWith('voice.ts')) {
  benchSayToMouth().then(
    (rows) => {
      printSayLatency(rows);
      process.exit(0);
    },
    (e) => {
      console.error(e);
      process.exit(1);
    },
  );
}
