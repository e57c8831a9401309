/** Converts a decoded beamcoder audio frame of any common sample format to mono float. */
import type { Beamcoder } from '../media/beamcoder.js';

type Sample = { bytes: number; read: (v: DataView, at: number) => number };

const LE = true;
const FORMATS: Record<string, Sample> = {
  flt: { bytes: 4, read: (v, at) => v.getFloat32(at, LE) },
  dbl: { bytes: 8, read: (v, at) => v.getFloat64(at, LE) },
  s16: { bytes: 2, read: (v, at) => v.getInt16(at, LE) / 32768 },
  s32: { bytes: 4, read: (v, at) => v.getInt32(at, LE) / 2147483648 },
  u8: { bytes: 1, read: (v, at) => (v.getUint8(at) - 128) / 128 },
};

/** Averages the channels of `frame` into one Float32Array of frame.nb_samples samples. */
export function audioFrameToMono(frame: Beamcoder): Float32Array {
  const format: string = frame.format;
  const planar = format.endsWith('p');
  const sample = FORMATS[planar ? format.slice(0, -1) : format];
  if (!sample) throw new Error(`readMp4: decoded sample format ${format} is not supported`);
  const n: number = frame.nb_samples;
  const channels: number = frame.channels;
  const out = new Float32Array(n);
  const views = (frame.data as Buffer[]).map((b) => new DataView(b.buffer, b.byteOffset, b.byteLength));
  for (let c = 0; c < channels; c++) {
    const view = planar ? views[c] : views[0];
    for (let i = 0; i < n; i++) {
      const at = planar ? i * sample.bytes : (i * channels + c) * sample.bytes;
      out[i] += sample.read(view, at) / channels;
    }
  }
  return out;
}
