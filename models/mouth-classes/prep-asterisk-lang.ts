/**
 * Asterisk's prompts in another language than English, for align-recorded.py: Debian's
 * asterisk-core-sounds-LANG-g722 (16 kHz G.722) and asterisk-core-sounds-LANG (the transcripts).
 * Each prompt's text is phonemised by espeak-ng (its `-x` output, word by word) and each phoneme
 * written as pocketsphinx's US English phones (espeak-cmu.ts). Writes, in OUT_DIR:
 * - NAME.wav (16 kHz mono 16-bit) and NAME.txt: the prompt as made-up words (w0 w1 ...), one per
 *   word espeak-ng spoke;
 * - dict.dic: those words' English phones, for pocketsphinx's forced alignment;
 * - labels.json: per prompt, per word, each English phone with the espeak-ng mnemonic that labels it.
 * Prompts with digits or brackets (said otherwise than written), words of another language (espeak-ng
 * switches voice) or a phoneme without an English phone are left out.
 *
 *   npx tsx models/mouth-classes/prep-asterisk-lang.ts EXTRACTED_DEBS_DIR LANG SOUNDS_SUBDIR ESPEAK_VOICE OUT_DIR
 *
 * models/mouth-classes/recorded-asterisk.sh LANG sets this up (downloads and extracts the packages).
 * Needs the espeak-ng command (apt-get install -y espeak-ng).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { asteriskPrompts, writePrompt } from './asterisk-prompts.js';
import { espeakAsCmu, type Piece } from './espeak-cmu.js';

const [root, lang, subdir, voice, out] = process.argv.slice(2);
if (!root || !lang || !subdir || !voice || !out) throw new Error('usage: npx tsx models/mouth-classes/prep-asterisk-lang.ts EXTRACTED_DEBS_DIR LANG SOUNDS_SUBDIR ESPEAK_VOICE OUT_DIR');

/** The text's words as espeak-ng speaks them, each as its English phones; undefined where it cannot be aligned. */
function phonemised(text: string): Piece[][] | undefined {
  let x: string;
  try {
    x = execFileSync('espeak-ng', ['-v', voice!, '-q', '-x', '--sep= ', text], { encoding: 'utf8' });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new Error('the espeak-ng command is not installed: apt-get install -y espeak-ng');
    throw e;
  }
  if (/\(\w+\)/.test(x)) return undefined; // "(en)": espeak-ng switched language for a word
  const words: Piece[][] = [];
  for (const w of x.split(/\n| {2,}/).map((s) => s.trim()).filter(Boolean)) {
    const toks = w.split(' ');
    const pieces: Piece[] = [];
    for (let i = 0; i < toks.length; i++) {
      let t = toks[i]!;
      while (toks[i + 1] === ';') { t += ';'; i++; } // Russian palatalisation, written apart
      if (t.startsWith('_') || t === '@-' || t === ';') continue; // pauses; espeak-ng's inserted schwa
      const p = espeakAsCmu(t, lang!);
      if (!p) return undefined;
      pieces.push(...p);
    }
    if (pieces.length > 0) words.push(pieces);
  }
  return words.length > 0 ? words : undefined;
}

mkdirSync(out, { recursive: true });
const dict: string[] = [];
const labels: Record<string, Piece[][]> = {};
let kept = 0, dropped = 0, seconds = 0;
for (const prompt of asteriskPrompts(root, lang, subdir)) {
  const words = prompt.file && !/[\d[\]<>()]/.test(prompt.text) ? phonemised(prompt.text.trim()) : undefined;
  if (!prompt.file || !words) { dropped++; continue; }
  const made = words.map((pieces) => {
    const w = `w${dict.length}`;
    dict.push(`${w} ${pieces.map((p) => p[0]).join(' ')}`);
    return w;
  });
  seconds += await writePrompt(out, prompt.name, prompt.file, made.join(' '));
  labels[`${prompt.name}.wav`] = words;
  kept++;
}
writeFileSync(join(out, 'dict.dic'), dict.join('\n') + '\n');
writeFileSync(join(out, 'labels.json'), JSON.stringify(labels));
console.log(`${kept} prompts (${(seconds / 60).toFixed(1)} min) written to ${out}; ${dropped} dropped (no sound file, digits, or sounds without an English phone)`);
