/** Child processes for tests that need more than this one: free ports, start-until-ready, Redis. */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

/**
 * Starts a process (in the project root) and resolves when a line of its output matches `ready`;
 * rejects with its last output when it exits first or takes longer than `timeoutMs`.
 */
export function startUntil(cmd: string, args: string[], ready: RegExp, what: string, timeoutMs = 30_000): Promise<{ proc: ChildProcess; line: string }> {
  return new Promise((resolve, reject) => {
    const proc = spawn(cmd, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const timer = setTimeout(() => reject(new Error(`${what} did not start in ${timeoutMs / 1000} s:\n${out.slice(-2000)}`)), timeoutMs);
    const onData = (b: Buffer) => {
      out += b.toString();
      const line = out.split('\n').find((l) => ready.test(l));
      if (line) {
        clearTimeout(timer);
        resolve({ proc, line });
      }
    };
    proc.stdout!.on('data', onData);
    proc.stderr!.on('data', onData);
    proc.once('error', (e) => {
      clearTimeout(timer);
      reject(new Error(`${what}: ${e.message}`));
    });
    proc.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${what} exited with ${code}:\n${out.slice(-2000)}`));
    });
  });
}

/** Debian's redis-server on a loopback port (default: a free one), saving nothing; returns it and its URL. */
export async function startRedis(dir: string, port?: number): Promise<{ proc: ChildProcess; url: string }> {
  if (!existsSync('/usr/bin/redis-server')) throw new Error('redis-server is not installed: apt-get install -y redis-server (bash deploy/setup.sh does it)');
  port ??= await freePort();
  const { proc } = await startUntil('/usr/bin/redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], /Ready to accept connections/, 'redis-server');
  return { proc, url: `redis://127.0.0.1:${port}` };
}

/** The pids of `parent`'s child processes whose command name starts with `name` (ps; names are cut to 15 characters). */
export function childPids(parent: number, name: string): number[] {
  let out = '';
  try {
    out = execFileSync('ps', ['-o', 'pid=,comm=', '--ppid', String(parent)], { encoding: 'utf8' });
  } catch {
    return []; // ps exits 1 when there is no child
  }
  return out
    .split('\n')
    .map((l) => l.trim().split(/\s+/))
    .filter(([pid, comm]) => pid && comm && name.startsWith(comm.slice(0, 15)))
    .map(([pid]) => Number(pid));
}
