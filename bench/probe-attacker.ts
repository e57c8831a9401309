/**
 * The loads of bench section 12 (bench/probe.ts), run in a process of their own as the prober ran
 * on its own (its CPU and event loop are not the server's). Each comes from an address of its own
 * through X-Forwarded-For (the bench server trusts 127.0.0.1 as a proxy).
 *
 *   node --import tsx bench/probe-attacker.ts <load> <server url> <until (ms since epoch)> [token]
 *
 * Prints one JSON line { note } at the end.
 */
import { request as httpRequest } from 'node:http';
import type { Socket } from 'socket.io-client';
import { tryConnect } from '../test/helpers/socket-connect.js';

const [load, url, untilText, token] = process.argv.slice(2) as [string, string, string, string | undefined];
const until = Number(untilText);

const connect = async (ns: string, auth: Record<string, unknown>, from: string): Promise<Socket | undefined> =>
  (await tryConnect(url, ns, auth, { forceNew: true, headers: { 'x-forwarded-for': from } })).socket;

/**
 * 40 uploads at once, each a fresh connection sending 16 MiB without a credential, again and again.
 * node:http with one shared body buffer (fetch copied each body: the prober's own CPU and 2 GB of
 * memory then competed with the server on this box); each stops when the server answers.
 */
async function uploads(): Promise<string> {
  const body = Buffer.alloc(16 << 20);
  const target = new URL('/api/sessions/default/audio', url);
  let refused = 0;
  let other = 0;
  const once = () =>
    new Promise<void>((resolve) => {
      const req = httpRequest(target, { method: 'POST', agent: false, headers: { 'content-type': 'audio/wav', 'content-length': body.length, 'x-forwarded-for': '10.66.0.2' } }, (res) => {
        if (res.statusCode === 401 || res.statusCode === 429) refused += 1;
        else other += 1;
        res.resume();
        res.on('end', () => req.destroy());
      });
      req.on('error', () => undefined);
      req.on('close', () => resolve());
      req.end(body);
    });
  await Promise.all(
    Array.from({ length: 40 }, async () => {
      while (Date.now() < until) await once();
    }),
  );
  return `${refused} refused${other ? `, ${other} other answers` : ''}`;
}

async function interrupts(): Promise<string> {
  const s = await connect('/kiosk', { token }, '10.66.0.3');
  let ok = 0;
  let limited = 0;
  while (Date.now() < until && s) {
    for (let i = 0; i < 19; i++) s.emit('interrupt', {}, (r: { ok: boolean }) => (r.ok ? ok++ : limited++));
    await new Promise((r) => setTimeout(r, 100));
  }
  s?.close();
  return `${ok} accepted, ${limited} refused`;
}

async function microphones(): Promise<string> {
  const tokens = (token ?? '').split(',');
  const pcm = Buffer.from(new Int16Array(3200).map((_, i) => Math.round(4000 * Math.sin(i / 9))).buffer);
  const mics = (await Promise.all(tokens.map((t) => connect('/audio', { token: t }, '10.66.0.5')))).filter((m): m is Socket => m !== undefined);
  const heard = new Set<Socket>();
  let refused = 0;
  while (Date.now() < until) {
    for (const m of mics) m.emit('mic', { encoding: 's16le', sampleRate: 16_000, channels: 1 }, pcm, (r: { ok: boolean }) => (r.ok ? heard.add(m) : refused++));
    await new Promise((r) => setTimeout(r, 200));
  }
  for (const m of mics) m.close();
  return `${mics.length} connected, ${heard.size} heard, ${refused} chunks refused`;
}

async function rootNamespace(): Promise<string> {
  let refused = 0;
  for (let i = 0; i < 1000 && Date.now() < until; i += 50) {
    const batch = await Promise.all(Array.from({ length: 50 }, () => connect('/', {}, '10.66.0.6')));
    refused += batch.filter((b) => !b).length;
    for (const b of batch) b?.close();
  }
  return `${refused} of 1000 refused`;
}

const loads: Record<string, () => Promise<string>> = { uploads, interrupts, microphones, root: rootNamespace };
const run = loads[load];
if (!run) {
  console.error(`probe-attacker: unknown load ${load} (${Object.keys(loads).join(', ')})`);
  process.exit(2);
}
run().then(
  (note) => {
    const cpu = process.cpuUsage();
    console.log(JSON.stringify({ note: `${note}; the prober took ${((cpu.user + cpu.system) / 1e6).toFixed(1)} CPU s` }));
    process.exit(0);
  },
  (e: Error) => {
    console.log(JSON.stringify({ note: `failed: ${e.message}` }));
    process.exit(1);
  },
);
