/**
 * 12. The outside probe's loads (issue 19) on a server running two sessions (`--only probe`): each
 * load aims at session "default" or at the server, while session "other" speaks; the other
 * session's fps sent (over the last 2 s, sampled every 250 ms) must hold >= 24 throughout. The
 * socket.io and upload loads run in a process of their own (bench/probe-attacker.ts), as the
 * prober did; the jobs are the server's own renders.
 *
 *   2   40 parallel 16 MiB audio uploads without a credential, again and again
 *   3   a kiosk token sending ~190 interrupts a second
 *   5   50 microphones (/audio connections, each its own host token) sending 200 ms chunks
 *   10  9 batch jobs queued, 2 rendering at once (jobs.concurrency 2)
 *   6   1000 connection attempts to socket.io's default namespace from one address
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { DEFAULT_PORTRAIT } from '../config/schema.js';
import type { Role } from '../server/auth/tokens.js';
import { startTestServer, type TestServer } from '../test/helpers/test-server.js';
import { speakWav } from '../test/helpers/speech.js';
import { f, passFail, r2, section } from './common.js';

const SECONDS = 8;
const TARGET_FPS = 24;

export interface ProbeRow {
  load: string;
  minFps: number;
  meanFps: number;
  samples: number;
  note: string;
}

const tokenOf = (ts: TestServer, session: string, role: Role) => ts.server.auth.mint(session, role, 3600);

/** a load in a process of its own (bench/probe-attacker.ts): its note */
function attacker(load: string, url: string, until: number, token?: string): Promise<string> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('./probe-attacker.ts', import.meta.url)), load, url, String(until), ...(token ? [token] : [])], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.on('close', () => {
      try {
        resolve((JSON.parse(out.trim().split('\n').pop() ?? '{}') as { note?: string }).note ?? out);
      } catch {
        resolve(`no answer (${out.slice(0, 80)})`);
      }
    });
  });
}

/**
 * the other session's fps while `load` runs for SECONDS: fps over the last 2 s, sampled every
 * 250 ms from 2 s in, so each sample's window lies within the load (not across the one before)
 */
async function measure(ts: TestServer, name: string, load: (until: number) => Promise<string>): Promise<ProbeRow> {
  const other = ts.server.sessions.get('other')!;
  const fps: number[] = [];
  const until = Date.now() + SECONDS * 1000;
  const sampler = setInterval(() => fps.push(other.stats().media.fps), 250);
  let note: string;
  try {
    note = await load(until);
    while (Date.now() < until) await new Promise((r) => setTimeout(r, 100));
  } finally {
    clearInterval(sampler);
  }
  const settled = fps.slice(8);
  return { load: name, minFps: Math.min(...settled), meanFps: settled.reduce((a, b) => a + b, 0) / settled.length, samples: settled.length, note };
}

export async function benchProbe(): Promise<ProbeRow[]> {
  const ts = await startTestServer({
    mode: 'sfu',
    rtcBase: 52000,
    config: {
      sessions: [{ id: 'default', portrait: DEFAULT_PORTRAIT }, { id: 'other', portrait: DEFAULT_PORTRAIT }],
      jobs: { concurrency: 2 },
      server: { trust_proxy: ['127.0.0.1'] },
    },
  });
  const url = ts.server.url;
  const source = tokenOf(ts, 'other', 'source');
  // the other session speaks all along
  const speaking = setInterval(() => {
    void fetch(`${url}/api/sessions/other/say`, { method: 'POST', headers: { authorization: `Bearer ${source}`, 'content-type': 'text/plain' }, body: 'Please take a number and wait until it is called.' }).catch(() => undefined);
  }, 2500);
  const rows: ProbeRow[] = [];
  try {
    await new Promise((r) => setTimeout(r, 3000));
    rows.push(await measure(ts, 'none (baseline)', async () => ''));

    rows.push(await measure(ts, '2: 40 x 16 MiB uploads, no credential', (until) => attacker('uploads', url, until)));
    rows.push(await measure(ts, '3: ~190 interrupts a second', (until) => attacker('interrupts', url, until, tokenOf(ts, 'default', 'kiosk'))));
    const hosts = Array.from({ length: 50 }, () => tokenOf(ts, 'default', 'host')).join(',');
    rows.push(await measure(ts, '5: 50 microphones', (until) => attacker('microphones', url, until, hosts)));

    rows.push(
      await measure(ts, '10: 9 batch jobs (2 rendering)', async () => {
        const author = tokenOf(ts, 'default', 'author');
        const wav = speakWav('Water evaporates from the sea, forms clouds, and falls again as rain. '.repeat(3));
        const portrait = readFileSync(DEFAULT_PORTRAIT);
        let accepted = 0;
        for (let i = 0; i < 9; i++) {
          const form = new FormData();
          form.append('portrait', new Blob([new Uint8Array(portrait)], { type: 'image/png' }), 'portrait.png');
          form.append('audio', new Blob([new Uint8Array(wav)], { type: 'audio/wav' }), 'speech.wav');
          const res = await fetch(`${url}/api/jobs`, { method: 'POST', headers: { authorization: `Bearer ${author}`, 'x-forwarded-for': '10.66.0.10' }, body: form });
          if (res.status === 202) accepted += 1;
        }
        return `${accepted} queued, renders at nice ${ts.config.jobs.render_nice}${ts.config.jobs.render_idle ? ' under SCHED_IDLE' : ''}`;
      }),
    );

    rows.push(await measure(ts, '6: 1000 connections to "/"', (until) => attacker('root', url, until)));
  } finally {
    clearInterval(speaking);
    await ts.server.close();
  }
  return rows;
}

export function printProbe(rows: ProbeRow[]): Record<string, unknown> {
  section(`12. the outside probe's loads (issue 19): the other session's fps sent, ${SECONDS} s each, target >= ${TARGET_FPS} throughout`);
  console.log(`${'load'.padEnd(40)}${'min fps'.padStart(9)}${'mean fps'.padStart(10)}  result  note`);
  for (const r of rows) console.log(`${r.load.padEnd(40)}${f(r.minFps, 9)}${f(r.meanFps, 10)}  ${passFail(r.minFps >= TARGET_FPS).padEnd(6)}  ${r.note}`);
  return { target: TARGET_FPS, rows: rows.map((r) => ({ ...r, minFps: r2(r.minFps), meanFps: r2(r.meanFps) })) };
}
