/**
 * Idle motion per video frame, deterministic for a seed: blinks, a slowly wandering head and
 * breathing, all scaled by `motionScale` (0 = a still face).
 *
 * - Blinks: intervals uniform in [blinkMinS, blinkMaxS], each blink 150-250 ms (close fast, open
 *   slower), sometimes a double blink; both eyes together.
 * - Head: per axis a sum of three sinusoids at random frequencies (0.05-0.45 Hz) and phases, i.e.
 *   smooth band-limited noise; bounded by construction by the sum of the amplitudes. While speaking
 *   the amplitude eases up by `speakingGain`.
 * - Breathing: one sinusoid at a random rate in 0.2-0.3 Hz.
 */
import type { MotionParams } from '../records.js';

export interface IdleMotionOptions {
  /** frames per second */
  fps: number;
  /** seed of the pseudo-random generator (integer) */
  seed: number;
  /** scale of every idle motion; 0 = still (avatar.motion_scale) */
  motionScale: number;
  /** degrees: peak head yaw / pitch / roll while idle */
  yawDeg: number;
  pitchDeg: number;
  rollDeg: number;
  /** factor on head motion while speaking (eased in and out) */
  speakingGain: number;
  /** seconds: shortest and longest gap between blinks */
  blinkMinS: number;
  blinkMaxS: number;
  /** probability that a blink is followed by a second one */
  doubleBlinkP: number;
}

export const IDLE_MOTION_DEFAULTS: Readonly<IdleMotionOptions> = Object.freeze({
  fps: 25, seed: 1, motionScale: 1, yawDeg: 2.2, pitchDeg: 1.8, rollDeg: 1.1, speakingGain: 1.35,
  blinkMinS: 2, blinkMaxS: 6, doubleBlinkP: 0.15,
});

/** xorshift32 (Marsaglia 2003) with the seed spread by an integer hash first; uniform in [0, 1). */
export class Xorshift32 {
  private s: number;
  constructor(seed: number) {
    if (!Number.isInteger(seed)) throw new TypeError(`Xorshift32: seed must be an integer, got ${seed}`);
    let h = (seed ^ 0x9e3779b9) >>> 0;
    h = Math.imul(h ^ (h >>> 16), 0x85ebca6b) >>> 0;
    h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35) >>> 0;
    h = (h ^ (h >>> 16)) >>> 0;
    this.s = h === 0 ? 0x6d2b79f5 : h;
  }
  next(): number {
    let x = this.s;
    x ^= x << 13; x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5; x >>>= 0;
    this.s = x;
    return x / 4294967296;
  }
  range(lo: number, hi: number): number { return lo + (hi - lo) * this.next(); }
}

interface Wave { f: number; phase: number; amp: number }

export type IdleSample = Pick<MotionParams, 'blinkLeft' | 'blinkRight' | 'headYaw' | 'headPitch' | 'headRoll' | 'breath'>;

function waveSum(ws: readonly Wave[], t: number): number {
  let v = 0;
  for (const w of ws) v += w.amp * Math.sin(2 * Math.PI * w.f * t + w.phase);
  return v;
}

/** Eyelid closure 0..1 at `u` = time since the blink started / its duration. */
function blinkShape(u: number): number {
  if (u <= 0 || u >= 1) return 0;
  // closing takes 35 % of the blink, opening the rest (lids reopen slower than they close)
  return u < 0.35 ? Math.sin((Math.PI / 2) * (u / 0.35)) : Math.cos((Math.PI / 2) * ((u - 0.35) / 0.65));
}

export class IdleMotion {
  readonly options: Readonly<IdleMotionOptions>;
  private rng!: Xorshift32;
  private yaw!: Wave[];
  private pitch!: Wave[];
  private roll!: Wave[];
  private breathF = 0;
  private breathPhase = 0;
  /** upcoming/current blinks: start and duration in seconds, in time order */
  private blinks: { start: number; dur: number }[] = [];
  private nextBlinkAt = 0;
  private gain = 1;
  private lastIndex = -1;

