/**
 * The mouth recogniser on its own (pipeline/phonemes/mouth-recogniser.ts): the shipped model on
 * espeak-ng's RP voice, which it was never trained on, against that voice's own phone timings; its
 * timeline across pauses, where it idles and starts over.
 */
import { describe, expect, it } from 'vitest';
import { resample } from '../../pipeline/audio/resampler.js';
import { espeakSpeak } from '../../pipeline/phonemes/espeak-phones.js';
import { MouthRecogniser } from '../../pipeline/phonemes/mouth-recogniser.js';
import { mouthClass, type TimedPhone } from '../../pipeline/phonemes/phones.js';

const RATE = 16_000;
const speak = (text: string) => {
  const sp = espeakSpeak(text, 'en-gb-x-rp', 170);
  return { samples: resample(sp.samples, sp.sampleRate, RATE), phones: sp.phones };
};

/** Phones as PhoneMouth keeps them: a later phone replaces what it overlaps. */
function kept(named: TimedPhone[]): TimedPhone[] {
  const out: TimedPhone[] = [];
  for (const p of named) {
    while (out.length > 0 && out[out.length - 1]!.end > p.start) out.pop();
    out.push(p);
  }
  return out;
}

/** Share of the bilabials (20 ms or longer) that a named closure overlaps. */
function closuresFound(phones: TimedPhone[], named: TimedPhone[], at: number): { found: number; of: number } {
  const bilabials = phones.filter((p) => mouthClass(p.phone) === 'closed' && p.end - p.start >= 0.02);
  const closures = named.filter((p) => mouthClass(p.phone) === 'closed');
  const found = bilabials.filter((b) => closures.some((c) => c.start < at + b.end && c.end > at + b.start)).length;
  return { found, of: bilabials.length };
}

describe('MouthRecogniser', () => {
  it('names the mouth classes of a voice it never heard: most 10 ms frames right, the p/b/m closed', () => {
    const { samples, phones } = speak('The porter moved the boxes of paper to the basement, and Pamela brought a mop and a bucket.');
    const r = new MouthRecogniser();
    const lead = 0.4;
    const named = kept([...r.push(new Float32Array(lead * RATE)), ...r.push(samples), ...r.pushSilence(RATE / 2)]);
    let right = 0, total = 0;
    for (const p of named) {
      const t = (p.start + p.end) / 2 - lead;
      const truth = phones.find((q) => t >= q.start && t < q.end);
      if (!truth) continue;
      total += 1;
      if (mouthClass(truth.phone) === mouthClass(p.phone)) right += 1;
    }
    const { found, of } = closuresFound(phones, named, lead);
    console.log(`[recogniser] en-gb-x-rp: ${right} of ${total} frames in the right mouth class (${((100 * right) / total).toFixed(0)} %); closures on ${found} of ${of} p/b/m`);
    expect(total).toBeGreaterThan(300);
    expect(right / total).toBeGreaterThanOrEqual(0.75);
    expect(found / of).toBeGreaterThanOrEqual(0.8);
  });

  it('idles through a long silence (nothing named) and starts over: the next sentence keeps its times', () => {
    const a = speak('Bob paid the bill.'), b = speak('Maybe the map is better.');
    const r = new MouthRecogniser();
    const first = [...r.push(a.samples)];
    const during = [...r.pushSilence(5 * RATE)];
    const restart = (a.samples.length + 5 * RATE) / RATE;
    const second = kept(r.push(b.samples).concat(r.pushSilence(RATE / 2)));
    // half a second of the silence is still heard (as a pause), the rest costs nothing
    expect(during.length).toBeLessThanOrEqual(55);
    expect(during.every((p) => mouthClass(p.phone) === 'pause')).toBe(true);
    expect(first.length).toBeGreaterThan(50);
    const { found, of } = closuresFound(b.phones, second, restart);
    expect(of).toBeGreaterThanOrEqual(3);
    expect(found / of).toBeGreaterThanOrEqual(0.66);
    // nothing named before the sentence that follows the silence, nothing after its end
    expect(second[0]!.start).toBeGreaterThanOrEqual(restart - 0.25);
    expect(second.at(-1)!.end).toBeLessThanOrEqual(restart + b.samples.length / RATE + 0.55);
  });

  it('names the same phones for a file pushed at once as for 20 ms chunks, long pauses inside included', () => {
    // a whole file fed its pauses as sound, so its statistics took in the silence and the sentence
    // after a pause was heard wrong (seen: the same word opening the mouth less each time)
    const a = speak('Bob paid the bill.'), b = speak('Maybe the map is better.');
    const file = new Float32Array(a.samples.length + 2 * RATE + b.samples.length + RATE);
    file.set(a.samples, 0);
    file.set(b.samples, a.samples.length + 2 * RATE);
    const whole = new MouthRecogniser().push(file);
    const chunked = new MouthRecogniser();
    const pieces: TimedPhone[] = [];
    for (let i = 0; i < file.length; i += 320) pieces.push(...chunked.push(file.subarray(i, i + 320)));
    expect(whole.length).toBeGreaterThan(100);
    expect(whole).toEqual(pieces);
  });
});
