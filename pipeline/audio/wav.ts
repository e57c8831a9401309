/**
 * RIFF/WAVE: header parsing with validation, and direct decoding of PCM / IEEE-float data to mono
 * float (no FFmpeg needed for the WAVs TTS services and espeak-ng produce).
 *
 * Streaming WAVs: a writer that cannot seek back (espeak-ng --stdout, sox to a pipe) leaves a
 * placeholder data size: 0, 0xFFFFFFFF or 0x7FFFF000. With such a size the data is taken to run
 * to the end of the file. Any other size larger than what the file holds is a truncated file.
 */
import { AudioFileError } from './errors.js';

export type WavSampleFormat = 'pcm' | 'float' | 'other';

export interface WavInfo {
  /** WAVE format tag (EXTENSIBLE resolved to its sub-format): 1 PCM, 3 IEEE float, 6 A-law, 7 mu-law, ... */
  formatTag: number;
  /** 'other' (ADPCM, A-law, ...) is left to FFmpeg */
  sampleFormat: WavSampleFormat;
  /** the fmt chunk was WAVE_FORMAT_EXTENSIBLE (0xFFFE) */
  extensible: boolean;
  channels: number;
  /** Hz */
  sampleRate: number;
  bitsPerSample: number;
  /** bytes per frame (one sample of every channel) */
  blockAlign: number;
  /** bytes per second */
  byteRate: number;
  /** byte offset of the audio data in the file */
  dataOffset: number;
  /** bytes of audio data to decode: whole frames present in the file */
  dataBytes: number;
  /** the data size in the header (may be a streaming placeholder) */
  declaredDataBytes: number;
  /** the header held a streaming placeholder size */
  streaming: boolean;
  /** frames (samples per channel); 0 when sampleFormat is 'other' (FFmpeg knows) */
  frames: number;
  /** seconds; 0 when sampleFormat is 'other' */
  durationSec: number;
}

/** Hz: the highest sample rate a WAV header may declare */
export const MAX_WAV_SAMPLE_RATE = 384_000;
const MAX_CHANNELS = 64;
const STREAMING_SIZES = new Set([0, 0xffffffff, 0x7ffff000]);
const TAG_PCM = 1;
const TAG_FLOAT = 3;
const TAG_EXTENSIBLE = 0xfffe;

/** true when `bytes` starts like a RIFF/WAVE file (the caller then parses it with parseWavHeader). */
export function looksLikeWav(bytes: Uint8Array): boolean {
  return bytes.length >= 12 && fourcc(bytes, 0) === 'RIFF' && fourcc(bytes, 8) === 'WAVE';
}

