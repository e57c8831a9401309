/**
 * Sonic's frames come in windows of `size` latent frames (25, the length it was trained on).
 * Pure: window plans and the streaming latency rule; the runner runs the UNet per window.
 *
 *   offline    every window is denoised at every step over the whole clip; at each step the
 *              windows start `shiftOffset` frames earlier (cyclically), as SonicPipeline does
 *              (index_start - shift), so no frame stays at a window edge for all steps. A window
 *              always has `size` frames: a clip shorter than that repeats (frames modulo total),
 *              as the reference's windows do.
 *   streaming  causal windows (pipeline/engine/sonic-engine.ts) that overlap by `overlap`
 *              frames, pinned to the previous window; latency: streamingLatency() below.
 */

export interface Window {
  /** first frame (may be >= total in offline mode: frames are taken modulo total) */
  start: number;
  size: number;
}

/**
 * Offline: the windows of one sampler step: range(0, total, size - overlap) shifted back by
 * step * shiftOffset frames, starts taken modulo total (non-negative).
 */
export function shiftedWindows(total: number, size: number, overlap: number, step: number, shiftOffset: number): Window[] {
  if (!(overlap < size)) throw new RangeError(`shiftedWindows: overlap (${overlap}) must be less than the window (${size})`);
  const stride = size - overlap;
  const count = Math.ceil(total / stride);
  const shift = step * shiftOffset;
  return Array.from({ length: count }, (_, k) => ({ start: (((k * stride - shift) % total) + total) % total, size }));
}

/**
 * Streaming latency as the engine behaves (pure). Window j can start once its audio is in
 * (`lookaheadMs` past its first output frame's time for the worst frame) and once window j - 1 is
 * done; it takes `computeMs`. While computeMs <= hopMs (the new frames a window makes, in ms of
 * video) every window starts as its audio arrives: latency = lookaheadMs + computeMs. Above that
 * the windows queue: window j finishes (j + 1) * computeMs after the first one could start while
 * its audio arrived j * hopMs later, so the latency grows by computeMs - hopMs per window and
 * the engine cannot stream (it falls behind by that much every hop).
 */
export function streamingLatency(o: { lookaheadMs: number; hopMs: number; computeMs: number; windows: number }): {
  realTime: boolean;
  /** latency of the first window's worst frame */
  firstMs: number;
  /** latency of the last of `windows` windows' worst frame */
  lastMs: number;
  /** growth per window (0 when real time) */
  growthPerWindowMs: number;
} {
  const growth = Math.max(0, o.computeMs - o.hopMs);
  const firstMs = o.lookaheadMs + o.computeMs;
  return { realTime: growth === 0, firstMs, lastMs: firstMs + growth * Math.max(0, o.windows - 1), growthPerWindowMs: growth };
}
