/**
 * Which whisper frames each generated frame and each window reads (pure).
 *
 * Whisper gives 50 hidden states per second; Sonic generates 12.5 frames per second, so 4 whisper
 * frames per generated frame. As the reference (which pads the whisper states with 4 zero frames
 * before and 6 after for tokens, 24 and 26 for buckets): generated frame g's audio tokens read
 * whisper frames [4g - 4, 4g + 6) of every hidden state; its motion bucket reads [4g - 24, 4g + 26)
 * of the last one. A window's bucket is the mean of its frames'. The lip-sync offset moves both:
 * positive = the mouth moves later (it reads earlier audio).
 */
import { AUDIO_WINDOWS, WHISPER } from './contract.js';

/** Sonic generates at 12.5 fps; the engine interpolates to the output fps. */
export const GENERATED_FPS = 12.5;
export const WHISPER_PER_FRAME = WHISPER.framesPerSecond / GENERATED_FPS;

/** Hidden states of whisper frames [start, start + count), `width` = L * A values each. */
/** 16 kHz samples per whisper frame (20 ms). */
export const SAMPLES_PER_WHISPER = 320;

export interface WhisperTrack {
  start: number;
  count: number;
  width: number;
  data: Float32Array;
}

/** Whisper frames shifted by the lip-sync offset (20 ms each). */
export function offsetFrames(lipSyncOffsetMs: number): number {
  return Math.round(lipSyncOffsetMs / (1000 / WHISPER.framesPerSecond));
}

/** First whisper frame of generated frame g's token window. */
export function tokenWindowStart(g: number, lipSyncOffsetMs: number): number {
  return g * WHISPER_PER_FRAME - 4 - offsetFrames(lipSyncOffsetMs);
}

/** First whisper frame of generated frame g's bucket window. */
export function bucketWindowStart(g: number, lipSyncOffsetMs: number): number {
  return g * WHISPER_PER_FRAME - 24 - offsetFrames(lipSyncOffsetMs);
}

/** The last whisper frame (exclusive) the window [first, first + size) reads. */
export function windowAudioEnd(first: number, size: number, lipSyncOffsetMs: number): number {
  const last = first + size - 1;
  return Math.max(tokenWindowStart(last, lipSyncOffsetMs) + AUDIO_WINDOWS.token, bucketWindowStart(last, lipSyncOffsetMs) + AUDIO_WINDOWS.bucket);
}

/**
 * Copies whisper frames [from, from + n) into `out` at `offset` (in frames); frames outside the
 * track are zeros, as the reference pads them. `part`: only `width` values from
 * `at` of each frame (the last hidden state, for buckets).
 */
export function gatherFrames(track: WhisperTrack, from: number, n: number, out: Float32Array, offset = 0, part?: { at: number; width: number }): void {
  const w = track.width;
  const pw = part?.width ?? w;
  const pa = part?.at ?? 0;
  for (let i = 0; i < n; i++) {
    const at = from + i - track.start;
    if (at < 0 || at >= track.count) out.fill(0, (offset + i) * pw, (offset + i + 1) * pw);
    else out.set(track.data.subarray(at * w + pa, at * w + pa + pw), (offset + i) * pw);
  }
}
