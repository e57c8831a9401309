/**
 * The Sonic defaults follow the official inference config (config/inference/sonic.yaml of the
 * official repository: n_sample_frames 25, overlap 0, shift_offset 7, decode_chunk_size 8,
 * noise_aug_strength 0.00, appearance guidance 2.0, audio guidance 7.5), and the live windows run
 * the length Sonic runs (25).
 */
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../config/load.js';

describe('Sonic defaults', () => {
  it('follow config/inference/sonic.yaml, and the live windows are 25 frames', () => {
    const s = parseConfig({}).sonic;
    expect({ window: s.window_frames, overlap: s.overlap_frames, shift: s.shift_offset, decode: s.decode_chunk_frames, aug: s.noise_aug_strength }).toEqual({
      window: 25,
      overlap: 0,
      shift: 7,
      decode: 8,
      aug: 0,
    });
    expect([s.image_guidance, s.audio_guidance]).toEqual([2, 7.5]);
    expect(s.stream_window_frames).toBe(25);
    expect(s.stream_overlap_frames).toBeLessThan(s.stream_window_frames);
  });
});
