/**
 * Presets: partial configurations applied over the defaults and under the user's file.
 * `fast` is the default: real time on a CPU. `quality` trades speed for resolution and encoding.
 */
import type { PresetName } from './schema.js';

type PresetValues = {
  avatar?: Record<string, unknown>;
  encoder?: Record<string, unknown>;
};

export const PRESETS: Record<PresetName, PresetValues> = {
  fast: {
    avatar: { min_resolution: 512, inference_steps: 10 },
    encoder: { x264_preset: 'veryfast', crf: 23 },
  },
  quality: {
    avatar: { min_resolution: 768, inference_steps: 25,
      smoothing: { min_cutoff: 1.2, beta: 0.3, d_cutoff: 1.0 } },
    encoder: { x264_preset: 'medium', crf: 18, audio_bitrate: 192_000 },
  },
};
