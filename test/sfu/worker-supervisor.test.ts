/**
 * The worker supervisor with real mediasoup worker processes: a killed worker is replaced at once;
 * when the replacement cannot start (its binary is gone), it retries with back-off and succeeds as
 * soon as the binary is back.
 */
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { workerBinaryPath } from '../../server/media/mediasoup-worker.js';
import { WorkerSupervisor } from '../../server/media/worker-supervisor.js';

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
});
