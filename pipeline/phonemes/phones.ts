/**
 * Phones and the mouth shapes they ask for.
 *
 * A phone is an espeak-ng phoneme mnemonic (English "p", "u:", "aI"; Mandarin from espeak-ng's
 * `cmn` voice "p", "ph", "u", "y"; pauses "_", "_:", "_|"). Each maps to a mouth class; each class
 * has a target (jaw opening, rounding, spread) and how strongly it holds each target against its
 * neighbours (the dominance of Cohen & Massaro's co-articulation model): a bilabial must close the
 * lips whatever comes next, so its opening dominates; a /t/ or /k/ barely uses the lips, so the
 * rounding of a neighbouring /u/ carries through it.
 */

/** One phone with its time, seconds from the start of its audio. */
export interface TimedPhone {
  phone: string;
  start: number;
  end: number;
}

export type MouthClass =
  | 'closed' // p b m: the lips meet
  | 'labiodental' // f v: lower lip to the upper teeth
  | 'rounded' // u U w, Mandarin u y (ü): rounded and protruded, narrow
  | 'round-open' // o O 0 oU OI: rounded, half open
  | 'spread' // i I j: spread, narrow opening
  | 'spread-open' // e E eI: spread, half open
  | 'open' // a A V aI aU: wide open
  | 'mid' // @ 3: relaxed, half open
  | 'postalveolar' // S Z tS dZ: protruded, a little round
  | 'r' // r: a little round
  | 'consonant' // t d n l s z k g N h T D x ...: the lips follow the neighbours
  | 'pause'; // _ : rest

export interface MouthTarget {
  /** jaw / lip opening 0..1 */
  open: number;
  /** rounding and protrusion 0..1 */
  round: number;
  /** spread -1 (narrow) .. 1 (wide) */
  spread: number;
  /** dominance of the opening and of the lip shape (round, spread) */
  openWeight: number;
  shapeWeight: number;
}

export const MOUTH_TARGETS: Readonly<Record<MouthClass, Readonly<MouthTarget>>> = Object.freeze({
  closed: { open: 0, round: 0, spread: 0, openWeight: 2.5, shapeWeight: 0.3 },
  labiodental: { open: 0.1, round: 0, spread: 0.15, openWeight: 4, shapeWeight: 0.6 },
  rounded: { open: 0.3, round: 1, spread: -1, openWeight: 1, shapeWeight: 2.5 },
  'round-open': { open: 0.6, round: 0.8, spread: -0.6, openWeight: 1, shapeWeight: 2 },
  spread: { open: 0.3, round: 0, spread: 0.85, openWeight: 1, shapeWeight: 2.5 },
  'spread-open': { open: 0.6, round: 0, spread: 0.6, openWeight: 1, shapeWeight: 2 },
  open: { open: 1, round: 0, spread: 0.25, openWeight: 1.2, shapeWeight: 1 },
  mid: { open: 0.45, round: 0, spread: 0.1, openWeight: 0.8, shapeWeight: 0.5 },
  postalveolar: { open: 0.25, round: 0.5, spread: -0.3, openWeight: 0.8, shapeWeight: 1.2 },
  r: { open: 0.3, round: 0.4, spread: -0.2, openWeight: 0.6, shapeWeight: 0.8 },
  consonant: { open: 0.25, round: 0, spread: 0.1, openWeight: 0.5, shapeWeight: 0.15 },
  pause: { open: 0, round: 0, spread: 0, openWeight: 1.5, shapeWeight: 0.6 },
});

/** The mouth class of an espeak-ng phoneme mnemonic (English, Mandarin and most other voices). */
export function mouthClass(phone: string): MouthClass {
  const p = phone.trim();
  if (p === '' || p.startsWith('_') || p === '?' || p === '|' || p === '||') return 'pause';
  const c = p[0]!;
  const two = p.slice(0, 2);
  // affricates and postalveolars first (tS, dZ, ts. in Mandarin zh ch)
  if (two === 'tS' || two === 'dZ' || c === 'S' || c === 'Z' || p.startsWith('ts.') || p.startsWith('s.') || p.startsWith('tS')) return 'postalveolar';
  if (c === 'p' || c === 'b' || c === 'm') return 'closed';
  if (c === 'f' || c === 'v') return 'labiodental';
  if (c === 'w' || c === 'u' || c === 'U' || c === 'y' || c === 'Y') return 'rounded';
  if (two === 'oU' || two === 'OI' || c === 'o' || c === 'O' || c === '0') return 'round-open';
  if (two === 'aI' || two === 'aU' || c === 'a' || c === 'A' || c === 'V' || c === '&') return 'open';
  if (c === 'i' || c === 'I' || c === 'j') return 'spread';
  if (c === 'e' || c === 'E') return 'spread-open';
  if (c === '@' || c === '3') return 'mid';
  if (c === 'r' || c === 'R') return 'r';
  return 'consonant';
}
