/**
 * Video frames on the analysis timeline, and the bookkeeping that turns per-hop model outputs
 * (each about the audio around a "centre" sample) into per-video-frame values.
 *
 * Frame k spans samples [start(k), start(k+1)) with start(k) = floor(k * rate / fps).
 */
export class FrameGrid {
  constructor(readonly rate: number, readonly fps: number) {
    if (!(rate > 0) || !Number.isFinite(rate)) throw new RangeError(`FrameGrid: rate must be > 0 Hz, got ${rate}`);
    if (!(fps > 0) || !Number.isFinite(fps)) throw new RangeError(`FrameGrid: fps must be > 0, got ${fps}`);
  }
  start(k: number): number { return Math.floor((k * this.rate) / this.fps); }
  end(k: number): number { return this.start(k + 1); }
  /** Frames wholly inside the first `length` samples. */
  framesIn(length: number): number {
    let k = Math.floor((length * this.fps) / this.rate);
    while (k > 0 && this.end(k - 1) > length) k -= 1;
    while (this.end(k) <= length) k += 1;
    return k;
  }
}

/** Growable FIFO of fixed-size Float32 records (one per video frame). */
export class RecordQueue {
  private buf: Float32Array;
  private head = 0;
  private n = 0;
  private cap: number;

  constructor(readonly dim: number, capacity = 64) {
    this.cap = capacity;
    this.buf = new Float32Array(capacity * dim);
  }
  get length(): number { return this.n; }

  /** Appends a record and returns a view of its slot to fill (valid until the next push). */
  push(): Float32Array {
    if (this.n === this.cap) this.grow();
    const slot = (this.head + this.n) % this.cap;
    this.n += 1;
    return this.buf.subarray(slot * this.dim, (slot + 1) * this.dim);
  }
  /** Removes the oldest record, copying it into `out`. */
  shift(out: Float32Array): void {
    if (this.n === 0) throw new Error('RecordQueue.shift: empty');
    out.set(this.buf.subarray(this.head * this.dim, (this.head + 1) * this.dim));
    this.head = (this.head + 1) % this.cap;
    this.n -= 1;
  }
  clear(): void { this.head = 0; this.n = 0; }

  private grow(): void {
    // The queue holds frames computed but not yet pulled; it only grows if the caller pushes
    // audio far ahead of pulling frames, and never drops them.
    const next = new Float32Array(this.cap * 2 * this.dim);
    for (let i = 0; i < this.n; i++) {
      const s = (this.head + i) % this.cap;
      next.set(this.buf.subarray(s * this.dim, (s + 1) * this.dim), i * this.dim);
    }
    this.buf = next;
    this.head = 0;
    this.cap *= 2;
  }
}

/**
 * Averages hop values whose centre falls inside each video frame. Hops must arrive with
 * non-decreasing centres, so a hop with centre c also proves every frame ending at or before c
 * complete; `completeUpTo(p)` completes frames ending at or before p when the caller knows no hop
 * with a centre below p is still to come. A frame that received no hop (a frame shorter than the
 * hop) repeats the previous frame's values (`initial` for the first).
 */
export class HopAverager {
  private readonly sum: Float64Array;
  private count = 0;
  private readonly last: Float32Array;
  /** frame being accumulated */
  private frame: number;

  constructor(private readonly grid: FrameGrid, readonly dim: number, private readonly initial: ArrayLike<number>, readonly out: RecordQueue, firstFrame = 0) {
    if (initial.length !== dim) throw new RangeError(`HopAverager: initial has ${initial.length} values, expected ${dim}`);
    this.sum = new Float64Array(dim);
    this.last = Float32Array.from(initial);
    this.frame = firstFrame;
  }

  /** Next frame to be completed. */
  get nextFrame(): number { return this.frame; }

  add(centre: number, values: ArrayLike<number>): void {
    this.completeUpTo(centre);
    if (centre < this.grid.start(this.frame)) return; // before the first frame (cannot happen after a reset at a frame start)
    for (let i = 0; i < this.dim; i++) this.sum[i] += values[i];
    this.count += 1;
  }

  completeUpTo(position: number): void {
    while (this.grid.end(this.frame) <= position) {
      const rec = this.out.push();
      if (this.count > 0) {
        for (let i = 0; i < this.dim; i++) rec[i] = this.sum[i] / this.count;
        this.last.set(rec);
      } else {
        rec.set(this.last);
      }
      this.sum.fill(0);
      this.count = 0;
      this.frame += 1;
    }
  }

  reset(firstFrame = 0): void {
    this.sum.fill(0);
    this.count = 0;
    this.last.set(this.initial);
    this.frame = firstFrame;
  }
}
