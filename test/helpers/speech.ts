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

/** Mono s16 WAV bytes of float samples (clamped). */
export function wavBytes(samples: Float32Array, sampleRate: number): Buffer {
  const data = samples.length * 2;
  const b = Buffer.alloc(44 + data);
  b.write('RIFF', 0, 'ascii');
  b.writeUInt32LE(36 + data, 4);
  b.write('WAVE', 8, 'ascii');
  b.write('fmt ', 12, 'ascii');
  b.writeUInt32LE(16, 16);
  b.writeUInt16LE(1, 20); // PCM
  b.writeUInt16LE(1, 22); // mono
  b.writeUInt32LE(sampleRate, 24);
  b.writeUInt32LE(sampleRate * 2, 28);
  b.writeUInt16LE(2, 32);
  b.writeUInt16LE(16, 34);
  b.write('data', 36, 'ascii');
  b.writeUInt32LE(data, 40);
  for (let i = 0; i < samples.length; i++) {
    const v = Math.max(-1, Math.min(1, samples[i]!));
    b.writeInt16LE(Math.round(v * 32767), 44 + 2 * i);
  }
  return b;
}

/** Float samples and rate of a canonical 44-byte-header mono s16 WAV (what espeak-ng writes). */
export function wavSamples(wav: Buffer): { samples: Float32Array; sampleRate: number } {
  const sampleRate = wav.readUInt32LE(24);
  let off = 12;
  while (off + 8 <= wav.length) {
    const id = wav.toString('ascii', off, off + 4);
    let size = wav.readUInt32LE(off + 4);
    if (id === 'data') {
      // espeak-ng writing to a pipe leaves the size field at 0x7ffff000-ish: trust the file
      size = Math.min(size, wav.length - off - 8);
      const n = size >> 1;
      const s = new Float32Array(n);
      for (let i = 0; i < n; i++) s[i] = wav.readInt16LE(off + 8 + 2 * i) / 32768;
      return { samples: s, sampleRate };
    }
    off += 8 + size + (size & 1);
  }
  throw new Error('wavSamples: no data chunk');
}

/** `text` spoken by espeak-ng with `padSec` seconds of silence before and after, as WAV bytes. */
export function paddedSpeechWav(text: string = SENTENCE, padSec = 1): Buffer {
  const { samples, sampleRate } = wavSamples(speakWav(text));
  const pad = Math.round(padSec * sampleRate);
  const out = new Float32Array(samples.length + 2 * pad);
  out.set(samples, pad);
  return wavBytes(out, sampleRate);
}
