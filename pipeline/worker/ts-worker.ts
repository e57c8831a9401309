/**
 * Spawns a worker thread whose entry is a TypeScript module, through tsx.
 *
 * On Node 20 a worker's entry is loaded before hooks from `--import tsx` in its execArgv take
 * effect ("Unknown file extension .ts"), so a tiny CommonJS bootstrap registers tsx's ESM hooks
 * in the thread first and then imports the entry. Works under vitest and under `npx tsx` alike.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker, type WorkerOptions } from 'node:worker_threads';

let apiUrl: string | undefined;

/** URL of tsx's ESM API ('tsx/esm/api' under the import condition), read from its package exports. */
function tsxEsmApiUrl(): string {
  if (apiUrl) return apiUrl;
  const pkgPath = createRequire(import.meta.url).resolve('tsx/package.json');
  const pkg = JSON.parse(readFileSync(pkgPath, 'utf8')) as { exports?: Record<string, { import?: { default?: string } }> };
  const target = pkg.exports?.['./esm/api']?.import?.default;
  if (!target) throw new Error(`spawnTsWorker: ${pkgPath} exports no 'tsx/esm/api' for import; cannot run a TypeScript worker`);
  apiUrl = new URL(target, pathToFileURL(pkgPath)).href;
  return apiUrl;
}

/** A Worker running the TypeScript module at `entry` (a file: URL). */
export function spawnTsWorker(entry: URL, options: Omit<WorkerOptions, 'eval'> = {}): Worker {
  const bootstrap =
    `import(${JSON.stringify(tsxEsmApiUrl())})` +
    `.then((tsx) => { tsx.register(); return import(${JSON.stringify(entry.href)}); })` +
    '.catch((e) => { throw e; });';
  return new Worker(bootstrap, { execArgv: [], ...options, eval: true });
}
