/**
 * An espeak-ng phoneme of another language than English as pocketsphinx's US English phones, so
 * that its acoustic model can align a French, Italian or Russian prompt to its known text
 * (prep-asterisk-lang.ts, align-recorded.py): the nearest English phone for the alignment, and
 * beside it the espeak-ng mnemonic whose mouth class (pipeline/phonemes/phones.ts) labels that time.
 * The two differ where English has no such sound: French "y" (rounded, as in "lune") aligns as UW
 * but is labelled rounded; Russian "y" (the unrounded "ы") aligns as IH and is labelled spread.
 */

/** an English phone for the alignment and the espeak-ng mnemonic that labels its time */
export type Piece = [cmu: string, label: string];

/** the first letter of a mnemonic (after its marks are taken off) -> the CMU phone */
const CMU: Readonly<Record<string, string>> = {
  a: 'AA', A: 'AA', '0': 'AA', e: 'EY', E: 'EH', i: 'IY', I: 'IH', o: 'OW', O: 'AO', u: 'UW', U: 'UH',
  y: 'UW', Y: 'UW', W: 'ER', '2': 'ER', '8': 'OW', '@': 'AH', '3': 'ER', V: 'AH',
  p: 'P', b: 'B', m: 'M', f: 'F', v: 'V', t: 'T', d: 'D', k: 'K', g: 'G', s: 'S', z: 'Z', S: 'SH', Z: 'ZH',
  n: 'N', N: 'NG', l: 'L', r: 'R', R: 'R', '*': 'R', j: 'Y', w: 'W', h: 'HH', x: 'HH', T: 'TH', D: 'DH', B: 'B', G: 'G', J: 'Y',
};

/** mnemonics that are two English phones, or one with its own name */
const SPLIT: Readonly<Record<string, readonly Piece[]>> = {
  ts: [['T', 't'], ['S', 's']], dz: [['D', 'd'], ['Z', 'z']], tS: [['CH', 'tS']], dZ: [['JH', 'dZ']],
  ja: [['Y', 'j'], ['AA', 'a']], ju: [['Y', 'j'], ['UW', 'u']], '@L': [['AH', '@'], ['L', 'l']],
  aI: [['AY', 'aI']], aU: [['AW', 'aU']], eI: [['EY', 'eI']], oU: [['OW', 'oU']],
};

/** per language: the mnemonic whose mouth class a sound has, where its own first letter misleads */
const LABEL: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  // ø, œ and their nasal: rounded and half open; nasal vowels as their oral ones
  fr: { W: 'O', 'W~': 'O', '2': 'O', 'A~': 'A', 'O~': 'O', 'E~': 'E', 'y-': '@' },
  it: {},
  // ы is unrounded; ɵ rounded
  ru: { y: 'I', '8': 'o' },
};
const CMU_OF: Readonly<Record<string, Readonly<Record<string, string>>>> = { ru: { y: 'IH' } };

/**
 * `mnemonic` as espeak-ng's `-x` output writes it (stress marks ' and , are dropped; length ":",
 * palatalised ";" and other marks after the letter are kept in the label), in `language` (fr, it, ru);
 * undefined where there is no English phone for it.
 */
export function espeakAsCmu(mnemonic: string, language: string): Piece[] | undefined {
  const m = mnemonic.replace(/^[',]+/, '');
  const bare = m.replace(/[:;"[]/g, '');
  const split = SPLIT[bare];
  if (split) return split.map(([c, l]) => [c, l]);
  const label = LABEL[language]?.[bare] ?? bare.replace(/[-#^]$|(?<=.)\d$/, '');
  const letter = bare.replace(/[~#^-]|(?<=.)\d/g, '')[0];
  const cmu = CMU_OF[language]?.[bare] ?? (letter === undefined ? undefined : CMU[letter]);
  return cmu === undefined ? undefined : [[cmu, label]];
}
