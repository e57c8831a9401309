/**
 * Whisper's log-mel features in TypeScript. The power spectrum is checked against a float64 DFT
 * written here; the mel scale against Slaney's published points; streaming against one-shot.
 */
import { describe, expect, it } from 'vitest';
import { MEL, MelTimeline, melFilters } from '../../models/sonic/mel.js';

const tone = (hz: number, n: number, amp = 0.5) => Float32Array.from({ length: n }, (_, i) => amp * Math.sin((2 * Math.PI * hz * i) / MEL.sampleRate));

describe('whisper log-mel', () => {
  it('gives [80, 3000] for 30 s, whisper normalised: max (x+4)/4 and nothing below max - 2', () => {
    const t = new MelTimeline();
    t.push(tone(440, MEL.sampleRate * 2));
    const f = t.features(0);
    expect(f.length).toBe(MEL.bins * MEL.frames);
    let max = -Infinity;
    let min = Infinity;
    for (const v of f) {
      max = Math.max(max, v);
      min = Math.min(min, v);
    }
    // log10 clamped to 8 below the maximum, then (x + 4) / 4: the floor is max - 2
    expect(min).toBeCloseTo(max - 2, 5);
    // the zero padding past 2 s sits on the floor
    expect(f[10 * MEL.frames + 2500]).toBeCloseTo(min, 5);
  });

  it('puts a tone in the mel band of its frequency (Slaney scale: linear to 1 kHz, logarithmic above)', () => {
    const filters = melFilters();
    const bins = MEL.nFft / 2 + 1;
    const peakBand = (hz: number) => {
      const t = new MelTimeline();
      t.push(tone(hz, MEL.sampleRate));
      const f = t.features(0);
      let best = 0;
      for (let m = 1; m < MEL.bins; m++) if (f[m * MEL.frames + 50]! > f[best * MEL.frames + 50]!) best = m;
      return best;
    };
    for (const hz of [300, 1000, 3000]) {
      const band = peakBand(hz);
      // the band whose filter weighs the tone's FFT bin most
      const k = Math.round((hz * MEL.nFft) / MEL.sampleRate);
      let expected = 0;
      for (let m = 0; m < MEL.bins; m++) if (filters[m * bins + k]! > filters[expected * bins + k]!) expected = m;
      expect(Math.abs(band - expected)).toBeLessThanOrEqual(1);
    }
    // Slaney: 1 kHz is mel 15; the 82 band edges run 0..mel(8 kHz) evenly, so 1 kHz falls near band 15 / (mel(8k)/81)
    const melTop = 15 + Math.log(8) / (Math.log(6.4) / 27);
    expect(Math.abs(peakBand(1000) - Math.round((15 / melTop) * 81) + 1)).toBeLessThanOrEqual(1);
  });

  it('matches a float64 DFT of one frame, through the same filters (power spectrum and log)', () => {
    const n = MEL.sampleRate;
    const x = Float32Array.from({ length: n }, (_, i) => 0.3 * Math.sin(i * 0.07) + 0.2 * Math.sin(i * 0.9 + 1) * Math.cos(i * 0.001));
    const t = new MelTimeline();
    t.push(x);
    const f = t.features(0);
    const frame = 40;
    const filters = melFilters();
    const bins = MEL.nFft / 2 + 1;
    const power = new Float64Array(bins);
    for (let k = 0; k < bins; k++) {
      let re = 0;
      let im = 0;
      for (let j = 0; j < MEL.nFft; j++) {
        const s = x[frame * MEL.hop - MEL.nFft / 2 + j]! * (0.5 - 0.5 * Math.cos((2 * Math.PI * j) / MEL.nFft));
        re += s * Math.cos((2 * Math.PI * k * j) / MEL.nFft);
        im -= s * Math.sin((2 * Math.PI * k * j) / MEL.nFft);
      }
      power[k] = re * re + im * im;
    }
    const floor = f.reduce((a, b) => Math.min(a, b), Infinity);
    let compared = 0;
    for (let m = 0; m < MEL.bins; m += 3) {
      if (f[m * MEL.frames + frame]! <= floor + 1e-6) continue; // clamped to 8 below the maximum
      compared += 1;
      let acc = 0;
      for (let k = 0; k < bins; k++) acc += filters[m * bins + k]! * power[k]!;
      const want = Math.log10(Math.max(acc, 1e-10));
      const got = f[m * MEL.frames + frame]! * 4 - 4; // undo (x + 4) / 4 (these bands are above the clamp)
      expect(Math.abs(got - want)).toBeLessThan(1e-3);
    }
    expect(compared).toBeGreaterThanOrEqual(8);
  });

  it('streaming (pushed in pieces, read as it grows) equals one-shot, and silenceFrom() recomputes what it touches', () => {
    const x = tone(700, MEL.sampleRate * 3, 0.4);
    const whole = new MelTimeline();
    whole.push(x);
    const parts = new MelTimeline();
    for (let i = 0; i < x.length; i += 3210) {
      parts.push(x.subarray(i, i + 3210));
      parts.features(0); // caches the frames complete so far
    }
    expect(Array.from(parts.features(0))).toEqual(Array.from(whole.features(0)));
    expect(parts.framesComplete()).toBe(Math.floor((x.length - 200) / 160) + 1);

    parts.silenceFrom(MEL.sampleRate);
    const silenced = new MelTimeline();
    silenced.push(x.subarray(0, MEL.sampleRate));
    silenced.push(new Float32Array(x.length - MEL.sampleRate));
    expect(Array.from(parts.features(0))).toEqual(Array.from(silenced.features(0)));
    expect(parts.rms(MEL.sampleRate, x.length)).toBe(0);
    expect(parts.rms(0, MEL.sampleRate)).toBeCloseTo(0.4 / Math.SQRT2, 3);
  });
});
