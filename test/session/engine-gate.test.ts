/** EngineGate (pure) and LiveSession.pause/resume on a real clock with the test-pattern engine. */
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { encodePcmS16 } from '../../pipeline/audio/pcm.js';
import { TestPatternEngine } from '../../pipeline/engine/test-pattern-engine.js';
import type { AvatarFrame } from '../../pipeline/records.js';
import { EngineGate } from '../../pipeline/session/engine-gate.js';
import { LiveSession, type SessionAudio } from '../../pipeline/session/live-session.js';

class Recorder {
  info = { analysisRate: 16_000, fps: 25, lookaheadMs: 0, name: 'rec', width: 2, height: 2, windowMs: 40, hopMs: 40 };
  got: string[] = [];
  pushAudio(s: Float32Array) {
    this.got.push(`audio ${s.length} from ${s[0]}`);
  }
  pushSilence(n: number) {
    this.got.push(`silence ${n}`);
  }
  interrupt() {
    this.got.push('interrupt');
  }
}

describe('EngineGate', () => {
  it('passes through while attached, drops while detached, and splits the push that reaches the attach point', () => {
    const rec = new Recorder();
    const gate = new EngineGate(rec);
    gate.pushSilence(100);
    gate.detach();
    gate.pushSilence(500);
    gate.interrupt();
    gate.pushAudio(Float32Array.from({ length: 300 }, (_, i) => 600 + i));
    expect(gate.position).toBe(900);
    expect(gate.attached).toBe(false);
    gate.attachFrom(1280);
    gate.pushAudio(Float32Array.from({ length: 300 }, (_, i) => 900 + i)); // 900..1199: before the point
    gate.pushAudio(Float32Array.from({ length: 300 }, (_, i) => 1200 + i)); // 1200..1499: from 1280 on
    gate.pushSilence(640);
    gate.interrupt();
    expect(rec.got).toEqual(['silence 100', 'audio 220 from 1280', 'silence 640', 'interrupt']);
    expect(gate.position).toBe(2140);
    expect(() => gate.attachFrom(100)).toThrow(RangeError);
  });
});

describe('LiveSession pause and resume (real clock)', () => {
  it('renders nothing while paused but its speech passes on the wall clock (unresampled: what it emits is silent); after resume, frames continue on the same grid at the time that passed', async () => {
    const session = new LiveSession(new TestPatternEngine({ lookaheadMs: 40 }), { maxQueuedSeconds: 5 });
    const frames: AvatarFrame[] = [];
    const audio: SessionAudio[] = [];
    session.on('frame', (f) => frames.push(f));
    session.on('audio', (a) => audio.push(a));
    await sleep(300);
    session.pause();
    expect(session.paused).toBe(true);
    await sleep(100); // a render in flight ends
    const before = frames.length;
    const x = new Float32Array(8000).fill(0.3); // 0.5 s at 16 kHz
    session.ingest({ pcm: encodePcmS16(x), format: { encoding: 's16le', sampleRate: 16_000, channels: 1 } });
    await sleep(100);
    expect(session.stats().queuedMs).toBeGreaterThan(200); // taken and queued
    await sleep(700);
    expect(frames.length).toBe(before); // nothing rendered
    expect(session.stats().queuedMs).toBe(0); // it played on: time passed
    expect(session.stats().samplesAccepted).toBe(24_000);
    // nobody hears a paused session: its speech is not even resampled (LiveTimeline.setPassing)
    const audioWhilePaused = audio.filter((a) => a.pts > frames.at(-1)!.pts + 48_000 * 0.2);
    expect(audioWhilePaused.length).toBeGreaterThan(50);
    expect(audioWhilePaused.every((a) => a.samples.every((v) => v === 0))).toBe(true);
    const resumedAt = session.stats().mediaPts;
    session.resume();
    await sleep(300);
    await session.close();
    const after = frames.slice(before);
    expect(after.length).toBeGreaterThanOrEqual(4);
    // the first frame after the resume is the next one on the grid at the time of the resume
    expect(after[0]!.pts).toBeGreaterThanOrEqual(resumedAt);
    expect(after[0]!.pts).toBeLessThan(resumedAt + 1920 + 480);
    expect(after[0]!.index * 1920).toBe(after[0]!.pts);
    after.forEach((f, k) => expect(f.index).toBe(after[0]!.index + k));
  });
});
