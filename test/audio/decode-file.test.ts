import { readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { decodeAudioFile, decodeAudioFileAt, type DecodedAudio } from '../../pipeline/audio/decode-file.js';
import { AudioFileError } from '../../pipeline/audio/errors.js';
import { parseWavHeader } from '../../pipeline/audio/wav.js';
import { beamcoder } from '../../pipeline/media/beamcoder.js';
import { Mp4Writer } from '../../pipeline/encode/mp4-writer.js';
import { i420Size } from '../../pipeline/records.js';
import { encodeAudioFile, encodeVideoOnlyFile } from '../helpers/encode-audio.js';
import { ASTRONAUT, SENTENCE, speakWav } from '../helpers/speech.js';
import { correlation, envelope, seeded } from './fixtures/signals.js';
import { makeWav, s16 } from './fixtures/make-wav.js';

const tmpFile = (name: string, bytes: Uint8Array): string => {
  const path = join(mkdtempSync(join(tmpdir(), 'decode-test-')), name);
  writeFileSync(path, bytes);
  return path;
};

function rms(x: Float32Array): number {
  let s = 0;
  for (const v of x) s += v * v;
  return Math.sqrt(s / x.length);
}

let wavBytes: Buffer;
let wav: DecodedAudio;

beforeAll(async () => {
  wavBytes = speakWav(SENTENCE);
  wav = await decodeAudioFile(tmpFile('speech.wav', wavBytes));
});

describe('decodeAudioFile on WAV', () => {
  it('decodes an espeak-ng WAV file: duration from the header, real speech in it', () => {
    const info = parseWavHeader(wavBytes);
    expect(wav).toMatchObject({ sampleRate: 22_050, channels: 1, codec: 'pcm_s16le', container: 'wav' });
    expect(wav.samples.length).toBe(info.frames);
    expect(wav.durationSec).toBeCloseTo(info.frames / 22_050, 9);
    expect(wav.durationSec).toBeGreaterThan(3);
    expect(rms(wav.samples)).toBeGreaterThan(0.01);
  });

  it('decodes the same WAV from bytes to the same samples', async () => {
    const fromBytes = await decodeAudioFile(wavBytes);
    expect(fromBytes.samples.length).toBe(wav.samples.length);
    // byte comparison: toEqual on 110k elements is slow
    expect(Buffer.from(fromBytes.samples.buffer).equals(Buffer.from(wav.samples.buffer))).toBe(true);
  });

  it('averages a stereo WAV to mono', async () => {
    const d = await decodeAudioFile(makeWav({ channels: 2, sampleRate: 8_000, data: s16([0.5, 0, -0.5, -0.5]) }));
    expect(d.channels).toBe(2);
    expect(d.samples[0]).toBeCloseTo(0.25, 4);
    expect(d.samples[1]).toBeCloseTo(-0.5, 4);
  });

  it('decodes an A-law WAV through FFmpeg', async () => {
    // 0xD5 is A-law's smallest positive step: a quiet, non-zero signal
    const d = await decodeAudioFile(makeWav({ formatTag: 6, bitsPerSample: 8, sampleRate: 8_000, data: new Uint8Array(800).fill(0xd5) }));
    expect(d).toMatchObject({ codec: 'pcm_alaw', container: 'wav', sampleRate: 8_000 });
    expect(d.samples.length).toBe(800);
    expect(d.samples[400]).toBeGreaterThan(0);
    expect(d.samples[400]).toBeLessThan(0.01);
  });
});

describe('decodeAudioFile on compressed speech (encoded here from the WAV)', () => {
  it.each(['mp3', 'opus'] as const)('decodes %s: same duration within 50 ms, same loudness envelope', async (kind) => {
    const encoders = beamcoder().encoders();
    expect(encoders[kind === 'mp3' ? 'libmp3lame' : 'libopus'], 'FFmpeg encoder present').toBeTruthy();
    const path = await encodeAudioFile(wav.samples, wav.sampleRate, kind);
    const d = await decodeAudioFileAt(path, 16_000);
    expect(d.codec).toBe(kind);
    expect(d.container).toBe(kind === 'mp3' ? 'mp3' : 'ogg');
    expect(d.sampleRate).toBe(16_000);
    expect(Math.abs(d.durationSec - wav.durationSec)).toBeLessThan(0.05);
    expect(Math.abs(d.samples.length / 16_000 - wav.durationSec)).toBeLessThan(0.05);
    const ref = await decodeAudioFileAt(wavBytes, 16_000);
    const r = correlation(envelope(ref.samples, 16_000), envelope(d.samples, 16_000));
    expect(r).toBeGreaterThan(0.95);
  });

  it('decodes compressed bytes (not only paths), through a temporary file', async () => {
    const bytes = readFileSync(await encodeAudioFile(wav.samples, wav.sampleRate, 'mp3'));
    const d = await decodeAudioFile(bytes);
    expect(d.codec).toBe('mp3');
    expect(Math.abs(d.durationSec - wav.durationSec)).toBeLessThan(0.05);
  });
});

describe('decodeAudioFile on MP4 (AAC)', () => {
  it('takes the audio track of an MP4 and cuts the AAC padding at the stream end', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'decode-mp4-')), 'talk.mp4');
    const writer = await Mp4Writer.open(path, { width: 64, height: 64, fps: 25, sampleRate: 48_000 });
    const audio = await decodeAudioFileAt(wavBytes, 48_000);
    // 2.01 s: not a whole number of 1024-sample AAC frames, so the last frame is padded
    const n = Math.round(2.01 * 48_000);
    for (let k = 0; k < 51; k++) await writer.writeVideo(new Uint8Array(i420Size(64, 64)).fill(100));
    await writer.writeAudio(audio.samples.subarray(0, n));
    await writer.close();
    const d = await decodeAudioFile(path);
    expect(d).toMatchObject({ codec: 'aac', container: 'mov,mp4,m4a,3gp,3g2,mj2', sampleRate: 48_000 });
    expect(Math.abs(d.samples.length - n)).toBeLessThanOrEqual(2);
  });
});

