/**
 * Sliding-window readiness arithmetic for engines that analyse audio in windows.
 *
 * Window i spans samples [i*hop, i*hop + window) of the timeline and can be computed once the
 * timeline holds `lookahead` samples past its end: at length i*hop + window + lookahead.
 * A per-frame engine is the special case window = hop = one frame.
 */
export interface SchedulerOptions {
  /** samples one window spans */
  window: number;
  /** samples between window starts */
  hop: number;
  /** samples past a window's end needed before it is computed */
  lookahead: number;
  /** Hz of the timeline, for the latency in ms */
  sampleRate: number;
}

export class SlidingWindowScheduler {
  readonly options: Readonly<SchedulerOptions>;

  constructor(options: Partial<SchedulerOptions> & Pick<SchedulerOptions, 'window' | 'hop'>) {
    const o: SchedulerOptions = { lookahead: 0, sampleRate: 16_000, ...options };
    const int = (name: string, v: number, min: number): void => {
      if (!Number.isInteger(v) || v < min) throw new RangeError(`SlidingWindowScheduler: ${name} must be an integer >= ${min} (samples), got ${v}`);
    };
    int('window', o.window, 1);
    int('hop', o.hop, 1);
    int('lookahead', o.lookahead, 0);
    if (!(o.sampleRate > 0)) throw new RangeError(`SlidingWindowScheduler: sampleRate must be > 0 Hz, got ${o.sampleRate}`);
    this.options = Object.freeze(o);
  }

  /** Sample where window i starts. */
  windowStart(i: number): number { return i * this.options.hop; }
  /** Sample just past window i. */
  windowEnd(i: number): number { return i * this.options.hop + this.options.window; }
  /** Timeline length at which window i becomes ready. */
  readyAt(i: number): number { return this.windowEnd(i) + this.options.lookahead; }

  /** Windows (from 0) that are ready when the timeline holds `length` samples. */
  windowsReady(length: number): number {
    if (!(length >= 0)) throw new RangeError(`SlidingWindowScheduler.windowsReady: length must be >= 0, got ${length}`);
    const { window, hop, lookahead } = this.options;
    const room = length - window - lookahead;
    return room < 0 ? 0 : Math.floor(room / hop) + 1;
  }

  /**
   * Frames of `frameSamples` samples (from frame 0) whose audio lies wholly inside the ready windows.
   */
  framesReady(length: number, frameSamples: number): number {
    if (!(frameSamples > 0)) throw new RangeError(`SlidingWindowScheduler.framesReady: frameSamples must be > 0, got ${frameSamples}`);
    const n = this.windowsReady(length);
    return n === 0 ? 0 : Math.floor(this.windowEnd(n - 1) / frameSamples);
  }

  /** Algorithmic latency: a sample waits at most a window plus the lookahead before it is used, ms. */
  get latencyMs(): number {
    return ((this.options.window + this.options.lookahead) * 1000) / this.options.sampleRate;
  }
}
