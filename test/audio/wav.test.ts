import { describe, expect, it } from 'vitest';
import { AudioFileError } from '../../pipeline/audio/errors.js';
import { decodeWavSamples, encodeWavS16, parseWavHeader } from '../../pipeline/audio/wav.js';
import { speakWav } from '../helpers/speech.js';
import { makeWav, s16 } from './fixtures/make-wav.js';

describe('parseWavHeader reads valid WAVs', () => {
  it('reads an espeak-ng WAV, whose data size is a streaming placeholder', () => {
    const bytes = speakWav('Testing one two three.');
    const info = parseWavHeader(bytes);
    expect(info).toMatchObject({ formatTag: 1, sampleFormat: 'pcm', channels: 1, sampleRate: 22_050, bitsPerSample: 16, blockAlign: 2 });
    expect(info.dataOffset).toBe(44);
    expect(info.streaming).toBe(true);
    expect(info.frames).toBe(Math.floor((bytes.length - 44) / 2));
    expect(info.durationSec).toBeCloseTo(info.frames / 22_050, 9);
  });

  it('skips LIST and odd-sized chunks (with their pad byte) before the data', () => {
    const data = s16([0.5, -0.5, 0.25]);
    const bytes = makeWav({ data, extraChunks: [['LIST', new Uint8Array(26)], ['junk', new Uint8Array(3)]] });
    const info = parseWavHeader(bytes);
    expect(info.dataOffset).toBe(bytes.length - data.length);
    expect(info.frames).toBe(3);
    expect(Array.from(decodeWavSamples(bytes, info)).map((x) => Math.round(x * 4) / 4)).toEqual([0.5, -0.5, 0.25]);
  });

  it('reads WAVE_FORMAT_EXTENSIBLE float stereo and averages its channels', () => {
    const data = new Uint8Array(new Float32Array([0.5, 0.25, -1, 0]).buffer);
    const bytes = makeWav({ formatTag: 0xfffe, subFormat: 3, channels: 2, bitsPerSample: 32, sampleRate: 48_000, data });
    const info = parseWavHeader(bytes);
    expect(info).toMatchObject({ extensible: true, formatTag: 3, sampleFormat: 'float', channels: 2, frames: 2 });
    expect(Array.from(decodeWavSamples(bytes, info))).toEqual([0.375, -0.5]);
  });

  it('decodes 8-bit unsigned and 24-bit PCM', () => {
    const u8 = makeWav({ bitsPerSample: 8, data: Uint8Array.from([128, 255, 0]) });
    expect(Array.from(decodeWavSamples(u8, parseWavHeader(u8)))).toEqual([0, 127 / 128, -1]);
    const s24 = makeWav({ bitsPerSample: 24, data: Uint8Array.from([0x00, 0x00, 0x40, 0x00, 0x00, 0xc0]) });
    expect(Array.from(decodeWavSamples(s24, parseWavHeader(s24)))).toEqual([0.5, -0.5]);
  });

  it('treats a 0xFFFFFFFF data size as data to the end of the file', () => {
    const info = parseWavHeader(makeWav({ data: s16([0.1, 0.2, 0.3, 0.4]), declaredDataBytes: 0xffffffff }));
    expect(info).toMatchObject({ streaming: true, frames: 4, dataBytes: 8 });
  });

  it('reads a header with 0 bytes of data as empty', () => {
    expect(parseWavHeader(makeWav({ data: new Uint8Array(0) }))).toMatchObject({ frames: 0, streaming: false, durationSec: 0 });
  });

  it('leaves non-PCM formats (A-law) to FFmpeg without checking their block sizes', () => {
    const info = parseWavHeader(makeWav({ formatTag: 6, bitsPerSample: 8, sampleRate: 8_000, data: new Uint8Array(80) }));
    expect(info.sampleFormat).toBe('other');
    expect(() => decodeWavSamples(new Uint8Array(0), info)).toThrow(/format tag 6 is not PCM or float/);
  });
});

