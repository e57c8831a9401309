/**
 * What the mouth recogniser's closures do on one utterance with known phones (eval-recorded.ts,
 * eval-mandarin.ts), per p / b / m phone: a closure named within NEAR of it ("heard near"), and the
 * 25 fps frame at its middle closed as the live path shapes the mouth (PhoneMouth); and the closure
 * time named away from any p / b / m (inside other sounds than pauses: `awaySpeechS`).
 */
import { PhoneMouth } from '../../pipeline/motion/phone-mouth.js';
import { MouthRecogniser, type MouthModel } from '../../pipeline/phonemes/mouth-recogniser.js';
import { mouthClass, type TimedPhone } from '../../pipeline/phonemes/phones.js';

const NEAR = 0.02;
const FPS = 25;

export interface ClosureCounts {
  /** p / b / m phones */
  total: number;
  near: number;
  middle: number;
  /** seconds of closure named, of them away from any p / b / m, of those inside other sounds */
  closedS: number;
  awayS: number;
  awaySpeechS: number;
  /** seconds of speech (phones other than pauses) */
  speechS: number;
  /** per p / b / m: its phone and # (middle frame closed), + (heard near only) or - (missed) */
  marks: string[];
}

/** Runs the recogniser over `samples` (16 kHz mono) and counts against `phones`. */
export function closureCounts(model: MouthModel, samples: Float32Array, phones: readonly TimedPhone[]): ClosureCounts {
  const rec = new MouthRecogniser(model);
  const named = [...rec.push(samples), ...rec.pushSilence(16_000)];
  const closures = named.filter((p) => mouthClass(p.phone) === 'closed');
  const mouth = new PhoneMouth();
  mouth.add(named, 0);
  const isNear = (c: TimedPhone, p: TimedPhone) => c.end > p.start - NEAR && c.start < p.end + NEAR;
  const n: ClosureCounts = { total: 0, near: 0, middle: 0, closedS: 0, awayS: 0, awaySpeechS: 0, speechS: 0, marks: [] };
  for (const p of phones) {
    if (mouthClass(p.phone) !== 'pause') n.speechS += p.end - p.start;
    if (mouthClass(p.phone) !== 'closed') continue;
    n.total++;
    const heard = closures.some((c) => isNear(c, p));
    const k = Math.floor(((p.start + p.end) / 2) * FPS);
    const shown = mouth.shape(k / FPS, (k + 1) / FPS)?.closed ?? false;
    if (heard) n.near++;
    if (shown) n.middle++;
    n.marks.push(`${p.phone}${heard ? (shown ? '#' : '+') : '-'}`);
  }
  for (const c of closures) {
    n.closedS += c.end - c.start;
    if (phones.some((p) => mouthClass(p.phone) === 'closed' && isNear(c, p))) continue;
    n.awayS += c.end - c.start;
    // (lips closed in a pause are no error: only those inside other speech sounds)
    const mid = (c.start + c.end) / 2;
    if (phones.some((p) => mouthClass(p.phone) !== 'pause' && mid >= p.start && mid < p.end)) n.awaySpeechS += c.end - c.start;
  }
  return n;
}

/** Sums the counts of several utterances. */
export function addCounts(a: ClosureCounts, b: ClosureCounts): ClosureCounts {
  return {
    total: a.total + b.total,
    near: a.near + b.near,
    middle: a.middle + b.middle,
    closedS: a.closedS + b.closedS,
    awayS: a.awayS + b.awayS,
    awaySpeechS: a.awaySpeechS + b.awaySpeechS,
    speechS: a.speechS + b.speechS,
    marks: [...a.marks, ...b.marks],
  };
}