/** Parses and checks a WAV file's header; throws AudioFileError naming what is wrong. */
export function parseWavHeader(bytes: Uint8Array): WavInfo {
  if (!(bytes instanceof Uint8Array)) throw new AudioFileError('parseWavHeader expects the file bytes as a Uint8Array');
  if (!looksLikeWav(bytes)) {
    const start = bytes.length >= 4 ? `starts with ${JSON.stringify(fourcc(bytes, 0))}` : `is only ${bytes.length} bytes`;
    throw new AudioFileError(`not a WAV file: it ${start}, a WAV file starts with "RIFF" .... "WAVE"`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let fmt: Omit<WavInfo, 'dataOffset' | 'dataBytes' | 'declaredDataBytes' | 'streaming' | 'frames' | 'durationSec'> | undefined;
  let at = 12;
  while (at + 8 <= bytes.length) {
    const id = fourcc(bytes, at);
    const size = view.getUint32(at + 4, true);
    const body = at + 8;
    if (id === 'data') {
      if (!fmt) throw new AudioFileError('WAV has no fmt chunk before its data chunk: the sample format is unknown');
      return withData(fmt, body, size, bytes.length - body);
    }
    if (body + size > bytes.length) {
      throw new AudioFileError(`truncated WAV: the ${JSON.stringify(id)} chunk at byte ${at} declares ${size} bytes, the file ends ${bytes.length - body} bytes after its header`);
    }
    if (id === 'fmt ') fmt = parseFmt(view, body, size);
    // chunks are word-aligned: an odd size is followed by a pad byte
    at = body + size + (size & 1);
  }
  throw new AudioFileError(fmt ? 'WAV has no data chunk: there is no audio in it' : 'WAV has neither a fmt nor a data chunk: it is not a usable WAV file');
}

function parseFmt(view: DataView, at: number, size: number) {
  if (size < 16) throw new AudioFileError(`WAV fmt chunk is ${size} bytes, at least 16 are needed`);
  let formatTag = view.getUint16(at, true);
  const channels = view.getUint16(at + 2, true);
  const sampleRate = view.getUint32(at + 4, true);
  const byteRate = view.getUint32(at + 8, true);
  const blockAlign = view.getUint16(at + 12, true);
  const bitsPerSample = view.getUint16(at + 14, true);
  const extensible = formatTag === TAG_EXTENSIBLE;
  if (extensible) {
    if (size < 40) throw new AudioFileError(`WAV fmt chunk is WAVE_FORMAT_EXTENSIBLE but ${size} bytes long, 40 are needed`);
    // the sub-format GUID starts with the plain format tag
    formatTag = view.getUint16(at + 24, true);
  }
  if (channels < 1 || channels > MAX_CHANNELS) throw new AudioFileError(`WAV header declares ${channels} channels, expected 1..${MAX_CHANNELS}`);
  if (sampleRate < 1 || sampleRate > MAX_WAV_SAMPLE_RATE) {
    throw new AudioFileError(`WAV header declares a sample rate of ${sampleRate} Hz, expected 1..${MAX_WAV_SAMPLE_RATE} Hz`);
  }
  const sampleFormat: WavSampleFormat = formatTag === TAG_PCM ? 'pcm' : formatTag === TAG_FLOAT ? 'float' : 'other';
  if (sampleFormat === 'pcm' && ![8, 16, 24, 32].includes(bitsPerSample)) {
    throw new AudioFileError(`WAV header declares ${bitsPerSample}-bit PCM, expected 8, 16, 24 or 32 bits`);
  }
  if (sampleFormat === 'float' && bitsPerSample !== 32 && bitsPerSample !== 64) {
    throw new AudioFileError(`WAV header declares ${bitsPerSample}-bit float samples, expected 32 or 64 bits`);
  }
  if (blockAlign === 0) throw new AudioFileError('WAV header declares a blockAlign of 0 bytes');
  if (sampleFormat !== 'other') {
    const frameBytes = (channels * bitsPerSample) / 8;
    if (blockAlign !== frameBytes) {
      throw new AudioFileError(
        `WAV header is inconsistent: blockAlign is ${blockAlign} bytes but ${channels} channel(s) x ${bitsPerSample} bits make ${frameBytes}`,
      );
    }
    if (byteRate !== sampleRate * blockAlign) {
      throw new AudioFileError(
        `WAV header is inconsistent: byteRate is ${byteRate} but sampleRate ${sampleRate} Hz x blockAlign ${blockAlign} makes ${sampleRate * blockAlign}: the sample rate or byte rate field is wrong`,
      );
    }
  }
  return { formatTag, sampleFormat, extensible, channels, sampleRate, bitsPerSample, blockAlign, byteRate };
}

function withData(fmt: NonNullable<ReturnType<typeof parseFmt>>, dataOffset: number, declared: number, held: number): WavInfo {
  const streaming = (declared > held && STREAMING_SIZES.has(declared)) || (declared === 0 && held > 0);
  if (!streaming && declared > held) {
    throw new AudioFileError(`truncated WAV: header declares ${declared} bytes of audio data, file holds ${held}`);
  }
  const present = streaming ? held : declared;
  // a partial last frame (cut mid-sample) is dropped
  const dataBytes = present - (present % fmt.blockAlign);
  const frames = fmt.sampleFormat === 'other' ? 0 : dataBytes / fmt.blockAlign;
  return { ...fmt, dataOffset, dataBytes, declaredDataBytes: declared, streaming, frames, durationSec: frames / fmt.sampleRate };
}

/** Decodes the data of a PCM or float WAV to mono float (channels averaged, clamped to [-1, 1]). */
export function decodeWavSamples(bytes: Uint8Array, info: WavInfo): Float32Array {
  if (info.sampleFormat === 'other') throw new AudioFileError(`WAV format tag ${info.formatTag} is not PCM or float: decode it with FFmpeg`);
  const { channels, frames, dataOffset } = info;
  const width = info.bitsPerSample / 8;
  const view = new DataView(bytes.buffer, bytes.byteOffset + dataOffset, info.dataBytes);
  const read = reader(info.sampleFormat, info.bitsPerSample);
  const out = new Float32Array(frames);
  const scale = 1 / channels;
  for (let f = 0, at = 0; f < frames; f++) {
    let sum = 0;
    for (let c = 0; c < channels; c++, at += width) sum += read(view, at);
    const x = sum * scale;
    // NaN (a broken float WAV) becomes silence, not poison for every stage after this one
    out[f] = x > 1 ? 1 : x < -1 ? -1 : x === x ? x : 0;
  }
  return out;
}

function reader(format: 'pcm' | 'float', bits: number): (v: DataView, at: number) => number {
  if (format === 'float') return bits === 32 ? (v, at) => v.getFloat32(at, true) : (v, at) => v.getFloat64(at, true);
  switch (bits) {
    case 8:
      return (v, at) => (v.getUint8(at) - 128) / 128;
    case 16:
      return (v, at) => v.getInt16(at, true) / 32768;
    case 24:
      return (v, at) => ((v.getUint8(at) | (v.getUint8(at + 1) << 8) | (v.getInt8(at + 2) << 16)) / 8388608);
    default:
      return (v, at) => v.getInt32(at, true) / 2147483648;
  }
}

function fourcc(bytes: Uint8Array, at: number): string {
  return String.fromCharCode(bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]);
}

/** A mono 16-bit PCM WAV file of float samples (clamped to [-1, 1]), or of 16-bit ones as they are. */
export function encodeWavS16(samples: Float32Array | Int16Array, sampleRate: number): Uint8Array {
  const out = new Uint8Array(44 + samples.length * 2);
  const v = new DataView(out.buffer);
  const ascii = (at: number, s: string) => [...s].forEach((c, i) => v.setUint8(at + i, c.charCodeAt(0)));
  ascii(0, 'RIFF');
  v.setUint32(4, 36 + samples.length * 2, true);
  ascii(8, 'WAVE');
  ascii(12, 'fmt ');
  v.setUint32(16, 16, true);
  v.setUint16(20, 1, true);
  v.setUint16(22, 1, true);
  v.setUint32(24, sampleRate, true);
  v.setUint32(28, sampleRate * 2, true);
  v.setUint16(32, 2, true);
  v.setUint16(34, 16, true);
  ascii(36, 'data');
  v.setUint32(40, samples.length * 2, true);
  if (samples instanceof Int16Array) {
    for (let i = 0; i < samples.length; i++) v.setInt16(44 + 2 * i, samples[i]!, true);
    return out;
  }
  for (let i = 0; i < samples.length; i++) {
    const x = Math.max(-1, Math.min(1, samples[i]!));
    v.setInt16(44 + 2 * i, Math.round(x * 32767), true);
  }
  return out;
}
