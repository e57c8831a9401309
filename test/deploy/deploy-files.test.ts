/**
 * The deployment files: the kiosk launcher restarts a browser that exits, with back-off, wiping its
 * profile each time; the systemd units pass systemd-analyze; the compose file parses and names the
 * images the Dockerfiles build. (Images are not built here: no Docker daemon on this machine.)
 */
import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { parseConfig } from '../../config/load.js';

const root = new URL('../..', import.meta.url).pathname;
const LAUNCHER = join(root, 'deploy/kiosk/kiosk-launcher.sh');

describe('deploy files', () => {
  it('the kiosk launcher starts the browser in kiosk mode on the URL and starts it again each time it exits, profile wiped', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'launcher-'));
    const log = join(dir, 'starts.log');
    const profile = join(dir, 'profile');
    // a browser that leaves a file in its profile and crashes at once
    const browser = join(dir, 'fake-browser');
    writeFileSync(browser, `#!/bin/sh\nls "${profile}" >> "${log}.profile" 2>/dev/null; mkdir -p "${profile}"; touch "${profile}/Crashpad"; echo "$@" >> "${log}"; exit 3\n`);
    chmodSync(browser, 0o755);
    const t0 = Date.now();
    const code = await new Promise<number | null>((resolve) => {
      const p = spawn('bash', [LAUNCHER], {
        env: { PATH: process.env.PATH, HOME: dir, KIOSK_URL: 'https://avatar.local:8080/kiosk/#token=abc', KIOSK_BROWSER: browser, KIOSK_PROFILE: profile, KIOSK_MAX_RESTARTS: '2' },
        stdio: 'ignore',
      });
      p.on('exit', resolve);
    });
    const starts = readFileSync(log, 'utf8').trim().split('\n');
    expect(code).toBe(1);
    expect(starts.length).toBe(3);
    for (const args of starts) {
      expect(args).toContain('--kiosk');
      expect(args).toContain('--app=https://avatar.local:8080/kiosk/#token=abc');
      expect(args).toContain('--autoplay-policy=no-user-gesture-required');
      expect(args).toContain(`--user-data-dir=${profile}`);
    }
    // the profile left by a crash is gone at the next start
    expect(existsSync(`${log}.profile`) ? readFileSync(`${log}.profile`, 'utf8').trim() : '').toBe('');
    // backed off: 2 s, then 4 s
    expect(Date.now() - t0).toBeGreaterThanOrEqual(5500);
  }, 20_000);

  it('the launcher refuses to start without a URL, saying what to set', () => {
    let err = '';
    try {
      execFileSync('bash', [LAUNCHER], { env: { PATH: process.env.PATH }, stdio: 'pipe' });
    } catch (e) {
      err = String((e as { stderr: Buffer }).stderr);
    }
    expect(err).toMatch(/KIOSK_URL.*set KIOSK_URL to the kiosk URL/);
  });

  it('the systemd units pass systemd-analyze verify', () => {
    if (!existsSync('/usr/bin/systemd-analyze')) throw new Error('systemd-analyze is missing: apt-get install systemd');
    for (const unit of ['deploy/systemd/kiosk-avatar.service']) {
      const out = execFileSync('systemd-analyze', ['verify', join(root, unit)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
      expect(out.trim()).toBe('');
    }
  });

  it('the compose file parses, and its services use the images the Dockerfiles build', () => {
    const compose = parse(readFileSync(join(root, 'deploy/docker/compose.yaml'), 'utf8')) as { services: Record<string, { image?: string; build?: { dockerfile: string } }> };
    expect(Object.keys(compose.services).sort()).toEqual(['avatar', 'avatar-gpu', 'jobs-worker', 'redis']);
    expect(compose.services.avatar!.build!.dockerfile).toBe('deploy/docker/Dockerfile.cpu');
    expect(compose.services['avatar-gpu']!.build!.dockerfile).toBe('deploy/docker/Dockerfile.gpu');
    for (const f of ['Dockerfile.cpu', 'Dockerfile.gpu']) expect(existsSync(join(root, 'deploy/docker', f))).toBe(true);
    // the example configuration is a valid configuration (TLS on, every bit of state in the volume)
    const cfg = parseConfig(JSON.parse(readFileSync(join(root, 'deploy/docker/config.example.json'), 'utf8')), 'config.example.json');
    expect(cfg.server.tls?.cert_file).toMatch(/\.pem$/);
    for (const p of [cfg.auth.secret_file, cfg.auth.admin_key_file, cfg.auth.revoked_file, cfg.runtime.cache_dir, cfg.jobs.dir]) expect(p.startsWith('/var/lib/kiosk-avatar/')).toBe(true);
  });

  it('the cluster examples: valid node configurations sharing Redis, token secret and admin key, each node behind the entry point', () => {
    const nodes = ['node-a.json', 'node-b.json'].map((f) => parseConfig(JSON.parse(readFileSync(join(root, 'deploy/cluster', f), 'utf8')), f));
    const [a, b] = nodes as [ReturnType<typeof parseConfig>, ReturnType<typeof parseConfig>];
    expect(a.cluster.redis_url).not.toBeNull();
    expect(b.cluster.redis_url).toBe(a.cluster.redis_url);
    expect(b.auth.secret_file).toBe(a.auth.secret_file);
    expect(b.auth.admin_key_file).toBe(a.auth.admin_key_file);
    expect(a.cluster.node_id).not.toBe(b.cluster.node_id);
    expect(a.sessions.length).toBeGreaterThan(0);
    expect(b.sessions).toEqual([]);
    const nginx = readFileSync(join(root, 'deploy/cluster/nginx.conf'), 'utf8');
    for (const n of nodes) {
      expect(nginx).toContain(`server ${n.server.host}:${n.server.port}`);
      expect(n.server.public_url).toBe(`https://${/server_name (\S+);/.exec(nginx)![1]}`);
    }
  });
});
