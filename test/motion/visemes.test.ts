import { describe, expect, it } from 'vitest';
import { Processor } from '@met4citizen/headaudio/modules/processor.mjs';
import { VISEME_COUNT, VISEME_INDEX, VISEMES, VisemeTracker, loadVisemeModel, defaultVisemeModelPath, visemesPerFrame } from '../../pipeline/motion/visemes.js';
import { estimateLipSyncOffset } from '../../pipeline/motion/lip-sync.js';
import { padded, rmsPerFrame, speech16k } from './audio.js';

const FPS = 25;
const audio = padded(speech16k(), 0.6, 1.0);
const rms = rmsPerFrame(audio, FPS);
const db = rms.map((r) => 20 * Math.log10(r + 1e-9));

describe('VisemeTracker (HeadAudio MFCC + Gaussian prototypes)', () => {
  it('gives non-trivial viseme weights during speech and pure silence in silence', () => {
    const w = visemesPerFrame(audio, { fps: FPS });
    expect(w.length).toBe(rms.length);
    for (const f of w) {
      const sum = f.reduce((s, v) => s + v, 0);
      expect(sum).toBeGreaterThan(0.999);
      expect(sum).toBeLessThan(1.001);
    }
    const loud = db.map((d, k) => (d > -30 ? k : -1)).filter((k) => k >= 0);
    // speech frames: almost all mass off silence, and the shapes vary over the sentence
    const speechMass = loud.map((k) => 1 - w[k][VISEME_INDEX.sil]);
    expect(speechMass.filter((m) => m > 0.9).length / loud.length).toBeGreaterThan(0.9);
    const dominant = new Set(loud.map((k) => { let b = 1; for (let i = 2; i < VISEME_COUNT; i++) if (w[k][i] > w[k][b]) b = i; return VISEMES[b]; }));
    expect(dominant.size).toBeGreaterThanOrEqual(6);
    expect([...dominant].some((v) => v === 'aa' || v === 'O' || v === 'E')).toBe(true);
    // soft weights: on average the top viseme holds well under all of the mass
    const top = loud.map((k) => Math.max(...Array.from(w[k]).slice(1)));
    expect(top.reduce((s, v) => s + v, 0) / top.length).toBeLessThan(0.8);
    // digital silence: silence viseme only
    for (let k = 0; k < 10; k++) expect(w[k][VISEME_INDEX.sil]).toBe(1);
    for (let k = rms.length - 10; k < rms.length; k++) expect(w[k][VISEME_INDEX.sil]).toBe(1);
  });

  it('gives the same frames whatever the chunking', () => {
    const offline = visemesPerFrame(audio, { fps: FPS });
    const t = new VisemeTracker({ fps: FPS });
    const out = new Float32Array(VISEME_COUNT);
    let i = 0, s = 0, k = 0;
    const sizes = [7, 256, 640, 1, 999];
    while (i < audio.length) {
      const n = Math.min(sizes[s++ % sizes.length], audio.length - i);
      t.push(audio.subarray(i, i + n));
      i += n;
      while (t.framesReady() > 0 && k < offline.length) {
        expect(t.read(out)).toBe(k);
        for (let j = 0; j < VISEME_COUNT; j++) expect(out[j]).toBeCloseTo(offline[k][j], 6);
        k++;
      }
    }
    // a frame is complete exactly lookaheadSamples after its end
    expect(t.lookaheadSamples).toBe(271);
    expect(k).toBe(t.grid.framesIn(audio.length - t.lookaheadSamples));
  });

  it('measures the intrinsic delay: HeadAudio\'s voted output lags its own per-block decisions; our frames are aligned', () => {
    // HeadAudio's own output: each 'viseme' event carries the voted viseme and the raw distances
    // of the block that just ended (centred 272 samples before). Find the lag (in 256-sample hops)
    // at which the voted viseme best repeats the raw nearest-prototype decision.
    const protos = loadVisemeModel(defaultVisemeModelPath());
    const voted: number[] = [], raw: number[] = [];
    const p = new Processor({ sampleRate: 16_000, processorOptions: { visemeEventsEnabled: true, vadEventsEnabled: true } }, {
      port: {
        postMessage: (m) => {
          if (m.event === 'vad' && m.inactive) { voted.push(-1); raw.push(-1); }
          if (m.event === 'viseme') {
            const d = m.distances as number[];
            let best = 0;
            for (let i = 1; i < d.length; i++) if (d[i] < d[best]) best = i;
            voted.push(m.viseme as number);
            raw.push(protos[best].viseme);
          } else if (m.event === 'ended') { voted.push(-1); raw.push(-1); }
        },
      },
    });
    p._onmessage({ data: { event: 'model', model: protos } });
    p.process(audio);
    let bestHop = 0, bestAgree = -1;
    for (let lag = 0; lag <= 8; lag++) {
      let agree = 0;
      for (let h = lag; h < voted.length; h++) if (voted[h] >= 0 && voted[h] === raw[h - lag]) agree++;
      if (agree > bestAgree) { bestAgree = agree; bestHop = lag; }
    }
    const headAudioDelayMs = (272 + bestHop * 256) / 16;
    console.log(`HeadAudio output delay: block centre to emission 17 ms + majority vote ${bestHop} hops = ${headAudioDelayMs.toFixed(0)} ms`);
    expect(bestHop).toBeGreaterThanOrEqual(1); // the vote does delay its output
    expect(headAudioDelayMs).toBeLessThan(120);

    // Ours: no vote, blocks assigned to frames by their centre. Speech mass per frame against the
    // loudness envelope peaks at lag 0 (within a frame).
    const w = visemesPerFrame(audio, { fps: FPS });
    const mass = w.map((f) => 1 - f[VISEME_INDEX.sil]);
    const est = estimateLipSyncOffset(mass, rms, FPS, 5);
    console.log(`VisemeTracker speech mass vs RMS: best lag ${est.lagMs} ms (refined ${est.refinedLagMs.toFixed(1)} ms), r=${est.r.toFixed(3)}; a frame is complete ${(271 / 16).toFixed(1)} ms after its end`);
    expect(Math.abs(est.lagFrames)).toBeLessThanOrEqual(1);
    expect(est.r).toBeGreaterThan(0.3);
  });

  it('rejects a bad model file and bad options clearly', () => {
    expect(() => new VisemeTracker({ modelPath: '/nonexistent/model.bin' })).toThrow(/not readable/);
    expect(() => new VisemeTracker({ modelPath: new URL(import.meta.url).pathname })).toThrow(/prototype records/);
    expect(() => new VisemeTracker({ temperature: 0 })).toThrow(/temperature/);
    const t = new VisemeTracker();
    expect(() => t.read(new Float32Array(VISEME_COUNT))).toThrow(/no complete frame/);
  });
});
