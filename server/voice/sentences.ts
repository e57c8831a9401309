/**
 * Text -> sentences for the say queue: each sentence is synthesised and spoken on its own, so the
 * first one starts before the rest is synthesised, and a TTS failover redoes at most one sentence.
 *
 * Sentence breaks come from ICU (Intl.Segmenter; handles . ! ? … and CJK 。！？, quotes after the
 * stop, decimals). ICU breaks after abbreviations ("Dr. Jones", "No. 3"); such pieces are joined
 * again. A sentence longer than `maxChars` is cut at the last clause mark (, ; : — 、，) before the
 * limit, else at the last space, else hard.
 */

/** Lower-case abbreviations after which "." does not end a sentence. */
const ABBREVIATIONS = new Set([
  'mr', 'mrs', 'ms', 'dr', 'prof', 'st', 'no', 'nr', 'vs', 'etc', 'e.g', 'i.e', 'approx', 'jr', 'sr',
  'mt', 'fig', 'dept', 'tel', 'ca', 'cf', 'inc', 'ltd', 'co', 'rm', 'apt', 'ave', 'blvd', 'min', 'max',
]);

const segmenter = new Intl.Segmenter('en', { granularity: 'sentence' });

function endsWithAbbreviation(piece: string): boolean {
  const m = /(?:^|[\s("'])([A-Za-z](?:[A-Za-z.]*[A-Za-z])?)\.\s*$/.exec(piece);
  if (!m) return false;
  const word = m[1]!;
  // a single capital is an initial ("J. Smith"); a single lower-case letter is a list item or a word
  return ABBREVIATIONS.has(word.toLowerCase()) || /^[A-Z]$/.test(word);
}

function cutLong(sentence: string, maxChars: number): string[] {
  const out: string[] = [];
  let rest = sentence;
  while (rest.length > maxChars) {
    const head = rest.slice(0, maxChars + 1);
    let at = Math.max(...[',', ';', ':', '—', '–', '、', '，', '；', '：'].map((c) => head.lastIndexOf(c)));
    if (at >= maxChars / 3) at += 1;
    else {
      at = head.lastIndexOf(' ');
      if (at < maxChars / 3) at = maxChars;
    }
    out.push(rest.slice(0, at).trim());
    rest = rest.slice(at).trim();
  }
  if (rest) out.push(rest);
  return out.filter((s) => s.length > 0);
}

/** Sentences of `text`, in order, trimmed, none empty, none longer than `maxChars`. */
export function splitSentences(text: string, maxChars = 250): string[] {
  if (typeof text !== 'string') throw new TypeError('splitSentences: text must be a string');
  if (!(Number.isInteger(maxChars) && maxChars >= 1)) throw new RangeError(`splitSentences: maxChars must be an integer >= 1, got ${maxChars}`);
  const normalised = text.replace(/\r\n?/g, '\n').replace(/[ \t\f\v\u00a0]+/g, ' ');
  const joined: string[] = [];
  let carry = '';
  for (const { segment } of segmenter.segment(normalised)) {
    const piece = carry + segment;
    if (endsWithAbbreviation(piece) && !/\n\s*$/.test(segment)) {
      carry = piece;
      continue;
    }
    carry = '';
    joined.push(piece);
  }
  if (carry) joined.push(carry);
  return joined
    .map((s) => s.replace(/\s+/g, ' ').trim())
    .filter((s) => /[\p{L}\p{N}]/u.test(s)) // punctuation alone is not speech
    .flatMap((s) => cutLong(s, maxChars));
}
