/**
 * IPA phones (what Piper, Coqui and other espeak-ng-phonemised TTS work in: "p", "uː", "aɪ", "ʃ")
 * as the espeak-ng phoneme of the same mouth class (phones.ts), so an upstream TTS that reports its
 * phones in IPA shapes the mouth as espeak-ng's own phones do. Length marks, stress and tone marks
 * and diacritics are ignored; a phone is classed by its first base letter (an affricate "tʃ" by
 * its second: its lips are the fricative's); a diphthong keeps its vowels ("aʊ" -> "au").
 */

/** base letters by mouth class, each with an espeak-ng phoneme of that class */
const CLASSES: readonly [string, string][] = [
  ['pbmɱ', 'p'], // closed (ɱ: labiodental nasal, closed enough)
  ['fvɸβ', 'f'], // labiodental
  ['uʊwyʏɥʉɯ', 'u:'], // rounded
  ['oɔɒøœɵ', 'O:'], // round-open
  ['iɪjɨ', 'i:'], // spread
  ['eɛ', 'E'], // spread-open
  ['aɑæʌɐɶ', 'a'], // open
  ['əɜɘɞ', '@'], // mid
  ['ʃʒʂʐɕʑ', 'S'], // postalveolar (Mandarin sh / zh / x / j too)
  ['rɹɾɻʀʁ', 'r'], // r
];
const AS_ESPEAK = new Map<string, string>();
for (const [letters, phone] of CLASSES) for (const c of letters) AS_ESPEAK.set(c, phone);
/** vowel letters as one espeak-ng vowel letter of their class, to spell a diphthong */
const VOWEL_LETTER = new Map<string, string>();
for (const [letters, phone] of CLASSES.slice(2, 8)) for (const c of letters) VOWEL_LETTER.set(c, phone[0]!);

/** ignored: length, stress, tone, syllable and tie marks, and combining diacritics */
const MARKS = /[ːˑˈˌ.‿͜͡ʰʲʷˠˤ̩̯̥̬̃˥˦˧˨˩0-9\u0300-\u036f]/gu;

/** The espeak-ng phoneme standing for an IPA phone (other consonants: "t", whose lips follow the neighbours; pauses: "_"). */
export function ipaAsEspeak(phone: string): string {
  const p = phone.normalize('NFD').replace(MARKS, '').trim();
  if (p === '' || p === '_' || p === '|' || p === '‖') return '_';
  const chars = [...p];
  // a diphthong ("aɪ", "aʊ", "oʊ", "ɪə"; Mandarin "ua"): its vowels spelt as espeak-ng letters, so
  // that the mouth moves through them (phones.ts mouthParts)
  const vowels = chars.map((c) => VOWEL_LETTER.get(c));
  if (chars.length >= 2 && chars.length <= 3 && vowels.every((v) => v !== undefined)) return vowels.join('');
  // affricates: t͡ʃ, tʃ, d͡ʒ, ts (the tie is gone by now): the lips are the second letter's
  const first = chars.length > 1 && 'tdc'.includes(chars[0]!) ? chars[1]! : chars[0]!;
  return AS_ESPEAK.get(first) ?? AS_ESPEAK.get(chars[0]!) ?? 't';
}
