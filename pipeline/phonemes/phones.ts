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

/** espeak-ng's vowel letters (a mnemonic with two or more of them is a diphthong: aI, aU, oU, i@) */
const VOWEL_LETTERS = new Set('aAeEiIoOuUV@30&yY');
const VOWEL_CLASSES: ReadonlySet<MouthClass> = new Set(['rounded', 'round-open', 'spread', 'spread-open', 'open', 'mid']);

/** time weights of a diphthong's parts (mouthParts): its nucleus, a Mandarin medial; any other 1 */
const NUCLEUS = 2;
const GLIDE = 0.6;

/** One part of a phone's time and the mouth class it asks for (mouthParts). */
export interface MouthPart {
  cls: MouthClass;
  /** share of the phone's time, from its start; the parts' shares add up to 1 */
  share: number;
}

/**
 * The mouth classes a phone moves through, in order: a diphthong's vowels each, where their
 * classes differ ("aU" of "now" opens then rounds, "aI" of "my" opens then spreads, "oU" rounds
 * further; Mandarin "uei" rounds, then spreads). The nucleus holds its target longest, 2 against 1
 * for the glide after it, so the phone's middle keeps the nucleus's shape. The nucleus is the first
 * vowel, except after a Mandarin medial (a lowercase i / u / y before another vowel than a schwa:
 * "iA", "uo", "yE", "uei"): a short glide (0.6) into it. A schwa after the first vowel adds no
 * part. One part for any other phone. `mouthClass` stays the phone's class as a whole.
 */
export function mouthParts(phone: string): MouthPart[] {
  const cls = mouthClass(phone);
  if (!VOWEL_CLASSES.has(cls)) return [{ cls, share: 1 }];
  // the vowel letters, without a tone (Mandarin "Au35") and with each letter's class
  const letters = [...phone.trim().replace(/\d{2,}$/, '')].filter((c) => VOWEL_LETTERS.has(c));
  const medial = letters.length > 1 && 'iuy'.includes(letters[0]!) && !'@3'.includes(letters[1]!);
  const parts: { cls: MouthClass; weight: number }[] = [];
  letters.forEach((c, i) => {
    const k = mouthClass(c);
    // a schwa after the first vowel ("O@", "i@", "e@": RP's NORTH, NEAR, SQUARE; r-colouring "3")
    // relaxes the lips little or not at all in today's speech: the first vowel's shape holds
    if (i > 0 && k === 'mid') return;
    if (k === parts[parts.length - 1]?.cls) return;
    const nucleus = i === (medial ? 1 : 0);
    parts.push({ cls: k, weight: i === 0 && medial ? GLIDE : nucleus ? NUCLEUS : 1 });
  });
  if (parts.length < 2) return [{ cls, share: 1 }];
  const total = parts.reduce((a, p) => a + p.weight, 0);
  return parts.map((p) => ({ cls: p.cls, share: p.weight / total }));
}

/** The mouth class at `fraction` (0..1) of a phone's time: the part of it (mouthParts) that holds then. */
export function mouthClassAt(phone: string, fraction: number): MouthClass {
  const parts = mouthParts(phone);
  let end = 0;
  for (const p of parts) {
    end += p.share;
    if (fraction < end) return p.cls;
  }
  return parts[parts.length - 1]!.cls;
}
