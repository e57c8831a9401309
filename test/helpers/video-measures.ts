/** Measurements on decoded frames and audio, shared by the render and streaming tests. */
import type { EnrolledPortrait } from '../../models/face/PortraitTypes.js';

export interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** Mean Y (luma) of an I420 frame inside `r`. */
export function meanLuma(i420: Uint8Array, width: number, r: Rect): number {
  let s = 0;
  for (let y = r.y; y < r.y + r.height; y++) {
    const row = y * width;
    for (let x = r.x; x < r.x + r.width; x++) s += i420[row + x]!;
  }
  return s / (r.width * r.height);
}

/** Mean |a - b| of the Y planes inside `r`. */
export function meanAbsDiff(a: Uint8Array, b: Uint8Array, width: number, r: Rect): number {
  let s = 0;
  for (let y = r.y; y < r.y + r.height; y++) {
    const row = y * width;
    for (let x = r.x; x < r.x + r.width; x++) s += Math.abs(a[row + x]! - b[row + x]!);
  }
  return s / (r.width * r.height);
}

/** The box between the mouth corners and from the upper lip to below the lower lip. */
export function mouthBox(p: EnrolledPortrait): Rect {
  const m = p.landmarks.mouth;
  const x0 = Math.min(m.left.x, m.right.x);
  const x1 = Math.max(m.left.x, m.right.x);
  const lipH = Math.max(4, m.lowerOuter.y - m.upperOuter.y);
  const inset = (x1 - x0) * 0.2;
  const y0 = m.upperInner.y - lipH * 0.1;
  const y1 = m.lowerOuter.y + lipH * 0.6;
  return {
    x: Math.round(x0 + inset),
    y: Math.round(y0),
    width: Math.max(2, Math.round(x1 - x0 - 2 * inset)),
    height: Math.max(2, Math.round(y1 - y0)),
  };
}

/** RMS of the audio under each video frame. */
export function frameRms(samples: Float32Array, sampleRate: number, fps: number, frames: number): number[] {
  const out: number[] = [];
  for (let k = 0; k < frames; k++) {
    const a = Math.round((k * sampleRate) / fps);
    const b = Math.min(samples.length, Math.round(((k + 1) * sampleRate) / fps));
    let s = 0;
    for (let i = a; i < b; i++) s += samples[i]! * samples[i]!;
    out.push(b > a ? Math.sqrt(s / (b - a)) : 0);
  }
  return out;
}
