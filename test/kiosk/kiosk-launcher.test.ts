/**
 * The kiosk machine's launcher with the real Chromium (headless here) against a real server: the
 * browser joins the session; when it is killed (a crash), the launcher starts it again and the
 * kiosk joins again without a touch.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/test-server.js';
import { CHROMIUM, CHROMIUM_ARGS } from './browser.js';

const root = new URL('../..', import.meta.url).pathname;
let ts: TestServer | undefined;
let launcher: ChildProcess | undefined;

afterAll(async () => {
  launcher?.kill('SIGTERM');
  await ts?.server.close();
});

/** pids of the browser's main process (the one started with our profile, not its helpers) */
function browserPids(profile: string): number[] {
  try {
    return execFileSync('pgrep', ['-f', '--', `--user-data-dir=${profile}`], { encoding: 'utf8' })
      .trim()
      .split('\n')
      .map(Number)
      .filter((pid) => {
        const cmd = execFileSync('ps', ['-o', 'args=', '-p', String(pid)], { encoding: 'utf8' });
        return !cmd.includes('--type=');
      });
  } catch {
    return [];
  }
}

describe('kiosk launcher with Chromium', () => {
  it('the kiosk joins; after its browser is killed the launcher starts it again and it joins again', async () => {
    ts = await startTestServer({ mode: 'sfu', rtcBase: 49200 });
    const session = ts.server.sessions.require('default');
    const profile = join(mkdtempSync(join(tmpdir(), 'kiosk-launcher-')), 'profile');
    launcher = spawn('bash', [join(root, 'deploy/kiosk/kiosk-launcher.sh')], {
      env: {
        PATH: process.env.PATH,
        HOME: tmpdir(),
        KIOSK_URL: ts.server.kioskUrl('default'),
        KIOSK_BROWSER: CHROMIUM,
        KIOSK_PROFILE: profile,
        // headless on this machine; a kiosk machine runs it on its display
        KIOSK_EXTRA_FLAGS: ['--headless=new', ...CHROMIUM_ARGS].join(' '),
      },
      stdio: 'ignore',
    });
    await expect.poll(() => session.stats().kiosks, { timeout: 30_000, interval: 250 }).toBe(1);
    const [pid] = browserPids(profile);
    expect(pid).toBeGreaterThan(0);
    process.kill(pid!, 'SIGKILL');
    await expect.poll(() => session.stats().kiosks, { timeout: 15_000, interval: 100 }).toBe(0);
    await expect.poll(() => session.stats().kiosks, { timeout: 30_000, interval: 250 }).toBe(1);
    expect(browserPids(profile)[0]).not.toBe(pid);
  }, 90_000);
});
