/** Test speech made offline with espeak-ng (Debian package). */
import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeWavSamples, parseWavHeader } from '../../pipeline/audio/wav.js';
import { makeWav, s16 } from '../audio/fixtures/make-wav.js';

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

/**
 * speakWav without blocking the event loop: for servers that run in the test's own process (a
 * synchronous espeak-ng there holds up every timer of the server under test as well).
 */
export function speakWavAsync(text: string = SENTENCE, voice = 'en-us'): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    execFile('espeak-ng', ['-v', voice, '--stdout', text], { maxBuffer: 64 << 20, encoding: 'buffer' }, (err, stdout) => {
      if (!err) return resolve(stdout);
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return reject(new Error('espeak-ng is not installed: apt-get install -y espeak-ng'));
      reject(err);
    });
  });
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

/**
 * A second real portrait, unlike the astronaut: Grace Hopper's official US Navy photograph (public
 * domain), frontal, lips closed, glasses, a warm cast; matplotlib's sample data in the Debian
 * package python-matplotlib-data (installed by deploy/setup.sh for the tests). Read, never copied.
 */
export function hopperPortrait(): Uint8Array {
  const path = '/usr/share/matplotlib/mpl-data/sample_data/grace_hopper.jpg';
  if (!existsSync(path)) throw new Error(`${path} is missing: apt-get install -y --no-install-recommends python-matplotlib-data (bash deploy/setup.sh does it)`);
  return new Uint8Array(readFileSync(path));
}

/** Mono s16 WAV bytes of float samples (clamped). */
export function wavBytes(samples: Float32Array, sampleRate: number): Buffer {
  return Buffer.from(makeWav({ sampleRate, data: s16(samples) }));
}

/** Mono float samples and rate of a PCM/float WAV, read by the project's own WAV parser. */
export function wavSamples(wav: Uint8Array): { samples: Float32Array; sampleRate: number } {
  const info = parseWavHeader(wav);
  return { samples: decodeWavSamples(wav, info), sampleRate: info.sampleRate };
}

/** `text` spoken by espeak-ng with `padSec` seconds of silence before and after, as WAV bytes. */
export function paddedSpeechWav(text: string = SENTENCE, padSec = 1): Buffer {
  const { samples, sampleRate } = wavSamples(speakWav(text));
  const pad = Math.round(padSec * sampleRate);
  const out = new Float32Array(samples.length + 2 * pad);
  out.set(samples, pad);
  return wavBytes(out, sampleRate);
}
