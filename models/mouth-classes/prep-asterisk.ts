/**
 * Recorded speech with a known text for the mouth recogniser: Asterisk's English prompts, read by
 * Allison Smith (Debian's asterisk-core-sounds-en-g722, 16 kHz G.722; the transcripts come with
 * asterisk-core-sounds-en; CC BY-SA 3.0). Writes NAME.wav (16 kHz mono 16-bit) and NAME.txt pairs
 * for align-recorded.py, keeping the prompts whose every word pocketsphinx's dictionary knows
 * (digits spelt out, "*" star, "#" pound; tones and bracketed notes dropped).
 *
 *   npx tsx models/mouth-classes/prep-asterisk.ts EXTRACTED_DEBS_DIR DICT OUT_DIR
 *
 * models/mouth-classes/recorded-asterisk.sh sets this up (downloads and extracts the packages).
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { asteriskPrompts, writePrompt } from './asterisk-prompts.js';

const [root, dictPath, out] = process.argv.slice(2);
if (!root || !dictPath || !out) throw new Error('usage: npx tsx models/mouth-classes/prep-asterisk.ts EXTRACTED_DEBS_DIR DICT OUT_DIR');
const dict = new Set(readFileSync(dictPath, 'utf8').split('\n').map((l) => l.split(' ')[0]!.replace(/\(\d+\)$/, '')));

const ONES = ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine', 'ten', 'eleven', 'twelve', 'thirteen', 'fourteen', 'fifteen', 'sixteen', 'seventeen', 'eighteen', 'nineteen'];
const TENS = ['', '', 'twenty', 'thirty', 'forty', 'fifty', 'sixty', 'seventy', 'eighty', 'ninety'];
function number(n: number): string | undefined {
  if (n < 20) return ONES[n];
  if (n < 100) return TENS[Math.floor(n / 10)] + (n % 10 ? ` ${ONES[n % 10]}` : '');
  return undefined;
}

/** The words spoken, lower case, or undefined where the prompt cannot be aligned. */
function words(text: string): string[] | undefined {
  if (/\[|\]/.test(text)) return undefined;
  const t = text.replace(/\*/g, ' star ').replace(/#/g, ' pound ').replace(/(\d+)/g, (d) => ` ${number(Number(d)) ?? '?'} `);
  const ws = t.toLowerCase().replace(/[^a-z' ?-]/g, ' ').replace(/-/g, ' ').split(/\s+/).filter(Boolean).map((w) => w.replace(/^'+|'+$/g, ''));
  if (ws.length === 0 || ws.some((w) => w === '?' || !dict.has(w))) return undefined;
  return ws;
}

mkdirSync(out, { recursive: true });
let kept = 0, dropped = 0, seconds = 0;
for (const prompt of asteriskPrompts(root, 'en', 'en_US_f_Allison')) {
  const ws = words(prompt.text);
  if (!prompt.file || !ws) { dropped++; continue; }
  seconds += await writePrompt(out, prompt.name, prompt.file, ws.join(' '));
  kept++;
}
console.log(`${kept} prompts (${(seconds / 60).toFixed(1)} min) written to ${out}; ${dropped} dropped (no sound file, or words the dictionary lacks)`);
