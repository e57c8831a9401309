/**
 * FeatureFrame -> mouth shape (jawOpen, lipWidth, lipRound).
 *
 *   level = loudness of the frame on a 0..1 scale, relative to a tracked speech peak
 *   gate  = smoothstep of the voice probability between vadLow and vadHigh
 *   jaw   = dynamicScale * gate * level * (jawFloor + (1 - jawFloor) * openness)
 * where openness, spread and rounding are the viseme weights (silence excluded, renormalised)
 * times per-viseme tables: open vowels (aa, O, E) open the jaw, bilabials and labiodentals
 * (PP, FF) nearly close it; U / O round the lips, I / E spread them.
 * Loudness carries the rhythm (the envelope the eye tracks); visemes shape it.
 */
import type { FeatureFrame, MotionParams } from '../records.js';
import { VISEMES, VISEME_COUNT, type VisemeName } from './visemes.js';

export interface MouthMapOptions {
  /** frames per second (for the loudness tracker's release) */
  fps: number;
  /** scale of all mouth motion (avatar.dynamic_scale); 0 = closed mouth */
  dynamicScale: number;
  /** voice probability at which the mouth starts to move, and at which it moves fully (0..1) */
  vadLow: number;
  vadHigh: number;
  /** dB: level 0 is this far below the tracked speech peak, level 1 at the peak */
  rangeDb: number;
  /** dBFS: the tracked peak never falls below this, so quiet noise is not amplified */
  peakFloorDb: number;
  /** dB per second the tracked peak falls when the speech gets quieter */
  peakReleaseDbPerS: number;
  /** fraction of the jaw opening left for the most closed viseme */
  jawFloor: number;
}

export const MOUTH_MAP_DEFAULTS: Readonly<MouthMapOptions> = Object.freeze({
  fps: 25, dynamicScale: 1, vadLow: 0.15, vadHigh: 0.5, rangeDb: 30, peakFloorDb: -30, peakReleaseDbPerS: 4, jawFloor: 0.2,
});

type Table = Record<Exclude<VisemeName, 'sil'>, number>;
const OPEN: Table = { PP: 0, FF: 0.15, TH: 0.35, DD: 0.4, kk: 0.45, CH: 0.35, SS: 0.3, nn: 0.3, RR: 0.45, aa: 1, E: 0.75, I: 0.5, O: 0.8, U: 0.45 };
const ROUND: Table = { PP: 0.1, FF: 0, TH: 0, DD: 0, kk: 0.1, CH: 0.45, SS: 0.1, nn: 0, RR: 0.35, aa: 0, E: 0, I: 0, O: 0.75, U: 1 };
const SPREAD: Table = { PP: 0, FF: 0.1, TH: 0.3, DD: 0.2, kk: 0.2, CH: -0.2, SS: 0.45, nn: 0.2, RR: -0.1, aa: 0.2, E: 0.55, I: 0.8, O: -0.4, U: -0.6 };
const table = (t: Table): Float32Array => Float32Array.from(VISEMES, (v) => (v === 'sil' ? 0 : t[v]));
const OPEN_T = table(OPEN);
const ROUND_T = table(ROUND);
const SPREAD_T = table(SPREAD);

export type MouthShape = Pick<MotionParams, 'jawOpen' | 'lipWidth' | 'lipRound'>;

const clamp = (x: number, lo: number, hi: number): number => (x < lo ? lo : x > hi ? hi : x);

export class MouthMapper {
  readonly options: Readonly<MouthMapOptions>;
  private peakDb: number;
  /** the loudness of the last frame processed, 0..1 relative to the tracked speech peak */
  level = 0;

  constructor(options: Partial<MouthMapOptions> = {}) {
    const o = { ...MOUTH_MAP_DEFAULTS, ...options };
    if (!(o.fps > 0)) throw new RangeError(`MouthMapper: fps must be > 0, got ${o.fps}`);
    if (!(o.dynamicScale >= 0) || !Number.isFinite(o.dynamicScale)) throw new RangeError(`MouthMapper: dynamicScale must be >= 0, got ${o.dynamicScale}`);
    if (!(o.vadLow >= 0 && o.vadHigh > o.vadLow && o.vadHigh <= 1)) throw new RangeError(`MouthMapper: need 0 <= vadLow < vadHigh <= 1, got ${o.vadLow}, ${o.vadHigh}`);
    if (!(o.rangeDb > 0)) throw new RangeError(`MouthMapper: rangeDb must be > 0, got ${o.rangeDb}`);
    if (!(o.jawFloor >= 0 && o.jawFloor <= 1)) throw new RangeError(`MouthMapper: jawFloor must be in [0, 1], got ${o.jawFloor}`);
    this.options = Object.freeze(o);
    this.peakDb = o.peakFloorDb;
  }

  /** Maps one frame; writes into `out` (a new object by default) and returns it. */
  process(f: FeatureFrame, out: MouthShape = { jawOpen: 0, lipWidth: 0, lipRound: 0 }): MouthShape {
    const o = this.options;
    if (f.visemes.length !== VISEME_COUNT) throw new RangeError(`MouthMapper.process: expected ${VISEME_COUNT} viseme weights, got ${f.visemes.length}`);
    if (!Number.isFinite(f.rms) || f.rms < 0 || !Number.isFinite(f.vad)) throw new TypeError(`MouthMapper.process: frame ${f.index} has rms ${f.rms}, vad ${f.vad}`);

    const db = 20 * Math.log10(f.rms + 1e-9);
    // peak tracker: instant attack, slow release, floored
    this.peakDb = Math.max(o.peakFloorDb, db, this.peakDb - o.peakReleaseDbPerS / o.fps);
    const level = clamp((db - (this.peakDb - o.rangeDb)) / o.rangeDb, 0, 1);
    this.level = level;
    const u = clamp((f.vad - o.vadLow) / (o.vadHigh - o.vadLow), 0, 1);
    const gate = u * u * (3 - 2 * u);

    let mass = 0, open = 0, round = 0, spread = 0;
    for (let i = 1; i < VISEME_COUNT; i++) {
      const w = f.visemes[i];
      mass += w;
      open += w * OPEN_T[i];
      round += w * ROUND_T[i];
      spread += w * SPREAD_T[i];
    }
    if (mass > 1e-6) { open /= mass; round /= mass; spread /= mass; } else { open = 0; round = 0; spread = 0; }

    const s = o.dynamicScale * gate;
    // lips shape as soon as there is some voice; the jaw follows the loudness itself
    const lipLevel = Math.min(1, 2 * level);
    out.jawOpen = clamp(s * level * (o.jawFloor + (1 - o.jawFloor) * open), 0, 1);
    out.lipRound = clamp(s * lipLevel * round, 0, 1);
    out.lipWidth = clamp(s * lipLevel * (spread - 0.5 * round), -1, 1);
    return out;
  }

  reset(): void { this.peakDb = this.options.peakFloorDb; this.level = 0; }
}
