/**
 * The one place that loads beamcoder (FFmpeg bindings, GPL-3.0). Its module prints a licence
 * banner with console.log on load; we send that to stderr so stdout stays clean for programs
 * (the render command's output, JSON from the benchmark). FFmpeg logs warnings and errors only.
 */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

// beamcoder ships no TypeScript types; the parts we use are typed loosely at their call sites.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Beamcoder = any;

let loaded: Beamcoder | undefined;

export function beamcoder(): Beamcoder {
  if (loaded) return loaded;
  const log = console.log;
  console.log = (...args: unknown[]) => console.error(...args);
  try {
    loaded = require('beamcoder');
    // FFmpeg's own info lines (x264's settings and statistics on every encoder) are not the
    // server's log; warnings and errors still reach stderr
    loaded.logging('warning');
  } catch (e) {
    throw new Error(
      `beamcoder (FFmpeg bindings) failed to load: ${(e as Error).message}\n` +
        'Install the FFmpeg development packages and rebuild it: ' +
        'apt-get install -y libavcodec-dev libavformat-dev libavdevice-dev libavfilter-dev libswscale-dev libswresample-dev && npm rebuild beamcoder',
    );
  } finally {
    console.log = log;
  }
  return loaded;
}
