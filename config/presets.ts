/**
 * Presets: partial configurations applied over the defaults and under the user's file.
 * `fast` is the default: real time on a CPU. `quality` trades speed for resolution and encoding.
 * Both render a portrait-screen picture (9:16; a kiosk's 1080x1920 shows 540x960 at 2x, 720x1280 at
 * 1.5x); `avatar.width` / `avatar.height` in the file choose another shape, null for both the
 * square Sonic crop of min_resolution.
 */
import type { PresetName } from './schema.js';

type PresetValues = {
  avatar?: Record<string, unknown>;
  encoder?: Record<string, unknown>;
};

export const PRESETS: Record<PresetName, PresetValues> = {
  fast: {
    avatar: { min_resolution: 512, width: 540, height: 960, inference_steps: 10 },
    encoder: { x264_preset: 'veryfast', crf: 23 },
  },
  quality: {
    avatar: { min_resolution: 768, width: 720, height: 1280, inference_steps: 25,
      smoothing: { min_cutoff: 1.2, beta: 0.3, d_cutoff: 1.0 } },
    encoder: { x264_preset: 'medium', crf: 18, audio_bitrate: 192_000 },
  },
};
