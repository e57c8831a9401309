/**
 * Raw PCM chunks as kiosks and TTS services send them: interleaved little-endian s16 or f32,
 * mono or stereo, 8..48 kHz. Decoding checks everything a client could get wrong and says what.
 */
import { AudioFormatError } from './errors.js';

export type PcmEncoding = 's16le' | 'f32le';

export interface PcmFormat {
  encoding: PcmEncoding;
  /** Hz, an integer in MIN_SAMPLE_RATE..MAX_SAMPLE_RATE */
  sampleRate: number;
  /** interleaved channels; stereo is averaged to mono */
  channels: 1 | 2;
}

/** Hz */
export const MIN_SAMPLE_RATE = 8_000;
/** Hz */
export const MAX_SAMPLE_RATE = 48_000;
/** Bytes. 1 MiB is ~5.5 s of 48 kHz stereo f32; live clients send 20..100 ms at a time. */
export const MAX_CHUNK_BYTES = 1 << 20;
/**
 * f32 samples above this magnitude are not clipping but a wrong encoding: s16 values read as
 * float are mostly tiny denormals, but a float sent as s16 or an unscaled int is in the thousands.
 */
const F32_LIMIT = 4;

const BYTES: Record<PcmEncoding, number> = { s16le: 2, f32le: 4 };
const HOST_LE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Throws AudioFormatError unless `fmt` is a format decodePcmChunk accepts. */
export function validatePcmFormat(fmt: PcmFormat): void {
  if (typeof fmt !== 'object' || fmt === null) {
    throw new AudioFormatError(`PCM format must be an object { encoding, sampleRate, channels }, got ${fmt === null ? 'null' : typeof fmt}`);
  }
  const { encoding, sampleRate, channels } = fmt;
  if (!Object.hasOwn(BYTES, encoding)) {
    throw new AudioFormatError(`unknown PCM encoding ${JSON.stringify(encoding)}: expected "s16le" or "f32le"`);
  }
  validateSampleRate(sampleRate);
  if (channels !== 1 && channels !== 2) {
    throw new AudioFormatError(`PCM channels must be 1 (mono) or 2 (stereo), got ${JSON.stringify(channels)}`);
  }
}

/** Throws AudioFormatError unless `rate` is an integer number of Hz in 8000..48000. */
export function validateSampleRate(rate: unknown): asserts rate is number {
  if (typeof rate !== 'number' || !Number.isFinite(rate)) {
    throw new AudioFormatError(`sample rate must be a number of Hz, got ${JSON.stringify(rate)}`);
  }
  if (!Number.isInteger(rate)) throw new AudioFormatError(`sample rate ${rate} Hz is not an integer`);
  if (rate < MIN_SAMPLE_RATE || rate > MAX_SAMPLE_RATE) {
    throw new AudioFormatError(`sample rate ${rate} Hz is outside ${MIN_SAMPLE_RATE}..${MAX_SAMPLE_RATE} Hz`);
  }
}

/** Decodes one interleaved PCM chunk to mono float in [-1, 1] (stereo averaged). */
export function decodePcmChunk(bytes: Uint8Array, fmt: PcmFormat): Float32Array {
  validatePcmFormat(fmt);
  if (!(bytes instanceof Uint8Array)) {
    throw new AudioFormatError(`audio chunk must be bytes (Uint8Array or Buffer), got ${describe(bytes)}`);
  }
  const { encoding, channels } = fmt;
  const frameBytes = BYTES[encoding] * channels;
  if (bytes.length === 0) throw new AudioFormatError('empty audio chunk (0 bytes)');
  if (bytes.length > MAX_CHUNK_BYTES) {
    throw new AudioFormatError(`audio chunk of ${bytes.length} bytes is over the ${MAX_CHUNK_BYTES}-byte limit: send it in smaller pieces (20..100 ms each)`);
  }
  if (bytes.length % frameBytes !== 0) {
    throw new AudioFormatError(
      `audio chunk of ${bytes.length} bytes is not a whole number of ${encoding} ${channels === 1 ? 'mono' : 'stereo'} frames ` +
        `(${frameBytes} bytes each): a sample was split across chunks or the format is wrong`,
    );
  }
  if (encoding === 's16le' && channels === 1) return decodeS16Mono(bytes);
  const n = bytes.length / frameBytes;
  const out = new Float32Array(n);
  if (encoding === 's16le') {
    const s = samplesOf(bytes, 2) as Int16Array;
    for (let i = 0; i < n; i++) out[i] = (s[2 * i] + s[2 * i + 1]) / 65536;
    return out;
  }
  const f = samplesOf(bytes, 4) as Float32Array;
  for (let i = 0; i < f.length; i++) {
    const x = f[i];
    if (!Number.isFinite(x)) throw new AudioFormatError(`f32le sample ${i} of the chunk is ${x}: audio samples must be finite`);
    if (Math.abs(x) > F32_LIMIT) {
      throw new AudioFormatError(
        `f32le sample ${i} of the chunk is ${x}, far outside [-1, 1]: is this s16le (or unscaled integer) audio sent as f32le?`,
      );
    }
  }
  if (channels === 1) for (let i = 0; i < n; i++) out[i] = clamp(f[i]);
  else for (let i = 0; i < n; i++) out[i] = clamp((f[2 * i] + f[2 * i + 1]) * 0.5);
  return out;
}

