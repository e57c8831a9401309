/** I420 <-> beamcoder video frames (planes with padded line sizes). */

import { i420Size } from '../records.js';
import type { Beamcoder } from '../media/beamcoder.js';

/** yuvj420p is yuv420p with full-range levels: same memory layout. */
const I420_FORMATS = new Set(['yuv420p', 'yuvj420p']);

/** Copies a decoded beamcoder video frame (planes with padded line sizes) into a tight I420 buffer. */
export function videoFrameToI420(frame: Beamcoder): Uint8Array {
  const { width, height, format } = frame as { width: number; height: number; format: string };
  if (!I420_FORMATS.has(format)) {
    throw new Error(`readMp4: decoded pixel format ${format} is not supported; only yuv420p (I420) video is read`);
  }
  const out = new Uint8Array(i420Size(width, height));
  planesOf(width, height).forEach(([offset, w, h], p) => {
    const src: Buffer = frame.data[p];
    const stride: number = frame.linesize[p];
    for (let y = 0; y < h; y++) out.set(src.subarray(y * stride, y * stride + w), offset + y * w);
  });
  return out;
}

/** A beamcoder yuv420p frame holding a tight I420 buffer of width x height (rows copied to FFmpeg's padded line sizes). */
export function i420ToFrame(bc: Beamcoder, i420: Uint8Array, width: number, height: number, pts: number): Beamcoder {
  const frame = bc.frame({ width, height, format: 'yuv420p', pts }).alloc();
  writeI420(frame, i420, width, height);
  return frame;
}

/** Copies a tight I420 buffer into an allocated yuv420p frame of the same size (a frame used again and again). */
export function writeI420(frame: Beamcoder, i420: Uint8Array, width: number, height: number): void {
  const data: Buffer[] = frame.data;
  const linesize: number[] = frame.linesize;
  planesOf(width, height).forEach(([offset, w, h], p) => {
    const dst = data[p]!;
    const stride = linesize[p]!;
    if (stride === w) dst.set(i420.subarray(offset, offset + w * h));
    else for (let y = 0; y < h; y++) dst.set(i420.subarray(offset + y * w, offset + (y + 1) * w), y * stride);
  });
}

/** The three planes of a tight I420 buffer: [offset, width, height] of Y, U, V. */
function planesOf(width: number, height: number): [number, number, number][] {
  const cw = width >> 1;
  const ch = height >> 1;
  return [
    [0, width, height],
    [width * height, cw, ch],
    [width * height + cw * ch, cw, ch],
  ];
}
