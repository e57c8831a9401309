/** Phones -> mouth shapes (pipeline/phonemes/phones.ts, pipeline/motion/phone-mouth.ts) and espeak-ng's phone timings. */
import { describe, expect, it } from 'vitest';
import { PhoneMouth } from '../../pipeline/motion/phone-mouth.js';
import { espeakSpeak } from '../../pipeline/phonemes/espeak-phones.js';
import { CLASS_PHONE } from '../../pipeline/phonemes/mouth-classes.js';
import { mouthClass, mouthClassAt, mouthParts } from '../../pipeline/phonemes/phones.js';

const seq = (...p: [string, number][]) => {
  let t = 0;
  return p.map(([phone, ms]) => {
    const x = { phone, start: t, end: t + ms / 1000 };
    t += ms / 1000;
    return x;
  });
};

describe('mouth classes of espeak-ng phonemes', () => {
  it('English and Mandarin mnemonics', () => {
    expect(['p', 'b', 'm', 'ph', 'm-'].map(mouthClass)).toEqual(['closed', 'closed', 'closed', 'closed', 'closed']);
    expect(['f', 'v'].map(mouthClass)).toEqual(['labiodental', 'labiodental']);
    expect(['u:', 'U', 'w', 'y'].map(mouthClass)).toEqual(['rounded', 'rounded', 'rounded', 'rounded']);
    expect(['oU', 'O:', '0'].map(mouthClass)).toEqual(['round-open', 'round-open', 'round-open']);
    expect(['i:', 'I', 'iE'].map(mouthClass)).toEqual(['spread', 'spread', 'spread']);
    expect(['a', 'A:', 'aI', 'Au', 'V'].map(mouthClass)).toEqual(['open', 'open', 'open', 'open', 'open']);
    expect(['tS', 'dZ', 'S', 'ts.'].map(mouthClass)).toEqual(['postalveolar', 'postalveolar', 'postalveolar', 'postalveolar']);
    expect(['_', '_:', '_|'].map(mouthClass)).toEqual(['pause', 'pause', 'pause']);
    expect(['t', 'k', 'n', 's'].map(mouthClass)).toEqual(['consonant', 'consonant', 'consonant', 'consonant']);
  });

  it('a diphthong moves through its vowels, the nucleus longest; a Mandarin medial is a short glide', () => {
    const parts = (p: string) => mouthParts(p).map((x) => `${x.cls} ${x.share.toFixed(2)}`);
    expect(parts('aU')).toEqual(['open 0.67', 'rounded 0.33']);
    expect(parts('aI')).toEqual(['open 0.67', 'spread 0.33']);
    expect(parts('@U')).toEqual(['mid 0.67', 'rounded 0.33']); // RP "go"
    expect(parts('aI@')).toEqual(['open 0.67', 'spread 0.33']); // RP "fire": a schwa after the first vowel adds nothing
    expect(parts('iE')).toEqual(['spread 0.23', 'spread-open 0.77']); // Mandarin "xie": a medial
    expect(parts('uo')).toEqual(['rounded 0.23', 'round-open 0.77']);
    expect(parts('uei')).toEqual(['rounded 0.17', 'spread-open 0.56', 'spread 0.28']);
    expect(parts('Au35')).toEqual(['open 0.67', 'rounded 0.33']); // a tone is no vowel
    // one part: monophthongs (long or not), centring diphthongs (RP "forms", "here", "there"), consonants, pauses
    for (const p of ['u:', 'I2', '3:', '@L', 'a#', 'O:', 'O@', 'i@3', 'e@', 'p', 'tS', '_:']) expect(mouthParts(p), p).toEqual([{ cls: mouthClass(p), share: 1 }]);
    expect(parts('ou')).toEqual(['round-open 0.67', 'rounded 0.33']);
    // the phones the recogniser names (10 ms each) are one class each
    for (const [cls, p] of Object.entries(CLASS_PHONE)) expect(mouthParts(p), p).toEqual([{ cls, share: 1 }]);
  });

  it('mouthClassAt names the part that holds at a point of the phone (the recogniser\'s training labels)', () => {
    expect([0, 0.5, 0.66, 0.67, 0.99, 1].map((f) => mouthClassAt('aU', f))).toEqual(['open', 'open', 'open', 'rounded', 'rounded', 'rounded']);
    expect([0, 0.15, 0.2, 0.7, 0.8].map((f) => mouthClassAt('uei', f))).toEqual(['rounded', 'rounded', 'spread-open', 'spread-open', 'spread']);
    expect([0, 0.5, 1].map((f) => mouthClassAt('p', f))).toEqual(['closed', 'closed', 'closed']);
  });
});