/**
 * A whole mono s16le recording (a TTS sentence, any length: no chunk limit) as float in [-1, 1).
 * Throws AudioFormatError on an empty or odd-length buffer.
 */
export function decodeS16Mono(bytes: Uint8Array): Float32Array {
  if (bytes.length < 2 || bytes.length % 2 !== 0) throw new AudioFormatError(`raw s16le PCM of ${bytes.length} bytes (must be a positive even number)`);
  const s = samplesOf(bytes, 2) as Int16Array;
  const out = new Float32Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s[i] / 32768;
  return out;
}

/**
 * Float samples in [-1, 1] into `out` as s16 (host order), for the live media path: 1 and above
 * give 32767, -1 and below -32768, the rest round(x * 32767). NaN gives 0. `out` must be as long.
 */
export function floatToS16(samples: Float32Array, out: Int16Array): Int16Array {
  if (out.length !== samples.length) throw new RangeError(`floatToS16: out holds ${out.length} samples, the input ${samples.length}`);
  for (let i = 0; i < samples.length; i++) {
    const v = samples[i]!;
    out[i] = v >= 1 ? 32767 : v <= -1 ? -32768 : Math.round(v * 32767);
  }
  return out;
}

/** Encodes mono float samples as s16le bytes, clamping to [-1, 1] (for tests and clients). */
export function encodePcmS16(samples: Float32Array): Uint8Array {
  if (!(samples instanceof Float32Array)) {
    throw new AudioFormatError(`encodePcmS16 expects a Float32Array, got ${describe(samples)}`);
  }
  const out = new Uint8Array(samples.length * 2);
  const view = new DataView(out.buffer);
  for (let i = 0; i < samples.length; i++) {
    const x = samples[i];
    // NaN encodes as silence rather than poisoning the stream
    const v = x !== x ? 0 : Math.round(clamp(x) * 32767);
    view.setInt16(2 * i, v, true);
  }
  return out;
}

/** A little-endian typed view of `bytes` (copied when misaligned or on a big-endian host). */
function samplesOf(bytes: Uint8Array, width: 2 | 4): Int16Array | Float32Array {
  const count = bytes.length / width;
  if (HOST_LE && bytes.byteOffset % width === 0) {
    return width === 2 ? new Int16Array(bytes.buffer, bytes.byteOffset, count) : new Float32Array(bytes.buffer, bytes.byteOffset, count);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (width === 2) {
    const s = new Int16Array(count);
    for (let i = 0; i < count; i++) s[i] = view.getInt16(2 * i, true);
    return s;
  }
  const f = new Float32Array(count);
  for (let i = 0; i < count; i++) f[i] = view.getFloat32(4 * i, true);
  return f;
}

function clamp(x: number): number {
  return x > 1 ? 1 : x < -1 ? -1 : x;
}

export function describe(v: unknown): string {
  if (ArrayBuffer.isView(v)) return `${v.constructor.name}(${(v as Uint8Array).length})`;
  return v === null ? 'null' : typeof v;
}

/** The chunks one after the other, in a new array; with `total`, only the first `total` samples. */
export function concatSamples(chunks: readonly Float32Array[], total?: number): Float32Array {
  const length = total ?? chunks.reduce((n, c) => n + c.length, 0);
  const out = new Float32Array(length);
  let at = 0;
  for (const c of chunks) {
    if (at >= length) break;
    const n = Math.min(c.length, length - at);
    out.set(n === c.length ? c : c.subarray(0, n), at);
    at += n;
  }
  return out;
}