  constructor(options: Partial<IdleMotionOptions> = {}) {
    const o = { ...IDLE_MOTION_DEFAULTS, ...options };
    if (!(o.fps > 0)) throw new RangeError(`IdleMotion: fps must be > 0, got ${o.fps}`);
    if (!Number.isInteger(o.seed)) throw new TypeError(`IdleMotion: seed must be an integer, got ${o.seed}`);
    if (!(o.motionScale >= 0) || !Number.isFinite(o.motionScale)) throw new RangeError(`IdleMotion: motionScale must be >= 0, got ${o.motionScale}`);
    if (!(o.blinkMinS > 0 && o.blinkMaxS >= o.blinkMinS)) throw new RangeError(`IdleMotion: need 0 < blinkMinS <= blinkMaxS (seconds), got ${o.blinkMinS}, ${o.blinkMaxS}`);
    if (!(o.doubleBlinkP >= 0 && o.doubleBlinkP <= 1)) throw new RangeError(`IdleMotion: doubleBlinkP must be in [0, 1], got ${o.doubleBlinkP}`);
    this.options = Object.freeze(o);
    this.reset();
  }

  private waves(peak: number): Wave[] {
    // random split of the peak over three components, so the sum never exceeds `peak`
    const w = [this.rng.range(0.5, 1), this.rng.range(0.3, 0.8), this.rng.range(0.1, 0.5)];
    const sum = w[0] + w[1] + w[2];
    const bands: [number, number][] = [[0.05, 0.12], [0.12, 0.25], [0.25, 0.45]];
    return w.map((x, i) => ({ f: this.rng.range(bands[i][0], bands[i][1]), phase: this.rng.range(0, 2 * Math.PI), amp: (peak * x) / sum }));
  }

  /** Back to frame 0; the same seed gives the same motion again. */
  reset(): void {
    const o = this.options;
    this.rng = new Xorshift32(o.seed);
    this.yaw = this.waves(o.yawDeg);
    this.pitch = this.waves(o.pitchDeg);
    this.roll = this.waves(o.rollDeg);
    this.breathF = this.rng.range(0.2, 0.3);
    this.breathPhase = this.rng.range(0, 2 * Math.PI);
    this.blinks = [];
    this.nextBlinkAt = this.rng.range(0.5, 3);
    this.gain = 1;
    this.lastIndex = -1;
  }

  private scheduleUntil(t: number): void {
    const o = this.options;
    while (this.nextBlinkAt <= t + 1) {
      const start = this.nextBlinkAt;
      const dur = this.rng.range(0.15, 0.25);
      this.blinks.push({ start, dur });
      let end = start + dur;
      if (this.rng.next() < o.doubleBlinkP) {
        const second = end + this.rng.range(0.06, 0.12);
        const dur2 = this.rng.range(0.15, 0.22);
        this.blinks.push({ start: second, dur: dur2 });
        end = second + dur2;
      }
      this.nextBlinkAt = end + this.rng.range(o.blinkMinS, o.blinkMaxS);
    }
    while (this.blinks.length > 0 && this.blinks[0].start + this.blinks[0].dur < t) this.blinks.shift();
  }

  /**
   * Idle motion at frame `index` (frames must come in non-decreasing order; skipped frames are
   * fine). Writes the blink, head and breath channels of `out` and returns it.
   */
  process(index: number, speaking: boolean, out: IdleSample = { blinkLeft: 0, blinkRight: 0, headYaw: 0, headPitch: 0, headRoll: 0, breath: 0 }): IdleSample {
    if (!Number.isInteger(index) || index < 0) throw new RangeError(`IdleMotion.process: index must be an integer >= 0, got ${index}`);
    if (index < this.lastIndex) throw new RangeError(`IdleMotion.process: frames must not go back (got ${index} after ${this.lastIndex}); call reset()`);
    const o = this.options;
    const t = index / o.fps;
    // ease the speaking gain with a ~0.5 s time constant per elapsed frame
    const steps = this.lastIndex < 0 ? 1 : index - this.lastIndex;
    const target = speaking ? o.speakingGain : 1;
    this.gain = target + (this.gain - target) * Math.exp(-steps / (0.5 * o.fps));
    this.lastIndex = index;
    this.scheduleUntil(t);

    let closure = 0;
    for (const b of this.blinks) closure = Math.max(closure, blinkShape((t - b.start) / b.dur));
    const s = o.motionScale;
    const lid = Math.min(1, s) * closure;
    const g = s * this.gain;
    out.blinkLeft = lid;
    out.blinkRight = lid;
    // (motion_scale 0 gives +0 exactly, not -0)
    out.headYaw = g === 0 ? 0 : g * waveSum(this.yaw, t);
    out.headPitch = g === 0 ? 0 : g * waveSum(this.pitch, t);
    out.headRoll = g === 0 ? 0 : g * waveSum(this.roll, t);
    out.breath = s === 0 ? 0 : Math.max(-1, Math.min(1, s * Math.sin(2 * Math.PI * this.breathF * t + this.breathPhase)));
    return out;
  }
}
