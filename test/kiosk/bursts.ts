/**
 * Speech bursts for sync measurements: one short spoken syllable (espeak-ng) placed at known
 * times in silence, so each burst has a clear onset in the audio and a clear mouth opening.
 */
import { speakWav, wavSamples } from '../helpers/speech.js';

export interface Bursts {
  samples: Float32Array;
  sampleRate: number;
  /** seconds from the start of `samples` where each burst's speech begins (above -40 dBFS) */
  onsetsSec: number[];
  /** seconds of each burst's speech */
  burstSec: number;
}

export function speechBursts(count: number, spacingSec = 1.2, leadSec = 0.6, word = 'Pa.'): Bursts {
  const { samples: syl, sampleRate } = wavSamples(speakWav(word));
  // trim espeak's leading and trailing near-silence so the onset is where the burst starts
  let a = 0;
  let b = syl.length;
  while (a < b && Math.abs(syl[a]!) < 0.01) a++;
  while (b > a && Math.abs(syl[b - 1]!) < 0.01) b--;
  const burst = syl.subarray(a, b);
  const total = Math.round((leadSec + count * spacingSec) * sampleRate);
  const samples = new Float32Array(total);
  const onsetsSec: number[] = [];
  for (let i = 0; i < count; i++) {
    const at = Math.round((leadSec + i * spacingSec) * sampleRate);
    samples.set(burst, at);
    onsetsSec.push(at / sampleRate);
  }
  return { samples, sampleRate, onsetsSec, burstSec: burst.length / sampleRate };
}
