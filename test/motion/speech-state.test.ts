import { describe, expect, it } from 'vitest';
import { SpeechState } from '../../pipeline/motion/speech-state.js';

describe('SpeechState', () => {
  it('needs 2 voiced frames to start and 200 ms of unvoiced frames to stop', () => {
    const s = new SpeechState({ fps: 25, onsetFrames: 2, hangoverMs: 200 });
    expect(s.process(0.9)).toBe(false); // one voiced frame: not yet
    expect(s.process(0.1)).toBe(false); // broken run
    expect(s.process(0.9)).toBe(false);
    expect(s.process(0.9)).toBe(true); // second in a row
    for (let k = 0; k < 4; k++) expect(s.process(0.0)).toBe(true); // 160 ms of pause: still speaking
    expect(s.process(0.0)).toBe(false); // 200 ms
  });

  it('a short pause does not end speech; values between the thresholds hold the state', () => {
    const s = new SpeechState({ fps: 25 });
    s.process(1); s.process(1);
    const seq = [0, 0, 0, 1, 0, 0, 0, 0.4, 0.4, 0.4, 0.4, 0.4, 0.4];
    for (const v of seq) expect(s.process(v)).toBe(true);
    const idle = new SpeechState({ fps: 25 });
    for (let k = 0; k < 10; k++) expect(idle.process(0.45)).toBe(false);
    idle.reset();
    expect(idle.speaking).toBe(false);
  });

  it('rejects bad options', () => {
    expect(() => new SpeechState({ onsetFrames: 0 })).toThrow(/onsetFrames/);
    expect(() => new SpeechState({ offThreshold: 0.9, onThreshold: 0.5 })).toThrow(/offThreshold/);
    expect(() => new SpeechState().process(Number.NaN)).toThrow(/finite/);
  });
});
