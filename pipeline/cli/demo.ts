/**
 * npm run demo: the embedded defaults end to end, offline. espeak-ng speaks a sentence, the
 * embedded portrait (models/portraits/default.png) says it, and out/demo.mp4 is written.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { defaultConfig } from '../../config/load.js';
import { renderToMp4 } from '../render/render-file.js';
import { createProgress } from './progress.js';

const TEXT = process.argv[2] ?? 'Hello! Welcome to the service hall. Please take a number, and I will call you when it is your turn.';
const portrait = fileURLToPath(new URL('../../models/portraits/default.png', import.meta.url));

async function main(): Promise<number> {
  mkdirSync('out', { recursive: true });
  let wav: Buffer;
  try {
    wav = execFileSync('espeak-ng', ['-v', 'en-us', '--stdout', TEXT], { maxBuffer: 64 << 20 });
  } catch {
    console.error('demo: espeak-ng is not installed: apt-get install -y espeak-ng (or run bash deploy/setup.sh)');
    return 2;
  }
  writeFileSync('out/demo.wav', wav);
  let progress: ReturnType<typeof createProgress> | undefined;
  const res = await renderToMp4({
    audio: 'out/demo.wav',
    portrait,
    out: 'out/demo.mp4',
    config: defaultConfig(),
    onProgress(done, total) {
      progress ??= createProgress(total, 'demo');
      progress.update(done);
    },
  });
  progress?.stop();
  console.log(
    `demo: wrote out/demo.mp4 (${res.frames} frames, ${res.width}x${res.height} @ ${res.fps} fps, ` +
      `${res.durationSec.toFixed(2)} s, rendered at ${(res.durationSec / res.wallSec).toFixed(2)}x real time)`,
  );
  return 0;
}

main().then(
  (c) => process.exit(c),
  (e) => {
    console.error('demo: failed:', e);
    process.exit(1);
  },
);
