/**
 * The worker supervisor with real mediasoup worker processes: a killed worker is replaced at once;
 * when the replacement cannot start (its binary is gone), it retries with back-off and succeeds as
 * soon as the binary is back; a worker stopped by a signal to the process group (code 0) is replaced
 * only after a wait, and a stopping server replaces nothing (npm start, SIGTERM to its group).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { workerBinaryPath } from '../../server/media/mediasoup-worker.js';
import { GRACEFUL_EXIT_WAIT_MS, WorkerSupervisor } from '../../server/media/worker-supervisor.js';

const ROOT = new URL('../..', import.meta.url).pathname;

const dir = mkdtempSync(join(tmpdir(), 'supervisor-'));
/** mediasoup takes its worker binary once per process: both tests use this link to it */
const link = join(dir, 'mediasoup-worker');
const supervisors: WorkerSupervisor[] = [];
afterAll(() => {
  for (const s of supervisors) s.close();
  rmSync(dir, { recursive: true, force: true });
});

/** the real binary, read before mediasoup loads (loading points MEDIASOUP_WORKER_BIN at the link) */
const REAL = workerBinaryPath();
function binary(): string {
  if (!REAL) throw new Error('no mediasoup worker binary: run bash deploy/setup.sh (it builds one into .cache/mediasoup-worker)');
  return REAL;
}

describe('mediasoup worker supervisor', () => {
  it('replaces a killed worker at once, with a new process', async () => {
    symlinkSync(binary(), link);
    const s = await WorkerSupervisor.start({ rtcMinPort: 47500, rtcMaxPort: 47550, binaryPath: link });
    supervisors.push(s);
    const first = s.worker.pid;
    const restarted = new Promise((r) => s.once('restarted', r));
    process.kill(first, 'SIGKILL');
    await restarted;
    expect(s.state).toBe('running');
    expect(s.restarts).toBe(1);
    expect(s.worker.pid).not.toBe(first);
    const router = await s.worker.createRouter({ mediaCodecs: [{ kind: 'audio', mimeType: 'audio/opus', clockRate: 48000, channels: 2 }] });
    expect(router.closed).toBe(false);
  });

  it('retries with back-off while a new worker cannot start, and recovers when it can', async () => {
    const s = await WorkerSupervisor.start({ rtcMinPort: 47600, rtcMaxPort: 47650, binaryPath: link });
    supervisors.push(s);
    const failures: number[] = [];
    s.on('restart-failed', (_e, retryMs) => {
      failures.push(retryMs);
      if (failures.length === 2) symlinkSync(binary(), link); // the binary is back
    });
    rmSync(link);
    const restarted = new Promise((r) => s.once('restarted', r));
    process.kill(s.worker.pid, 'SIGKILL');
    await expect.poll(() => s.state, { timeout: 2000 }).toBe('restarting');
    await restarted;
    expect(failures).toEqual([500, 1000]);
    expect(s.state).toBe('running');
    expect(s.restarts).toBe(1);
  });

  it('a worker that exits with code 0 (SIGTERM to the group) is replaced only after a wait; after stopping() nothing is replaced', async () => {
    const s = await WorkerSupervisor.start({ rtcMinPort: 47660, rtcMaxPort: 47699, binaryPath: link });
    supervisors.push(s);
    const died: string[] = [];
    s.on('died', (e) => died.push(e.message));
    const restarted = new Promise((r) => s.once('restarted', r));
    const t0 = performance.now();
    process.kill(s.worker.pid, 'SIGTERM');
    await restarted;
    expect(died[0]).toMatch(/code:0, signal:null/);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(GRACEFUL_EXIT_WAIT_MS - 50);
    // the server stops: the worker dies (a signal, a crash): nothing new starts
    s.stopping();
    const pid = s.worker.pid;
    process.kill(pid, 'SIGKILL');
    await new Promise((r) => setTimeout(r, GRACEFUL_EXIT_WAIT_MS + 500));
    expect(s.state).toBe('stopping');
    expect(s.worker.pid).toBe(pid);
    expect(s.restarts).toBe(1);
  });

  it('npm start stopped by SIGTERM to its process group (a service manager) exits 0 and starts no new worker', async () => {
    const file = join(dir, 'start.json');
    writeFileSync(
      file,
      JSON.stringify({
        server: { port: 0 },
        media: { mode: 'sfu', rtc_min_port: 52400, rtc_max_port: 52499 },
        auth: { secret_file: join(dir, 's'), admin_key_file: join(dir, 'k'), revoked_file: join(dir, 'r.json') },
        runtime: { cache_dir: join(dir, 'portraits'), sessions_dir: join(dir, 'sessions') },
        jobs: { dir: join(dir, 'jobs') },
      }),
    );
    // its own process group, as under systemd or a terminal's Ctrl-C
    const child = spawn(process.execPath, ['--import', 'tsx', 'server/main.ts', '--config', file], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], detached: true, env: { ...process.env, MEDIASOUP_WORKER_BIN: binary() } });
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.stderr.on('data', (b: Buffer) => (out += b.toString()));
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    try {
      await expect.poll(() => out, { timeout: 60_000, interval: 200 }).toMatch(/health: http/);
      expect(out).toMatch(/media path: sfu|"mode":"sfu"/);
      process.kill(-child.pid!, 'SIGTERM');
      expect(await exited).toBe(0);
    } finally {
      if (child.exitCode === null) process.kill(-child.pid!, 'SIGKILL');
    }
    expect(out).toMatch(/"msg":"stopping"/);
    expect(out).not.toMatch(/starting a new one|a new mediasoup worker runs/);
  }, 90_000);
});
