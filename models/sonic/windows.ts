/**
 * Sonic's frames come in windows of `size` latent frames (25 by default) that overlap by
 * `overlap`; where windows overlap, their predictions are blended with linear ramps, so no seam
 * shows. Pure: plans and weights; the runner runs the UNet per window.
 *
 *   offline    every window is denoised at every step over the whole clip; at each step the
 *              windows are shifted by `shiftOffset` frames more (cyclically), as the reference
 *              does, so no frame stays at a window edge for all steps.
 *   streaming  causal windows (pipeline/engine/sonic-engine.ts): frames are final once the next
 *              window has blended into them; the engine states its latency as info.lookaheadMs.
 */

export interface Window {
  /** first frame (may be >= total in offline mode: frames are taken modulo total) */
  start: number;
  size: number;
}

/** Offline: the windows of one sampler step, shifted cyclically by step * shiftOffset frames. */
export function shiftedWindows(total: number, size: number, overlap: number, step: number, shiftOffset: number): Window[] {
  if (total <= size) return [{ start: 0, size: total }];
  const stride = size - overlap;
  const count = Math.ceil(total / stride);
  const shift = (step * shiftOffset) % total;
  return Array.from({ length: count }, (_, k) => ({ start: k * stride + shift, size }));
}

/**
 * Blend weights of a window's frames: 1 inside, a linear ramp over `overlap` frames at an edge
 * that another window shares (ramps of neighbouring windows sum to 1).
 */
export function windowWeights(size: number, overlap: number, rampIn: boolean, rampOut: boolean): Float32Array {
  const w = new Float32Array(size).fill(1);
  for (let i = 0; i < overlap && i < size; i++) {
    const ramp = (i + 1) / (overlap + 1);
    if (rampIn) w[i] = Math.min(w[i]!, ramp);
    if (rampOut) w[size - 1 - i] = Math.min(w[size - 1 - i]!, ramp);
  }
  return w;
}

/**
 * Accumulates per-window predictions of `frameSize` values per frame into a whole clip: call
 * add() for each window, then result() (weighted mean per frame). Frames index modulo `total`.
 */
export class WindowBlender {
  private readonly sum: Float32Array;
  private readonly weight: Float32Array;

  constructor(
    readonly total: number,
    readonly frameSize: number,
  ) {
    this.sum = new Float32Array(total * frameSize);
    this.weight = new Float32Array(total);
  }

  add(win: Window, values: Float32Array, weights: Float32Array): void {
    if (values.length !== win.size * this.frameSize) throw new RangeError(`WindowBlender.add: ${values.length} values for a window of ${win.size} frames x ${this.frameSize}`);
    for (let f = 0; f < win.size; f++) {
      const at = (win.start + f) % this.total;
      const w = weights[f]!;
      this.weight[at]! += w;
      const src = f * this.frameSize;
      const dst = at * this.frameSize;
      for (let i = 0; i < this.frameSize; i++) this.sum[dst + i]! += w * values[src + i]!;
    }
  }

  result(): Float32Array {
    const out = new Float32Array(this.sum.length);
    for (let f = 0; f < this.total; f++) {
      const w = this.weight[f]!;
      if (!(w > 0)) throw new Error(`WindowBlender.result: frame ${f} is in no window`);
      for (let i = 0; i < this.frameSize; i++) out[f * this.frameSize + i] = this.sum[f * this.frameSize + i]! / w;
    }
    return out;
  }
}
