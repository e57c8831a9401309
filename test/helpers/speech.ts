/** Test speech made offline with espeak-ng (Debian package). */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const SENTENCE = 'Hello, welcome to the service hall. Please take a number and wait to be called.';

/** WAV bytes (22050 Hz mono s16) of `text` spoken by espeak-ng. */
export function speakWav(text: string = SENTENCE, voice = 'en-us'): Buffer {
  try {
    return execFileSync('espeak-ng', ['-v', voice, '--stdout', text], { maxBuffer: 64 << 20 });
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'ENOENT') {
      throw new Error('espeak-ng is not installed: apt-get install -y espeak-ng');
    }
    throw e;
  }
}

/** Writes `text` spoken by espeak-ng to a temporary WAV file and returns its path. */
export function speakToFile(text: string = SENTENCE, voice = 'en-us'): string {
  const dir = mkdtempSync(join(tmpdir(), 'speech-'));
  const path = join(dir, 'speech.wav');
  writeFileSync(path, speakWav(text, voice));
  return path;
}

/** Path of the shared test portrait (../shared/media beside the checkout). */
export const ASTRONAUT = new URL('../../../shared/media/portrait-astronaut.png', import.meta.url).pathname;