describe('encodeWavS16', () => {
  it('writes float samples clamped and scaled, and 16-bit samples as they are; both read back', () => {
    const fromFloat = encodeWavS16(new Float32Array([0.5, -2, 1]), 16_000);
    const info = parseWavHeader(fromFloat);
    expect(info).toMatchObject({ sampleFormat: 'pcm', channels: 1, sampleRate: 16_000, bitsPerSample: 16, frames: 3, streaming: false });
    expect(Array.from(new Int16Array(fromFloat.slice(44).buffer))).toEqual([16384, -32767, 32767]);
    const ints = new Int16Array([-32768, -1, 0, 1, 32767]);
    const fromInts = encodeWavS16(ints, 16_000);
    expect(parseWavHeader(fromInts).frames).toBe(5);
    expect(Array.from(new Int16Array(fromInts.slice(44).buffer))).toEqual(Array.from(ints));
    expect(Array.from(decodeWavSamples(fromInts, parseWavHeader(fromInts)))).toEqual([-1, -1 / 32768, 0, 1 / 32768, 32767 / 32768]);
  });
});

describe('parseWavHeader rejects broken WAVs, naming the problem', () => {
  it('rejects a file that is not RIFF/WAVE', () => {
    const png = Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]);
    expect(() => parseWavHeader(png)).toThrow(AudioFileError);
    expect(() => parseWavHeader(png)).toThrow(/not a WAV file: it starts with .*PNG/);
    expect(() => parseWavHeader(new Uint8Array(3))).toThrow(/not a WAV file: it is only 3 bytes/);
  });

  it('rejects a truncated file', () => {
    const bytes = makeWav({ sampleRate: 22_050, data: new Uint8Array(12_000), declaredDataBytes: 220_000 });
    expect(() => parseWavHeader(bytes)).toThrow('truncated WAV: header declares 220000 bytes of audio data, file holds 12000');
  });

  it('rejects a chunk that runs past the end of the file', () => {
    const bytes = makeWav({ data: s16([0]) }).subarray(0, 30);
    expect(() => parseWavHeader(bytes)).toThrow(/truncated WAV: the "fmt " chunk at byte 12 declares 16 bytes/);
  });

  it('rejects a sample rate of 0 or above 384000 Hz', () => {
    expect(() => parseWavHeader(makeWav({ sampleRate: 0, byteRate: 0 }))).toThrow('WAV header declares a sample rate of 0 Hz, expected 1..384000 Hz');
    expect(() => parseWavHeader(makeWav({ sampleRate: 1_000_000 }))).toThrow(/sample rate of 1000000 Hz/);
  });

  it('rejects a sample rate that disagrees with the byte rate', () => {
    // 44100 Hz written in a header whose byte rate is that of 22050 Hz mono s16
    const bytes = makeWav({ sampleRate: 44_100, byteRate: 44_100, data: s16([0, 0]) });
    expect(() => parseWavHeader(bytes)).toThrow(/byteRate is 44100 but sampleRate 44100 Hz x blockAlign 2 makes 88200/);
  });

  it('rejects a blockAlign that disagrees with channels and bits', () => {
    expect(() => parseWavHeader(makeWav({ channels: 2, blockAlign: 2, data: s16([0, 0]) }))).toThrow(
      /blockAlign is 2 bytes but 2 channel\(s\) x 16 bits make 4/,
    );
  });

  it('rejects unusual bit depths and channel counts', () => {
    expect(() => parseWavHeader(makeWav({ bitsPerSample: 12 }))).toThrow(/12-bit PCM, expected 8, 16, 24 or 32 bits/);
    expect(() => parseWavHeader(makeWav({ formatTag: 3, bitsPerSample: 16 }))).toThrow(/16-bit float samples/);
    expect(() => parseWavHeader(makeWav({ channels: 0, blockAlign: 2 }))).toThrow(/declares 0 channels/);
  });

  it('rejects a missing fmt or data chunk', () => {
    expect(() => parseWavHeader(makeWav({ noFmt: true, data: s16([0]) }))).toThrow(/no fmt chunk before its data chunk/);
    expect(() => parseWavHeader(makeWav({ noData: true }))).toThrow('WAV has no data chunk: there is no audio in it');
    expect(() => parseWavHeader(makeWav({ noFmt: true, noData: true }))).toThrow(/neither a fmt nor a data chunk/);
  });
});
