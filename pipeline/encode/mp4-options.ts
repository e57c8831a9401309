/** Options of Mp4Writer, with their defaults and checks. */
import { encoderSchema } from '../../config/schema.js';

export type X264Preset = 'ultrafast' | 'superfast' | 'veryfast' | 'faster' | 'fast' | 'medium' | 'slow';

export interface Mp4WriterOptions {
  /** pixels, even */
  width: number;
  /** pixels, even */
  height: number;
  /** video frames per second (integer) */
  fps: number;
  /** Hz of the mono audio given to writeAudio, e.g. 48000 (one of the AAC sample rates) */
  sampleRate: number;
  /** libx264 preset (default: the config default, veryfast) */
  x264Preset?: X264Preset;
  /** libx264 constant rate factor, 0..51, lower = better (default 23) */
  crf?: number;
  /** AAC bit rate, bits per second (default 128000) */
  audioBitrate?: number;
}

/** Sample rates AAC-LC can signal. */
const AAC_RATES = [96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350];

const PRESETS: readonly X264Preset[] = encoderSchema.shape.x264_preset.unwrap().options;

/** Fills defaults and throws a TypeError naming the first bad option. */
export function validateWriterOptions(o: Mp4WriterOptions): Required<Mp4WriterOptions> {
  if (o === null || typeof o !== 'object') throw new TypeError('Mp4Writer: options must be an object');
  const defaults = encoderSchema.parse({});
  const full: Required<Mp4WriterOptions> = {
    width: o.width,
    height: o.height,
    fps: o.fps,
    sampleRate: o.sampleRate,
    x264Preset: o.x264Preset ?? defaults.x264_preset,
    crf: o.crf ?? defaults.crf,
    audioBitrate: o.audioBitrate ?? defaults.audio_bitrate,
  };
  for (const key of ['width', 'height'] as const) {
    const v = full[key];
    if (!Number.isInteger(v) || v < 2 || v > 8192 || v % 2 !== 0) {
      throw new TypeError(`Mp4Writer: ${key} must be an even integer of pixels in [2, 8192], got ${v}`);
    }
  }
  if (!Number.isInteger(full.fps) || full.fps < 1 || full.fps > 240) {
    throw new TypeError(`Mp4Writer: fps must be an integer in [1, 240], got ${full.fps}`);
  }
  if (!AAC_RATES.includes(full.sampleRate)) {
    throw new TypeError(`Mp4Writer: sampleRate must be one of the AAC rates (${AAC_RATES.join(', ')} Hz), got ${full.sampleRate}`);
  }
  if (!PRESETS.includes(full.x264Preset)) {
    throw new TypeError(`Mp4Writer: x264Preset must be one of ${PRESETS.join(', ')}, got ${String(full.x264Preset)}`);
  }
  if (!Number.isInteger(full.crf) || full.crf < 0 || full.crf > 51) {
    throw new TypeError(`Mp4Writer: crf must be an integer in [0, 51], got ${full.crf}`);
  }
  if (!Number.isInteger(full.audioBitrate) || full.audioBitrate < 8000 || full.audioBitrate > 512_000) {
    throw new TypeError(`Mp4Writer: audioBitrate must be an integer of bits per second in [8000, 512000], got ${full.audioBitrate}`);
  }
  return full;
}