describe('PhoneMouth', () => {
  const frame = 0.04;
  it('a pause between words rests the mouth (rest 1 inside it), the words around it not (rest 0)', () => {
    const m = new PhoneMouth();
    m.add(seq(['a', 200], ['_', 300], ['a', 200]), 0);
    const rest = (t: number) => m.shape(t, t + frame)!.rest;
    expect(rest(0.02)).toBe(0); // the first vowel, 180 ms before the pause
    expect(rest(0.33)).toBe(1); // the pause's middle
    expect(rest(0.64)).toBe(0); // the second vowel
    expect(rest(0.19)).toBeGreaterThan(0); // on the way into the pause: between
    expect(rest(0.19)).toBeLessThan(1);
  });
  it('closes the lips on the frame that holds a bilabial, even a short one between open vowels', () => {
    const m = new PhoneMouth();
    m.add(seq(['a', 120], ['b', 30], ['a', 120]), 1);
    const shapes = Array.from({ length: 7 }, (_, k) => m.shape(1 + k * frame, 1 + (k + 1) * frame)!);
    const closed = shapes.map((s) => s.closed);
    // b spans 1.12..1.15 s: frame 2 (1.08..1.12) ends at its start, frame 3 (1.12..1.16) holds its middle
    expect(closed).toEqual([false, false, false, true, false, false, false]);
    expect(shapes[3]!.open).toBe(0);
    expect(shapes[0]!.open).toBeGreaterThan(0.8);
    expect(shapes[6]!.open).toBeGreaterThan(0.8);
  });

  it('puts the lower lip to the upper teeth on the frame that holds an f / v, and only there', () => {
    const m = new PhoneMouth();
    m.add(seq(['a', 120], ['f', 30], ['a', 120], ['v', 60], ['a', 120]), 1);
    const shapes = Array.from({ length: 11 }, (_, k) => m.shape(1 + k * frame, 1 + (k + 1) * frame)!);
    // f spans 1.12..1.15 s (frame 3 holds its middle), v 1.27..1.33 (frame 7, 1.28..1.32)
    expect(shapes.map((s) => s.bite)).toEqual([false, false, false, true, false, false, false, true, false, false, false]);
    expect(shapes.every((s) => !s.closed)).toBe(true);
    expect(shapes[3]!.open).toBeLessThan(0.5);
  });

  it('anticipates rounding through the consonants before a rounded vowel (more than it carries it after)', () => {
    const m = new PhoneMouth();
    m.add(seq(['i:', 150], ['s', 60], ['t', 60], ['u:', 150], ['t', 60], ['s', 60], ['i:', 150]), 0);
    const at = (t: number) => m.shape(t - 0.02, t + 0.02)!;
    // the consonants just before /u:/ are rounder than those just after it; both rounder than /i:/
    expect(at(0.24).round).toBeGreaterThan(0.3);
    expect(at(0.24).round).toBeGreaterThan(at(0.45).round);
    expect(at(0.07).round).toBeLessThan(0.2);
    expect(at(0.345).round).toBeGreaterThan(0.8);
    expect(at(0.345).spread).toBeLessThan(-0.8);
    expect(at(0.07).spread).toBeGreaterThan(0.4);
  });

  it('a diphthong ends in its last vowel\'s shape: "now" rounds, "my" spreads, though both open first', () => {
    const m = new PhoneMouth();
    m.add(seq(['n', 60], ['aU', 250], ['_', 300], ['m', 60], ['aI', 250], ['_', 300]), 0);
    const at = (t: number) => m.shape(t - 0.02, t + 0.02)!;
    // aU 0.06..0.31 s (its nucleus to 0.23), aI 0.67..0.92 (to 0.84)
    expect(at(0.12).open).toBeGreaterThan(0.8);
    expect(at(0.73).open).toBeGreaterThan(0.8);
    expect(at(0.29).round).toBeGreaterThan(0.6);
    expect(at(0.29).open).toBeLessThan(0.6);
    expect(at(0.9).spread).toBeGreaterThan(0.6);
    expect(at(0.9).round).toBe(0);
    expect(at(0.12).round).toBeLessThan(at(0.29).round);
  });

  it('covers only where phones are; a barge-in (clear) and forgetting old phones leave no shape', () => {
    const m = new PhoneMouth();
    expect(m.shape(0, 0.04)).toBeUndefined();
    m.add(seq(['a', 200]), 2);
    expect(m.shape(1.9, 1.94)).toBeUndefined();
    expect(m.shape(2.1, 2.14)?.open).toBeCloseTo(1, 6);
    m.forgetBefore(3);
    expect(m.shape(2.1, 2.14)).toBeUndefined();
    m.add(seq(['a', 200]), 4);
    m.clear();
    expect(m.shape(4.1, 4.14)).toBeUndefined();
    expect(() => m.add([{ phone: 'a', start: 0.2, end: 0.1 }], 0)).toThrow(RangeError);
  });
});

describe('espeak-ng phone timings (libespeak-ng through koffi)', () => {
  it('phones in order, within the audio, pauses included; an unknown voice is refused', () => {
    const s = espeakSpeak('Pick up the map.', 'en-us', 175);
    expect(s.sampleRate).toBe(22050);
    const seconds = s.samples.length / s.sampleRate;
    expect(seconds).toBeGreaterThan(0.6);
    const names = s.phones.map((p) => p.phone);
    expect(names.filter((n) => mouthClass(n) === 'closed')).toEqual(['p', 'p', 'm', 'p']);
    for (let i = 1; i < s.phones.length; i++) expect(s.phones[i]!.start).toBeGreaterThanOrEqual(s.phones[i - 1]!.end - 1e-9);
    expect(s.phones.at(-1)!.end).toBeLessThanOrEqual(seconds + 1e-9);
    // the audio is quiet at the middle of the first closure (the lips are shut) and loud in /I/ after it
    const rms = (a: number, b: number) => {
      let q = 0;
      for (let i = Math.round(a * s.sampleRate); i < Math.round(b * s.sampleRate); i++) q += s.samples[i]! ** 2;
      return Math.sqrt(q / Math.max(1, Math.round((b - a) * s.sampleRate)));
    };
    const p = s.phones.find((x) => x.phone === 'p')!;
    const vowel = s.phones[s.phones.indexOf(p) + 1]!;
    expect(rms(vowel.start, vowel.end)).toBeGreaterThan(4 * rms(p.start + 0.3 * (p.end - p.start), p.start + 0.6 * (p.end - p.start)));
    expect(() => espeakSpeak('hello', 'no-such-voice')).toThrow(/no voice "no-such-voice"/);
  });
});
