/**
 * Builds the kiosk page, the jobs page and the operator console (served at /admin/) into
 * dist/kiosk/ (served by the server at /kiosk/): the kiosk page's TypeScript bundled with its
 * dependencies (mediasoup-client, socket.io-client) into kiosk.js, the microphone worklet into
 * mic-worklet.js, jobs.js, admin.js, and the static files copied. Nothing refers to another origin.
 * Usage: npm run build:kiosk
 */
import { cpSync, mkdirSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { build, type BuildOptions } from 'esbuild';

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));
export const KIOSK_OUT = here('../dist/kiosk/');

export async function buildKiosk(out = KIOSK_OUT): Promise<void> {
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  const common: BuildOptions = {
    bundle: true,
    platform: 'browser',
    target: ['chrome100', 'safari16', 'firefox110'],
    format: 'esm',
    minify: true,
    // no source maps served to kiosks by default (the probe found the full sources at /kiosk/*.js.map); KIOSK_SOURCEMAP=1 for debugging
    sourcemap: process.env.KIOSK_SOURCEMAP ? 'linked' : false,
    legalComments: 'linked',
    define: { 'process.env.NODE_ENV': '"production"' },
    logLevel: 'warning',
  };
  await build({ ...common, entryPoints: [here('src/main.ts')], outfile: `${out}kiosk.js` });
  await build({ ...common, entryPoints: [here('src/mic-worklet.ts')], outfile: `${out}mic-worklet.js` });
  await build({ ...common, entryPoints: [here('src/jobs.ts')], outfile: `${out}jobs.js` });
  await build({ ...common, entryPoints: [here('src/admin.ts')], outfile: `${out}admin.js` });
  cpSync(here('static/'), out, { recursive: true });
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const t0 = performance.now();
  buildKiosk().then(
    () => console.log(`build:kiosk: wrote ${KIOSK_OUT} in ${Math.round(performance.now() - t0)} ms`),
    (e) => {
      console.error(`build:kiosk: ${(e as Error).message}`);
      process.exit(1);
    },
  );
}
