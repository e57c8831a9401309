/** Converts a decoded beamcoder (FFmpeg) audio frame of any common sample format to mono float. */
import type { Beamcoder } from '../media/beamcoder.js';
import { AudioFileError } from './errors.js';

type View = Uint8Array | Int16Array | Int32Array | Float32Array | Float64Array;

interface SampleType {
  bytes: number;
  view: (buf: ArrayBufferLike, offset: number, length: number) => View;
  /** sample value = (raw + bias) * scale */
  bias: number;
  scale: number;
}

const TYPES: Record<string, SampleType> = {
  u8: { bytes: 1, view: (b, o, n) => new Uint8Array(b, o, n), bias: -128, scale: 1 / 128 },
  s16: { bytes: 2, view: (b, o, n) => new Int16Array(b, o, n), bias: 0, scale: 1 / 32768 },
  s32: { bytes: 4, view: (b, o, n) => new Int32Array(b, o, n), bias: 0, scale: 1 / 2147483648 },
  flt: { bytes: 4, view: (b, o, n) => new Float32Array(b, o, n), bias: 0, scale: 1 },
  dbl: { bytes: 8, view: (b, o, n) => new Float64Array(b, o, n), bias: 0, scale: 1 },
};

/** Averages the channels of `frame` into `frame.nb_samples` mono samples, clamped to [-1, 1]. */
export function frameToMono(frame: Beamcoder): Float32Array {
  const format: string = frame.format;
  const planar = format.endsWith('p');
  const type = TYPES[planar ? format.slice(0, -1) : format];
  if (!type) throw new AudioFileError(`the decoder produced sample format ${format}, which is not supported`);
  const n: number = frame.nb_samples;
  const channels: number = frame.channels;
  const out = new Float32Array(n);
  const gain = type.scale / channels;
  const bias = type.bias;
  const planes = planar ? channels : 1;
  const stride = planar ? 1 : channels;
  for (let plane = 0; plane < planes; plane++) {
    const v = typed(frame.data[plane] as Buffer, type, n * stride);
    for (let c = 0; c < (planar ? 1 : channels); c++) {
      for (let i = 0, at = c; i < n; i++, at += stride) out[i] += (v[at] + bias) * gain;
    }
  }
  for (let i = 0; i < n; i++) {
    const x = out[i];
    out[i] = x > 1 ? 1 : x < -1 ? -1 : x === x ? x : 0;
  }
  return out;
}

/** A typed view of `count` samples of `buf`, copied first when its offset is misaligned. */
function typed(buf: Buffer, type: SampleType, count: number): View {
  if (!buf || buf.byteLength < count * type.bytes) {
    throw new AudioFileError(`a decoded audio frame holds ${buf?.byteLength ?? 0} bytes, ${count * type.bytes} expected`);
  }
  if (buf.byteOffset % type.bytes === 0) return type.view(buf.buffer, buf.byteOffset, count);
  const copy = new Uint8Array(buf.subarray(0, count * type.bytes));
  return type.view(copy.buffer, 0, count);
}
