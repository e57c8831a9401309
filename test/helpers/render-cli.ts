/** Runs `npm run render` (pipeline/cli/render.ts) in a child process, as a user would. */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

const root = new URL('../..', import.meta.url).pathname;

export function runRender(args: string[], timeoutMs = 60_000): { code: number | null; stderr: string; stdout: string } {
  const r = spawnSync(join(root, 'node_modules/.bin/tsx'), ['pipeline/cli/render.ts', ...args], {
    cwd: root,
    encoding: 'utf8',
    timeout: timeoutMs,
    env: { ...process.env, FORCE_COLOR: '0' },
  });
  return { code: r.status, stderr: r.stderr, stdout: r.stdout };
}
