/**
 * Which whisper frames each generated frame and each window reads (pure).
 *
 * Whisper gives 50 hidden states per second; Sonic generates 12.5 frames per second, so 4 whisper
 * frames per generated frame. Generated frame g reads the 10 whisper frames (0.2 s) centred on its
 * middle; a window's motion bucket reads the 50 (1 s) centred on the window's middle. The lip-sync
 * offset moves both: positive = the mouth moves later (it reads earlier audio).
 */
import { AUDIO_WINDOWS, WHISPER } from './contract.js';

/** Sonic generates at 12.5 fps; the engine interpolates to the output fps. */
export const GENERATED_FPS = 12.5;
export const WHISPER_PER_FRAME = WHISPER.framesPerSecond / GENERATED_FPS;

/** Hidden states of whisper frames [start, start + count), `width` = L * A values each. */
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
  const centre = Math.round((g + 0.5) * WHISPER_PER_FRAME);
  return centre - AUDIO_WINDOWS.token / 2 - offsetFrames(lipSyncOffsetMs);
}

/** First whisper frame of the bucket window of generated frames [first, first + size). */
export function bucketWindowStart(first: number, size: number, lipSyncOffsetMs: number): number {
  const centre = Math.round((first + size / 2) * WHISPER_PER_FRAME);
  return centre - AUDIO_WINDOWS.bucket / 2 - offsetFrames(lipSyncOffsetMs);
}

/** The last whisper frame (exclusive) the window [first, first + size) reads. */
export function windowAudioEnd(first: number, size: number, lipSyncOffsetMs: number): number {
  return Math.max(tokenWindowStart(first + size - 1, lipSyncOffsetMs) + AUDIO_WINDOWS.token, bucketWindowStart(first, size, lipSyncOffsetMs) + AUDIO_WINDOWS.bucket);
}

/**
 * Copies whisper frames [from, from + n) into `out` at `offset` (in frames); frames before the
 * track's start or past its end repeat its first or last frame.
 */
export function gatherFrames(track: WhisperTrack, from: number, n: number, out: Float32Array, offset = 0): void {
  const w = track.width;
  for (let i = 0; i < n; i++) {
    const at = Math.min(track.count - 1, Math.max(0, from + i - track.start));
    out.set(track.data.subarray(at * w, (at + 1) * w), (offset + i) * w);
  }
}
