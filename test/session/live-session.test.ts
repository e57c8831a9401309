import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { encodePcmS16 } from '../../pipeline/audio/pcm.js';
import { SPEAKING_RMS, TestPatternEngine } from '../../pipeline/engine/test-pattern-engine.js';
import type { AvatarFrame } from '../../pipeline/records.js';
import { AUDIO_CHUNK_SAMPLES, LiveSession, type SessionAudio } from '../../pipeline/session/live-session.js';
import { QueueFullError } from '../../pipeline/session/live-timeline.js';

function rms(x: Float32Array): number {
  let s = 0;
  for (const v of x) s += v * v;
  return Math.sqrt(s / Math.max(1, x.length));
}

describe('LiveSession (real clock)', () => {
  it('emits ~25 frames and ~100 audio chunks per second in pts order, speech in both at the same pts', async () => {
    const t0 = performance.now();
    const session = new LiveSession(new TestPatternEngine({ lookaheadMs: 40 }), { maxQueuedSeconds: 5 });
    const frames: AvatarFrame[] = [];
    const audio: SessionAudio[] = [];
    const order: number[] = [];
    session.on('frame', (f) => {
      frames.push(f);
      order.push(f.pts);
    });
    session.on('audio', (a) => {
      audio.push(a);
      order.push(a.pts);
    });
    const errors: Error[] = [];
    session.on('error', (e) => errors.push(e));
    await sleep(500);
    const x = new Float32Array(8000); // 0.5 s at 16 kHz
    for (let i = 0; i < x.length; i++) x[i] = 0.5 * Math.sin((2 * Math.PI * 300 * i) / 16_000);
    session.ingest({ pcm: encodePcmS16(x), format: { encoding: 's16le', sampleRate: 16_000, channels: 1 } });
    expect(() => session.ingest({ pcm: encodePcmS16(new Float32Array(16_000 * 5)), format: { encoding: 's16le', sampleRate: 16_000, channels: 1 } })).toThrow(QueueFullError);
    await sleep(1500);
    const nFrames = frames.length;
    const nAudio = audio.length;
    const elapsedMs = performance.now() - t0;
    await session.close();
    await session.close();
    expect(errors).toEqual([]);
    // one frame per 40 ms of the wall clock that passed (~2 s; more when a loaded machine stalls
    // the sleeps), less the 40 ms lookahead and timer jitter, and never ahead of the clock
    expect(nFrames).toBeGreaterThanOrEqual(Math.floor((elapsedMs - 40) / 40) - 6);
    expect(nFrames).toBeLessThanOrEqual(Math.ceil(elapsedMs / 40));
    // audio follows the wall clock (10 ms chunks as the timeline passes them), not the frames
    expect(nAudio).toBeGreaterThanOrEqual(Math.floor(elapsedMs / 10) - 4);
    expect(nAudio).toBeLessThanOrEqual(Math.ceil(elapsedMs / 10));
    frames.forEach((f, k) => expect(f.pts).toBe(k * 1920));
    audio.forEach((a, k) => {
      expect(a.pts).toBe(k * AUDIO_CHUNK_SAMPLES);
      expect(a.samples).toHaveLength(480);
    });
    // audio does not wait for frames: it leaves as the timeline passes it, ahead of the frame that
    // shows it by at most the frame's window + the lookahead + a tick or two (a late render only
    // delays frames)
    let lead = 0;
    for (const f of frames) {
      const i = order.indexOf(f.pts);
      const audioBefore = order.slice(0, i).filter((p, j) => audio.some((a) => a.pts === p) && order.indexOf(p) === j);
      lead = Math.max(lead, (audioBefore.at(-1) ?? 0) - f.pts);
    }
    expect(lead).toBeLessThanOrEqual(1920 + 40 * 48 + 30 * 48);
    // the audio of each frame's interval is speech exactly when the frame shows speech: the test
    // card calls a frame speaking when its interval's RMS exceeds SPEAKING_RMS, so compare with the
    // RMS of the very audio sent for that interval (a margin either side: the engine measures the
    // 16 kHz analysis signal, this is the 48 kHz playout; a burst may start in a frame's last ms)
    let speaking = 0;
    for (const f of frames) {
      const chunks = audio.filter((a) => a.pts >= f.pts && a.pts < f.pts + 1920);
      if (chunks.length < 4) continue;
      const level = Math.min(...chunks.map((a) => rms(a.samples)));
      const interval = Math.sqrt(chunks.reduce((s, a) => s + rms(a.samples) ** 2, 0) / chunks.length);
      if (f.speaking) speaking += 1;
      if (interval > 2 * SPEAKING_RMS) expect(f.speaking).toBe(true);
      if (interval < SPEAKING_RMS / 2) expect(f.speaking).toBe(false);
      if (level > 0.2) expect(f.speaking).toBe(true);
    }
    expect(speaking).toBeGreaterThanOrEqual(12);
    expect(speaking).toBeLessThanOrEqual(14);
    expect(() => session.ingest({ pcm: encodePcmS16(x), format: { encoding: 's16le', sampleRate: 16_000, channels: 1 } })).toThrow(/closed/);
  });
});

describe('LiveSession interrupt (real clock)', () => {
  it('silences the frames and the audio not yet emitted, and later speech plays again', async () => {
    const session = new LiveSession(new TestPatternEngine());
    const frames: AvatarFrame[] = [];
    const audio: SessionAudio[] = [];
    session.on('frame', (f) => frames.push(f));
    session.on('audio', (a) => audio.push(a));
    const chunk = (ms: number) => {
      const x = new Float32Array(16 * ms);
      for (let i = 0; i < x.length; i++) x[i] = 0.5 * Math.sin((2 * Math.PI * 300 * i) / 16_000);
      return { pcm: encodePcmS16(x), format: { encoding: 's16le' as const, sampleRate: 16_000, channels: 1 as const } };
    };
    session.ingest(chunk(2000));
    await sleep(300);
    const { dropped } = session.interrupt();
    const cut = Math.max(frames.length * 1920, audio.length * 480);
    expect(dropped).toBeGreaterThan(1500 * 48);
    await sleep(300);
    session.ingest(chunk(2000));
    await sleep(200);
    await session.close();
    // frames from one after the cut until just before the next speech (300 ms later)
    const after = frames.filter((f) => f.pts >= cut + 1920 && f.pts < cut + 6 * 1920);
    expect(after.length).toBeGreaterThan(3);
    for (const f of after) expect(f.speaking).toBe(false);
    const silent = audio.filter((a) => a.pts >= cut && a.pts < cut + 6 * 1920);
    for (const a of silent) expect(rms(a.samples)).toBe(0);
    // speech again at the end
    expect(frames.at(-1)!.speaking).toBe(true);
    expect(rms(audio.at(-1)!.samples)).toBeGreaterThan(0.2);
  });
});
