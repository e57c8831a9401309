/**
 * Test speech from festival (Debian package), a voice nothing in the project was built or trained
 * on: the US diphone voice kal_diphone (recorded diphones, not a formant synthesiser like
 * espeak-ng). Its phones come from festival itself, in festival's phone set, mapped here to an
 * espeak-ng phone of the same mouth class (pipeline/phonemes/phones.ts).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cmuAsEspeak } from '../../pipeline/phonemes/cmu-phones.js';
import type { TimedPhone } from '../../pipeline/phonemes/phones.js';
import { wavSamples } from './speech.js';

export interface FestivalSpeech {
  samples: Float32Array;
  sampleRate: number;
  phones: TimedPhone[];
}

/**
 * `text` spoken by a festival voice (kal_diphone unless named: e.g. ked_diphone, cmu_us_slt_arctic_hts,
 * from festvox-kdlpc16k and festvox-us-slt-hts), with its phones (as espeak-ng mnemonics of the same mouth class).
 */
export function festivalSpeak(text: string, voice = 'kal_diphone'): FestivalSpeech {
  if (!/^[a-z0-9_]+$/.test(voice)) throw new Error(`festivalSpeak: bad voice name ${voice}`);
  if (/["\\]/.test(text)) throw new Error('festivalSpeak: no quotes or backslashes in the text');
  const dir = mkdtempSync(join(tmpdir(), 'festival-'));
  const wav = join(dir, 'speech.wav'), segs = join(dir, 'speech.segs'), script = join(dir, 'speak.scm');
  writeFileSync(script, `(voice_${voice})
(set! utt (utt.synth (Utterance Text "${text}")))
(utt.save.wave utt "${wav}" 'riff)
(utt.save.segs utt "${segs}")
`);
  try {
    execFileSync('festival', ['--batch', script], { stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new Error('festival is not installed: apt-get install -y festival festvox-kallpc16k');
    throw new Error(`festival failed (is its voice ${voice} installed? kal_diphone: apt-get install -y festvox-kallpc16k): ${String((e as { stderr?: Buffer }).stderr ?? e)}`);
  }
  const { samples, sampleRate } = wavSamples(readFileSync(wav));
  const phones: TimedPhone[] = [];
  let start = 0;
  for (const line of readFileSync(segs, 'utf8').split('\n')) {
    const m = /^\s*([\d.]+)\s+\S+\s+(\S+)/.exec(line);
    if (!m) continue;
    const end = Number(m[1]);
    if (end > start) phones.push({ phone: cmuAsEspeak(m[2]!), start, end });
    start = end;
  }
  return { samples, sampleRate, phones };
}
