/**
 * Recorded speech with phones aligned to its known text (DIR/phones.json from align-recorded.py:
 * CMU phones, SIL for silence, beside DIR/NAME.wav; another language's with the espeak-ng mnemonic
 * that labels each), for make-data.ts (training) and
 * eval-recorded.ts (measuring). Every fifth utterance (sorted by name) is held out of training, so
 * that a voice trained on can still be measured on utterances the model never heard.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeWavSamples, parseWavHeader } from '../../pipeline/audio/wav.js';
import { resample } from '../../pipeline/audio/resampler.js';
import { cmuAsEspeak } from '../../pipeline/phonemes/cmu-phones.js';
import type { TimedPhone } from '../../pipeline/phonemes/phones.js';

export interface RecordedUtterance {
  name: string;
  /** 16 kHz mono */
  samples: Float32Array;
  /** espeak-ng mnemonics of the aligned phones (the CMU phone's, pause for silence, or the one given) */
  phones: TimedPhone[];
  heldOut: boolean;
}

export function readRecorded(dir: string): RecordedUtterance[] {
  const aligned = JSON.parse(readFileSync(join(dir, 'phones.json'), 'utf8')) as Record<string, { phone: string; espeak?: string; start: number; end: number }[]>;
  return Object.keys(aligned).sort().map((name, i) => {
    const bytes = new Uint8Array(readFileSync(join(dir, name)));
    const header = parseWavHeader(bytes);
    if (header.channels !== 1) throw new Error(`${dir}/${name}: mono wanted`);
    let samples = decodeWavSamples(bytes, header);
    if (header.sampleRate !== 16_000) samples = resample(samples, header.sampleRate, 16_000);
    const phones = aligned[name]!.map((p) => ({ phone: p.espeak ?? cmuAsEspeak(p.phone === 'SIL' ? 'pau' : p.phone), start: p.start, end: p.end }));
    return { name, samples, phones, heldOut: i % 5 === 0 };
  });
}