describe('decodeAudioFileAt', () => {
  it('resamples to the rate asked for, keeping the duration', async () => {
    const d = await decodeAudioFileAt(wavBytes, 48_000);
    expect(d.sampleRate).toBe(48_000);
    expect(Math.abs(d.samples.length - Math.round(wav.samples.length * (48_000 / 22_050)))).toBeLessThanOrEqual(1);
    expect(rms(d.samples)).toBeCloseTo(rms(wav.samples), 2);
  });

  it('rejects a target rate it cannot produce', async () => {
    await expect(decodeAudioFileAt(wavBytes, 1_000)).rejects.toThrow(/target sample rate 1000 Hz must be an integer in 4000..384000 Hz/);
  });
});

describe('decodeAudioFile rejects what is not usable audio', () => {
  it('rejects a WAV with 0 bytes of data: no samples', async () => {
    await expect(decodeAudioFile(makeWav({ data: new Uint8Array(0) }))).rejects.toThrow(/audio contains no samples/);
  });

  it('rejects a truncated WAV with the header check', async () => {
    const bytes = makeWav({ data: new Uint8Array(12_000), declaredDataBytes: 220_000 });
    const err = await decodeAudioFile(bytes).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AudioFileError);
    expect((err as Error).message).toMatch(/truncated WAV: header declares 220000 bytes of audio data, file holds 12000/);
  });

  it('rejects a PNG image, by path and by bytes', async () => {
    await expect(decodeAudioFile(ASTRONAUT)).rejects.toThrow(/unrecognised format: "portrait-astronaut.png" is not a supported audio file \(it looks like a PNG image\)/);
    await expect(decodeAudioFile(readFileSync(ASTRONAUT))).rejects.toThrow(AudioFileError);
  });

  it('rejects random bytes', async () => {
    const rnd = seeded(42);
    const junk = Uint8Array.from({ length: 20_000 }, () => Math.floor(rnd() * 256));
    await expect(decodeAudioFile(junk)).rejects.toThrow(/unrecognised format: the given audio \(20000 bytes\) is not a supported audio file \(it starts with bytes/);
  });

  it('rejects a media file without an audio stream', async () => {
    await expect(decodeAudioFile(await encodeVideoOnlyFile())).rejects.toThrow(/no audio stream found in "video.mkv" \(matroska,webm container; streams: video\)/);
  });

  it('rejects an empty file, a missing file and a folder', async () => {
    await expect(decodeAudioFile(tmpFile('empty.mp3', new Uint8Array(0)))).rejects.toThrow(/"empty.mp3" is empty \(0 bytes\)/);
    await expect(decodeAudioFile('/no/such/file.wav')).rejects.toThrow('no such audio file "/no/such/file.wav"');
    await expect(decodeAudioFile(tmpdir())).rejects.toThrow(/is not a file/);
  });

  it('enforces maxBytes and maxSeconds', async () => {
    await expect(decodeAudioFile(wavBytes, { maxBytes: 1_000 })).rejects.toThrow(/is \d+ bytes, over the 1000-byte limit \(maxBytes\)/);
    await expect(decodeAudioFile(wavBytes, { maxSeconds: 1 })).rejects.toThrow(/holds [\d.]+ s of audio, over the 1 s limit \(maxSeconds\)/);
    const mp3 = await encodeAudioFile(wav.samples, wav.sampleRate, 'mp3');
    await expect(decodeAudioFile(mp3, { maxSeconds: 2 })).rejects.toThrow(/over the 2 s limit \(maxSeconds\)/);
  });
});
