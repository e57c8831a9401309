import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { Mp4Writer } from '../../pipeline/encode/mp4-writer.js';
import { readMp4, type DecodedMp4 } from '../../pipeline/encode/mp4-reader.js';
import { i420Size } from '../../pipeline/records.js';

const W = 512;
const H = 512;
const FPS = 25;
const RATE = 48_000;
const SECONDS = 2;
const FRAMES = FPS * SECONDS;
const TONE_HZ = 440;
const AMPLITUDE = 0.5;

/** Y level of the lower half: encodes the frame index (step 4 survives crf 23 with margin). */
const levelOf = (k: number): number => 16 + 4 * k;

/** Top half: a white bar moving right on black; bottom half: flat grey at levelOf(k). */
function syntheticFrame(k: number): Uint8Array {
  const f = new Uint8Array(i420Size(W, H)).fill(128);
  const barX = (k * 9) % (W - 32);
  for (let y = 0; y < H / 2; y++) {
    f.fill(16, y * W, (y + 1) * W);
    f.fill(235, y * W + barX, y * W + barX + 32);
  }
  f.fill(levelOf(k), (H / 2) * W, H * W);
  return f;
}

function tone(n: number): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = AMPLITUDE * Math.sin((2 * Math.PI * TONE_HZ * i) / RATE);
  return a;
}

/** Mean Y over the centre of the lower half. */
function lowerMean(frame: Uint8Array): number {
  let sum = 0;
  let n = 0;
  for (let y = (H * 5) / 8; y < (H * 7) / 8; y += 4) {
    for (let x = W / 8; x < (W * 7) / 8; x += 4) {
      sum += frame[y * W + x];
      n += 1;
    }
  }
  return sum / n;
}

/** Frequency from rising zero crossings over a stretch of the signal. */
function zeroCrossingHz(s: Float32Array, rate: number): number {
  let first = -1;
  let last = -1;
  let count = 0;
  for (let i = 1; i < s.length; i++) {
    if (s[i - 1] < 0 && s[i] >= 0) {
      const t = i - 1 + -s[i - 1] / (s[i] - s[i - 1]);
      if (first < 0) first = t;
      else count += 1;
      last = t;
    }
  }
  return (count * rate) / (last - first);
}

describe('Mp4Writer and readMp4 round trip', () => {
  let path: string;
  let written: Awaited<ReturnType<Mp4Writer['close']>>;
  let read: DecodedMp4;

  beforeAll(async () => {
    path = join(mkdtempSync(join(tmpdir(), 'mp4-')), 'out.mp4');
    const writer = await Mp4Writer.open(path, { width: W, height: H, fps: FPS, sampleRate: RATE, x264Preset: 'veryfast' });
    const audio = tone(RATE * SECONDS);
    const perFrame = RATE / FPS;
    // Interleave as a live producer would: one frame, then that frame's audio.
    for (let k = 0; k < FRAMES; k++) {
      await writer.writeVideo(syntheticFrame(k));
      await writer.writeAudio(audio.subarray(k * perFrame, (k + 1) * perFrame));
    }
    written = await writer.close();
    read = await readMp4(path);
  });

  it('reports what it wrote', () => {
    expect(written.videoFrames).toBe(FRAMES);
    expect(written.audioSamples).toBe(RATE * SECONDS);
    expect(written.durationSec).toBeCloseTo(SECONDS, 6);
    expect(written.encodeMsPerFrame).toBeGreaterThan(0);
  });

  it('holds H.264 video of the right size, rate and frame count', () => {
    expect(read.video.codec).toBe('h264');
    expect(read.video.width).toBe(W);
    expect(read.video.height).toBe(H);
    expect(read.video.fps).toBe(FPS);
    expect(read.video.frames).toHaveLength(FRAMES);
    for (const f of read.video.frames) expect(f.length).toBe(i420Size(W, H));
  });

  it('keeps frame order: each frame decodes to its own index', () => {
    const indices = read.video.frames.map((f) => Math.round((lowerMean(f) - 16) / 4));
    expect(indices).toEqual(Array.from({ length: FRAMES }, (_, k) => k));
  });

  it('holds AAC audio at 48 kHz whose length and pitch match the tone', () => {
    expect(read.audio.codec).toBe('aac');
    expect(read.audio.sampleRate).toBe(RATE);
    expect(read.audio.channels).toBe(1);
    expect(Math.abs(read.audio.samples.length - RATE * SECONDS)).toBeLessThanOrEqual(RATE / FPS);
    const middle = read.audio.samples.subarray(RATE * 0.2, RATE * 1.8);
    expect(zeroCrossingHz(middle, RATE)).toBeCloseTo(TONE_HZ, 0);
    const rms = Math.sqrt(middle.reduce((s, v) => s + v * v, 0) / middle.length);
    expect(rms).toBeGreaterThan((AMPLITUDE / Math.SQRT2) * 0.9);
    expect(rms).toBeLessThan((AMPLITUDE / Math.SQRT2) * 1.1);
  });

  it('reports a container duration within one frame of the audio duration', () => {
    expect(Math.abs(read.durationSec - read.audio.samples.length / RATE)).toBeLessThanOrEqual(1 / FPS);
    expect(Math.abs(read.durationSec - SECONDS)).toBeLessThanOrEqual(1 / FPS);
  });

  it('puts the moov box ahead of mdat (faststart)', () => {
    const bytes = readFileSync(path);
    const moov = bytes.indexOf('moov');
    const mdat = bytes.indexOf('mdat');
    expect(moov).toBeGreaterThan(0);
    expect(moov).toBeLessThan(mdat);
  });

  it('readMp4 stops at maxFrames', async () => {
    const few = await readMp4(path, { maxFrames: 5 });
    expect(few.video.frames).toHaveLength(5);
    expect(Math.round((lowerMean(few.video.frames[4]) - 16) / 4)).toBe(4);
  });
});
