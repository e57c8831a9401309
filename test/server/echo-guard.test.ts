/** The echo guard's correlation and the agent stream's sentence cutting: pure functions. */
import { describe, expect, it } from 'vitest';
import { EnvelopeRing, echoCorrelation, envelope } from '../../server/voice/echo-guard.js';
import { takeSentences } from '../../server/voice/agent.js';

/** a speech-like loudness: bursts of a tone with pauses, from a seed */
function speechLike(ms: number, seed: number, rate = 16_000): Float32Array {
  const out = new Float32Array((rate * ms) / 1000);
  let x = seed;
  let amp = 0;
  for (let i = 0; i < out.length; i++) {
    if (i % 1600 === 0) {
      x = (x * 1103515245 + 12345) % 2 ** 31;
      amp = (x % 100) / 100 > 0.35 ? (x % 1000) / 1000 : 0;
    }
    out[i] = amp * Math.sin(i / 7);
  }
  return out;
}

describe('echo guard', () => {
  it('finds the sent voice in the microphone at a delay and a lower level, not another voice, and is unsure for a microphone just started', () => {
    const sent = new EnvelopeRing(2000);
    sent.push(speechLike(1600, 7), 16_000);
    const sentSteps = sent.steps;
    // the microphone hears the same 200 ms later at a third of the level
    const echo = new EnvelopeRing(1400);
    const delayed = new Float32Array(16_000 * 1.6);
    delayed.set(speechLike(1400, 7).map((v) => v * 0.33), 3200);
    echo.push(delayed, 16_000);
    expect(echoCorrelation(echo.steps, sentSteps)).toBeGreaterThan(0.9);
    const other = new EnvelopeRing(1400);
    other.push(speechLike(1600, 99), 16_000);
    expect(echoCorrelation(other.steps, sentSteps)).toBeLessThan(0.8);
    const fresh = new EnvelopeRing(1400);
    fresh.push(speechLike(100, 3), 16_000);
    expect(echoCorrelation(fresh.steps, sentSteps)).toBe(1);
    expect(envelope(new Float32Array(480), 48_000)).toEqual([0]);
  });
});

describe('agent stream sentences', () => {
  it('speaks up to the last whole sentence, keeps the rest, and all at the end', () => {
    expect(takeSentences('We close', false)).toEqual({ whole: '', rest: 'We close' });
    expect(takeSentences('We close at five. Have a', false)).toEqual({ whole: 'We close at five.', rest: ' Have a' });
    expect(takeSentences('It costs 3.50 euros', false)).toEqual({ whole: '', rest: 'It costs 3.50 euros' });
    expect(takeSentences('请稍等。我们五点关门', false)).toEqual({ whole: '请稍等。', rest: '我们五点关门' });
    expect(takeSentences(' nice day', true)).toEqual({ whole: 'nice day', rest: '' });
  });
});
