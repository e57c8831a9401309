import { describe, expect, it } from 'vitest';
import { AudioFormatError } from '../../pipeline/audio/errors.js';
import { Resampler, resample } from '../../pipeline/audio/resampler.js';
import { db, fitTone, middleRms, seeded, sine } from './fixtures/signals.js';

function noise(n: number, seed: number): Float32Array {
  const rnd = seeded(seed);
  const x = new Float32Array(n);
  for (let i = 0; i < n; i++) x[i] = rnd() * 2 - 1;
  return x;
}

/** Feeds `x` in chunks of random sizes 0..maxChunk and joins the outputs with the flush. */
function chunked(r: Resampler, x: Float32Array, seed: number, maxChunk: number): Float32Array {
  const rnd = seeded(seed);
  const parts: Float32Array[] = [];
  for (let at = 0; at < x.length; ) {
    const n = Math.min(x.length - at, Math.floor(rnd() * (maxChunk + 1)));
    parts.push(r.process(x.subarray(at, at + n)));
    at += n;
  }
  parts.push(r.flush());
  const out = new Float32Array(parts.reduce((s, p) => s + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

const PAIRS: [number, number][] = [
  [22_050, 16_000],
  [44_100, 48_000],
  [16_000, 48_000],
  [8_000, 16_000],
  [48_000, 16_000],
  [22_050, 48_000],
  [48_000, 8_000],
  [11_025, 16_000],
  [47_999, 48_000], // 48000 phases: the interpolated table
];

describe('Resampler output length', () => {
  it('is round(inLength * out / in) within 1 over a whole stream', () => {
    for (const [from, to] of PAIRS) {
      for (const len of [1, 7, 160, 4_410, 12_345]) {
        const y = resample(noise(len, len), from, to);
        expect(Math.abs(y.length - Math.round((len * to) / from)), `${from}->${to}, ${len} samples`).toBeLessThanOrEqual(1);
      }
    }
  });

  it('gives nothing for an empty stream', () => {
    const r = new Resampler(22_050, 16_000);
    expect(r.process(new Float32Array(0)).length).toBe(0);
    expect(r.flush().length).toBe(0);
  });
});

describe('Resampler is streaming', () => {
  it('gives identical output whether fed in one piece or in random-size chunks', () => {
    for (const [from, to] of PAIRS) {
      const x = noise(from / 5, from);
      const whole = resample(x, from, to);
      const pieces = chunked(new Resampler(from, to), x, to, 700);
      const tiny = chunked(new Resampler(from, to), x.subarray(0, 3000), 7, 3);
      expect(pieces, `${from}->${to}`).toEqual(whole);
      expect(tiny, `${from}->${to} in chunks of 0..3`).toEqual(resample(x.subarray(0, 3000), from, to));
    }
  });

  it('starts afresh after flush() and after reset()', () => {
    const r = new Resampler(44_100, 16_000);
    const x = noise(8_000, 1);
    const first = chunked(r, x, 2, 500);
    expect(chunked(r, x, 3, 900)).toEqual(first);
    r.process(noise(1_000, 4));
    r.reset();
    expect(chunked(r, x, 5, 300)).toEqual(first);
  });

  it('is the identity at equal rates', () => {
    const x = noise(5_000, 9);
    expect(resample(x, 16_000, 16_000)).toEqual(x);
    expect(chunked(new Resampler(48_000, 48_000), x, 1, 400)).toEqual(x);
  });
});

describe('Resampler quality', () => {
  it.each([
    [22_050, 16_000],
    [44_100, 48_000],
    [16_000, 48_000],
    [8_000, 16_000],
  ])('keeps a 1 kHz sine at 1 kHz and its amplitude within 0.5 dB, %i -> %i Hz', (from, to) => {
    const y = resample(sine(1_000, from, 0.5, 0.5), from, to);
    const { amplitude, residualRms } = fitTone(y, 1_000, to);
    expect(Math.abs(db(amplitude / 0.5))).toBeLessThan(0.5);
    // everything that is not 1 kHz (distortion, images, a wrong frequency) is far below it
    expect(db(residualRms / (0.5 / Math.SQRT2))).toBeLessThan(-50);
  });

  it('attenuates tones above the new Nyquist frequency by at least 40 dB (no aliasing)', () => {
    // 9 kHz would alias to 7 kHz at 16 kHz, 12 kHz to 4 kHz; 7 kHz would alias to 1 kHz at 8 kHz
    const cases: [number, number, number][] = [
      [9_000, 48_000, 16_000],
      [12_000, 48_000, 16_000],
      [7_000, 48_000, 8_000],
      [10_000, 22_050, 16_000],
    ];
    for (const [hz, from, to] of cases) {
      const y = resample(sine(hz, from, 0.5, 0.5), from, to);
      expect(db(middleRms(y) / (0.5 / Math.SQRT2)), `${hz} Hz, ${from} -> ${to}`).toBeLessThan(-40);
    }
  });

  it('passes a 7 kHz tone down to 16 kHz (it is below 8 kHz), attenuated by the transition band only', () => {
    const y = resample(sine(7_000, 48_000, 0.5, 0.5), 48_000, 16_000);
    const { amplitude } = fitTone(y, 7_000, 16_000);
    expect(db(amplitude / 0.5)).toBeGreaterThan(-6);
    expect(db(amplitude / 0.5)).toBeLessThan(0.1);
  });
});

describe('Resampler rejects bad arguments', () => {
  it('rejects rates that are not integers in 4000..384000 Hz', () => {
    expect(() => new Resampler(0, 16_000)).toThrow(AudioFormatError);
    expect(() => new Resampler(22_050.5, 16_000)).toThrow(/input sample rate 22050.5 Hz must be an integer in 4000..384000 Hz/);
    expect(() => new Resampler(16_000, 500_000)).toThrow(/output sample rate 500000 Hz/);
  });

  it('rejects odd or out-of-range taps and non-Float32Array input', () => {
    expect(() => new Resampler(16_000, 48_000, { taps: 33 })).toThrow(/taps must be an even integer in 16..256, got 33/);
    expect(() => new Resampler(16_000, 48_000, { taps: 8 })).toThrow(RangeError);
    expect(() => new Resampler(16_000, 48_000).process([1, 2] as unknown as Float32Array)).toThrow(/expects a Float32Array/);
  });
});

describe('Resampler speed', () => {
  it.each([
    [48_000, 16_000],
    [22_050, 48_000],
  ])('runs %i -> %i Hz far faster than real time in 20 ms chunks', (from, to) => {
    const r = new Resampler(from, to);
    const chunk = noise(from / 50, 3);
    for (let i = 0; i < 200; i++) r.process(chunk); // warm-up (JIT)
    const chunks = 1_000; // 20 s of audio
    const t0 = performance.now();
    for (let i = 0; i < chunks; i++) r.process(chunk);
    const ns = ((performance.now() - t0) * 1e6) / (chunks * chunk.length);
    console.log(`resampler ${from} -> ${to}: ${ns.toFixed(0)} ns per input sample`);
    // real time is 1e9 / rate ns per sample (~21 us at 48 kHz); a shared 2-core machine is noisy
    expect(ns).toBeLessThan(1e9 / from / 20);
  });
});
