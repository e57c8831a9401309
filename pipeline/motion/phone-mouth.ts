/**
 * Mouth shapes from timed phones (issue 18): each frame's shape is the blend of the phones around
 * it, each weighted by its dominance (pipeline/phonemes/phones.ts), which falls off with the time
 * from the phone's own span. Lip shape (rounding, spread) reaches further ahead than behind, so a
 * rounded vowel rounds the lips already through the consonants before it (anticipatory
 * co-articulation); the opening reaches less far, so a closure is not blurred away. On top of the
 * blend, a frame that holds the middle of a p / b / m closes the lips completely: every bilabial
 * shows as a closure on at least one frame, and every f / v as the lower lip on the upper teeth.
 * A diphthong moves from its first vowel's shape to its last's ("now" ends rounded, "my" spread).
 *
 * Times are seconds on the motion timeline (the audio pushed so far, from its start).
 */
import { MOUTH_TARGETS, mouthParts, type MouthClass, type TimedPhone } from '../phonemes/phones.js';

export interface PhoneShape {
  open: number;
  round: number;
  spread: number;
  /** a bilabial's middle falls on this frame: the lips meet */
  closed: boolean;
  /** a labiodental's (f, v) middle falls on this frame: the lower lip meets the upper teeth */
  bite: boolean;
  /** 0-1: how much of the opening a pause holds (1 inside a pause between words or phrases, 0 away from one) */
  rest: number;
}

export interface PhoneMouthOptions {
  /** s: how fast a phone's hold on the opening falls off outside its span */
  openReach: number;
  /** s: the same for the lip shape, before the phone (anticipation) and after it (carry-over) */
  shapeReachBefore: number;
  shapeReachAfter: number;
}

export const PHONE_MOUTH_DEFAULTS: Readonly<PhoneMouthOptions> = Object.freeze({ openReach: 0.025, shapeReachBefore: 0.06, shapeReachAfter: 0.04 });

interface Placed {
  cls: MouthClass;
  start: number;
  end: number;
}

/** How far past its span a phone counts at all, s. */
const HORIZON = 0.4;

export class PhoneMouth {
  readonly options: Readonly<PhoneMouthOptions>;
  /** the phones on the timeline, in time order */
  private phones: Placed[] = [];

  constructor(options: Partial<PhoneMouthOptions> = {}) {
    this.options = Object.freeze({ ...PHONE_MOUTH_DEFAULTS, ...options });
  }

  /** Adds phones whose times count from `at` seconds on the timeline. Overlapping older phones are replaced. */
  add(phones: readonly TimedPhone[], at: number): void {
    const placed: Placed[] = [];
    for (const p of phones) {
      if (!(Number.isFinite(p.start) && Number.isFinite(p.end) && p.end > p.start && p.start >= 0)) throw new RangeError(`PhoneMouth.add: bad phone ${JSON.stringify(p)}`);
      // a diphthong as its parts, one after the other (phones.ts mouthParts)
      let from = at + p.start;
      const parts = mouthParts(p.phone);
      parts.forEach((part, i) => {
        const to = i === parts.length - 1 ? at + p.end : from + part.share * (p.end - p.start);
        placed.push({ cls: part.cls, start: from, end: to });
        from = to;
      });
    }
    if (placed.length === 0) return;
    placed.sort((a, b) => a.start - b.start);
    const from = placed[0]!.start;
    this.phones = this.phones.filter((p) => p.end <= from).concat(placed);
  }

  /** Forgets phones that end before `t` minus the horizon (they cannot shape a frame any more). */
  forgetBefore(t: number): void {
    const keep = this.phones.findIndex((p) => p.end > t - HORIZON);
    if (keep < 0) this.phones = [];
    else if (keep > 0) this.phones = this.phones.slice(keep);
  }

  /** Drops the phones from `t` on (the audio there became silence: a barge-in). */
  cutFrom(t: number): void {
    this.phones = this.phones.filter((p) => p.start < t).map((p) => (p.end > t ? { ...p, end: t } : p));
  }

  clear(): void {
    this.phones = [];
  }

  /** Whether phones cover the frame [t0, t1) (then they, not the audio, shape the mouth). */
  covers(t0: number, t1: number): boolean {
    const n = this.phones.length;
    if (n === 0) return false;
    return t1 > this.phones[0]!.start && t0 < this.phones[n - 1]!.end;
  }

  /** The shape for the frame [t0, t1), or undefined where no phone covers it. */
  shape(t0: number, t1: number, out: PhoneShape = { open: 0, round: 0, spread: 0, closed: false, bite: false, rest: 0 }): PhoneShape | undefined {
    if (!this.covers(t0, t1)) return undefined;
    const t = (t0 + t1) / 2;
    const o = this.options;
    let wo = 0, open = 0, ws = 0, round = 0, spread = 0, rest = 0;
    let closed = false, bite = false;
    for (const p of this.phones) {
      if (p.end < t - HORIZON) continue;
      if (p.start > t + HORIZON) break;
      const target = MOUTH_TARGETS[p.cls];
      const before = p.start - t; // > 0: the phone is still to come
      const after = t - p.end; // > 0: the phone is past
      const dOpen = Math.exp(-Math.max(0, before, after) / o.openReach) * target.openWeight;
      const dShape = Math.exp(-(before > 0 ? before / o.shapeReachBefore : after > 0 ? after / o.shapeReachAfter : 0)) * target.shapeWeight;
      wo += dOpen;
      open += dOpen * target.open;
      if (p.cls === 'pause') rest += dOpen;
      ws += dShape;
      round += dShape * target.round;
      spread += dShape * target.spread;
      if (p.cls === 'closed' || p.cls === 'labiodental') {
        const mid = (p.start + p.end) / 2;
        if ((mid >= t0 && mid < t1) || (t >= p.start && t < p.end)) {
          if (p.cls === 'closed') closed = true;
          else bite = true;
        }
      }
    }
    out.open = wo > 1e-9 ? open / wo : 0;
    // (a pause's tail, under 10 % of the opening's weight, counts for nothing)
    out.rest = wo > 1e-9 ? Math.min(1, Math.max(0, (rest / wo - 0.1) / 0.8)) : 0;
    out.round = ws > 1e-9 ? round / ws : 0;
    out.spread = ws > 1e-9 ? spread / ws : 0;
    out.closed = closed;
    out.bite = bite;
    if (closed) out.open = 0;
    return out;
  }
}
