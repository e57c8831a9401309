/**
 * Audio files to mono float. WAV (PCM or float) is validated and decoded here without FFmpeg;
 * every other format (MP3, Opus or Vorbis in OGG, FLAC, AAC/M4A, A-law WAV, ...) goes through
 * FFmpeg via beamcoder: demuxer, decoder, then our own channel average (frame-mono.ts).
 *
 * Bytes that are not a WAV are written to a temporary file for FFmpeg rather than streamed into
 * its demuxer: a seekable input lets FFmpeg probe reliably and read durations from headers
 * (MP3 Xing/LAME tags, MP4 moov at the end) and trim encoder padding.
 */
import { mkdtemp, open, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { beamcoder, type Beamcoder } from '../media/beamcoder.js';
import { AudioFileError, AudioFormatError } from './errors.js';
import { concatSamples } from './pcm.js';
import { frameToMono } from './frame-mono.js';
import { RESAMPLER_MAX_RATE, RESAMPLER_MIN_RATE, resample } from './resampler.js';
import { describeNonAudio, sniffAudioContainer } from './sniff.js';
import { decodeWavSamples, looksLikeWav, parseWavHeader, type WavInfo } from './wav.js';

export interface DecodedAudio {
  /** mono float samples in [-1, 1] (channels averaged) */
  samples: Float32Array;
  /** Hz */
  sampleRate: number;
  /** seconds: samples.length / sampleRate of the decoded file */
  durationSec: number;
  /** FFmpeg codec name, e.g. 'pcm_s16le', 'mp3', 'opus' */
  codec: string;
  /** FFmpeg container name, e.g. 'wav', 'mp3', 'ogg' */
  container: string;
  /** channels in the file */
  channels: number;
}

export interface DecodeAudioOptions {
  /** bytes: larger files are refused before decoding (default 64 MiB) */
  maxBytes?: number;
  /** seconds: longer audio is refused (default 600) */
  maxSeconds?: number;
}

export const DEFAULT_MAX_BYTES = 64 << 20;
export const DEFAULT_MAX_SECONDS = 600;
/** bytes read to recognise the container */
const SNIFF_BYTES = 4096;

/** Decodes an audio file (a path or its bytes) to mono float at the file's own sample rate. */
export async function decodeAudioFile(input: string | Uint8Array, opts: DecodeAudioOptions = {}): Promise<DecodedAudio> {
  const limits = checkOptions(opts);
  if (typeof input === 'string') {
    if (input.length === 0) throw new AudioFileError('audio file path is empty');
    const size = await fileSize(input);
    const label = `"${basename(input)}"`;
    checkBytes(size, label, limits.maxBytes);
    const head = await readHead(input, SNIFF_BYTES);
    if (looksLikeWav(head)) return decodeWavOrFfmpeg(await readFile(input), label, input, limits);
    checkSniff(head, label);
    return decodeWithFfmpeg(input, label, limits.maxSeconds);
  }
  if (!(input instanceof Uint8Array)) {
    throw new AudioFileError(`audio input must be a file path or the file's bytes (Uint8Array), got ${input === null ? 'null' : typeof input}`);
  }
  const label = `the given audio (${input.length} bytes)`;
  checkBytes(input.length, label, limits.maxBytes);
  if (looksLikeWav(input)) return decodeWavOrFfmpeg(input, label, undefined, limits);
  checkSniff(input.subarray(0, SNIFF_BYTES), label);
  return withTempFile(input, (path) => decodeWithFfmpeg(path, label, limits.maxSeconds));
}

/** decodeAudioFile, then resampled to `rate` Hz (sampleRate in the result is `rate`). */
export async function decodeAudioFileAt(input: string | Uint8Array, rate: number, opts: DecodeAudioOptions = {}): Promise<DecodedAudio> {
  if (!Number.isInteger(rate) || rate < RESAMPLER_MIN_RATE || rate > RESAMPLER_MAX_RATE) {
    throw new AudioFormatError(`decodeAudioFileAt: target sample rate ${rate} Hz must be an integer in ${RESAMPLER_MIN_RATE}..${RESAMPLER_MAX_RATE} Hz`);
  }
  const decoded = await decodeAudioFile(input, opts);
  if (decoded.sampleRate === rate) return decoded;
  return { ...decoded, samples: resample(decoded.samples, decoded.sampleRate, rate), sampleRate: rate };
}

interface Limits {
  maxBytes: number;
  maxSeconds: number;
}

function checkOptions(opts: DecodeAudioOptions): Limits {
  const maxBytes = opts.maxBytes ?? DEFAULT_MAX_BYTES;
  const maxSeconds = opts.maxSeconds ?? DEFAULT_MAX_SECONDS;
  if (!Number.isInteger(maxBytes) || maxBytes <= 0) throw new RangeError(`decodeAudioFile: maxBytes must be a positive integer, got ${maxBytes}`);
  if (!(maxSeconds > 0)) throw new RangeError(`decodeAudioFile: maxSeconds must be a positive number, got ${maxSeconds}`);
  return { maxBytes, maxSeconds };
}

function checkBytes(size: number, label: string, maxBytes: number): void {
  if (size === 0) throw new AudioFileError(`${label} is empty (0 bytes): audio contains no samples`);
  if (size > maxBytes) throw new AudioFileError(`${label} is ${size} bytes, over the ${maxBytes}-byte limit (maxBytes)`);
}

/** Only inputs that start like an audio container reach FFmpeg (see sniff.ts for why). */
function checkSniff(head: Uint8Array, label: string): void {
  if (sniffAudioContainer(head)) return;
  throw new AudioFileError(
    `unrecognised format: ${label} is not a supported audio file (${describeNonAudio(head)}); ` +
      'expected WAV, MP3, OGG (Opus, Vorbis), FLAC, AAC/M4A, AIFF, WebM/Matroska, CAF or AMR',
  );
}

function checkSeconds(seconds: number, label: string, maxSeconds: number): void {
  if (seconds > maxSeconds) {
    throw new AudioFileError(`${label} holds ${seconds.toFixed(1)} s of audio, over the ${maxSeconds} s limit (maxSeconds)`);
  }
}

async function decodeWavOrFfmpeg(bytes: Uint8Array, label: string, path: string | undefined, limits: Limits): Promise<DecodedAudio> {
  let info: WavInfo;
  try {
    info = parseWavHeader(bytes);
  } catch (e) {
    throw new AudioFileError(`${label}: ${(e as Error).message}`, { cause: e });
  }
  if (info.sampleFormat === 'other') {
    // A-law, mu-law, ADPCM...: the header is sound, FFmpeg decodes the data
    return path ? decodeWithFfmpeg(path, label, limits.maxSeconds) : withTempFile(bytes, (p) => decodeWithFfmpeg(p, label, limits.maxSeconds));
  }
  if (info.frames === 0) throw new AudioFileError(`${label}: audio contains no samples (the WAV data chunk is empty)`);
  checkSeconds(info.durationSec, label, limits.maxSeconds);
  return {
    samples: decodeWavSamples(bytes, info),
    sampleRate: info.sampleRate,
    durationSec: info.durationSec,
    codec: `pcm_${info.sampleFormat === 'float' ? 'f' : info.bitsPerSample === 8 ? 'u' : 's'}${info.bitsPerSample}${info.bitsPerSample === 8 ? '' : 'le'}`,
    container: 'wav',
    channels: info.channels,
  };
}

async function decodeWithFfmpeg(path: string, label: string, maxSeconds: number): Promise<DecodedAudio> {
  const bc = beamcoder();
  let demuxer: Beamcoder;
  try {
    demuxer = await bc.demuxer(`file:${path}`);
  } catch (e) {
    throw new AudioFileError(`unrecognised format: ${label} is not an audio file FFmpeg can read (${errorText(e)})`, { cause: e });
  }
  try {
    const container: string = demuxer.iformat?.name ?? 'unknown';
    const stream = demuxer.streams.find((s: Beamcoder) => s.codecpar.codec_type === 'audio');
    if (!stream) {
      const kinds = demuxer.streams.map((s: Beamcoder) => s.codecpar.codec_type).join(', ') || 'none';
      throw new AudioFileError(`no audio stream found in ${label} (${container} container; streams: ${kinds})`);
    }
    // AVFormatContext.duration is in microseconds; an estimate, so only refuse clear excess here
    if (demuxer.duration > 0) checkSeconds(demuxer.duration / 1e6, label, maxSeconds);
    const codec: string = stream.codecpar.name;
    let decoder: Beamcoder;
    try {
      decoder = bc.decoder({ demuxer, stream_index: stream.index });
    } catch (e) {
      throw new AudioFileError(`${label}: FFmpeg has no decoder for its ${codec} audio (${errorText(e)})`, { cause: e });
    }
    const chunks: Float32Array[] = [];
    let total = 0;
    let rate = 0;
    let failures = 0;
    let lastFailure: unknown;
    const take = (frames: Beamcoder[]): void => {
      for (const f of frames) {
        if (rate === 0) rate = f.sample_rate;
        else if (f.sample_rate !== rate) throw new AudioFileError(`${label}: the sample rate changes mid-stream from ${rate} to ${f.sample_rate} Hz`);
        const mono = frameToMono(f);
        chunks.push(mono);
        total += mono.length;
        checkSeconds(total / rate, label, maxSeconds);
      }
    };
    for (let packet = await demuxer.read(); packet != null; packet = await demuxer.read()) {
      if (packet.stream_index !== stream.index) continue;
      try {
        take((await decoder.decode(packet)).frames);
      } catch (e) {
        if (e instanceof AudioFileError) throw e;
        // like FFmpeg's own tools, skip a corrupt packet and go on
        failures += 1;
        lastFailure = e;
      }
    }
    take((await decoder.flush()).frames);
    if (total === 0) {
      const why = failures > 0 ? `: ${failures} packet(s) failed to decode (${errorText(lastFailure)})` : '';
      throw new AudioFileError(`${label}: audio contains no samples${why}`);
    }
    const kept = container.includes('mp4') ? trimToStream(total, rate, stream) : total;
    return {
      samples: concatSamples(chunks, kept),
      sampleRate: rate,
      durationSec: kept / rate,
      codec,
      container,
      channels: stream.codecpar.channels,
    };
  } finally {
    demuxer.forceClose();
  }
}

/**
 * MP4/M4A: the AAC decoder returns the last frame whole (up to 1024 samples of padding); the
 * stream's duration (from the edit list) says where the audio ends, as a player cuts it. Other
 * containers' durations may be estimates (MP3 without a Xing tag), so only MP4 is trimmed.
 */
function trimToStream(total: number, rate: number, stream: Beamcoder): number {
  const [num, den] = stream.time_base as number[];
  const duration: number | null = stream.duration;
  if (!duration || duration <= 0 || !(den > 0)) return total;
  return Math.min(total, Math.round((duration * num * rate) / den));
}

async function fileSize(path: string): Promise<number> {
  try {
    const s = await stat(path);
    if (!s.isFile()) throw new AudioFileError(`"${path}" is not a file`);
    return s.size;
  } catch (e) {
    if (e instanceof AudioFileError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    throw new AudioFileError(code === 'ENOENT' ? `no such audio file "${path}"` : `cannot read audio file "${path}": ${errorText(e)}`, { cause: e });
  }
}

async function readHead(path: string, n: number): Promise<Uint8Array> {
  const fh = await open(path, 'r');
  try {
    const buf = new Uint8Array(n);
    const { bytesRead } = await fh.read(buf, 0, n, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

async function withTempFile<T>(bytes: Uint8Array, use: (path: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'audio-in-'));
  try {
    const path = join(dir, 'input');
    await writeFile(path, bytes);
    return await use(path);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}


function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
