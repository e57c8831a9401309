import { describe, expect, it } from 'vitest';
import { beamcoder } from '../../pipeline/media/beamcoder.js';
import { LiveEncoder } from '../../server/media/live-encoder.js';
import { OpusEncoder, opusHeapBytes } from '../../server/media/opus-encoder.js';

const CHUNK = 480;

function tone(chunks: number): Float32Array {
  const s = new Float32Array(chunks * CHUNK);
  for (let i = 0; i < s.length; i++) s[i] = 0.35 * Math.sin((2 * Math.PI * 440 * i) / 48_000) + 0.12 * Math.sin((2 * Math.PI * 1234 * i) / 48_000);
  return s;
}

/** FFmpeg's libopus decoder: what a kiosk's browser does with the packets. */
async function decode(packets: Buffer[]): Promise<Float32Array> {
  const bc = beamcoder();
  const dec = bc.decoder({ name: 'libopus', sample_rate: 48_000, channels: 1, channel_layout: 'mono', request_sample_fmt: 'flt' });
  const out: number[] = [];
  for (const p of packets) {
    for (const fr of (await dec.decode(bc.packet({ data: p, size: p.length }))).frames) {
      const plane: Buffer = fr.data[0];
      if (fr.format === 's16') out.push(...Array.from(new Int16Array(plane.buffer, plane.byteOffset, fr.nb_samples), (v) => v / 32768));
      else out.push(...new Float32Array(plane.buffer, plane.byteOffset, fr.nb_samples));
    }
  }
  return Float32Array.from(out);
}

/** The best correlation of `b` against `a` delayed by 0..maxLag samples, past the first 100 ms. */
function bestCorrelation(a: Float32Array, b: Float32Array, maxLag: number): { r: number; lag: number } {
  let best = { r: -1, lag: 0 };
  for (let lag = 0; lag <= maxLag; lag++) {
    let sab = 0, saa = 0, sbb = 0;
    for (let i = 4800; i < Math.min(a.length, b.length); i++) {
      const x = a[i - lag]!, y = b[i]!;
      sab += x * y; saa += x * x; sbb += y * y;
    }
    const r = sab / Math.sqrt(saa * sbb);
    if (r > best.r) best = { r, lag };
  }
  return best;
}

describe('OpusEncoder (libopus in WebAssembly, synchronous)', () => {
  it('encodes 10 ms chunks that FFmpeg decodes to the signal sent, 2.5 ms later (restricted low delay), at about 32 kbit/s', async () => {
    const enc = new OpusEncoder();
    const src = tone(200);
    const packets: Buffer[] = [];
    for (let k = 0; k < 200; k++) packets.push(enc.encode(src.subarray(k * CHUNK, (k + 1) * CHUNK)));
    enc.close();
    const bytes = packets.reduce((a, p) => a + p.length, 0);
    const kbps = (bytes * 8) / 2 / 1000;
    expect(kbps).toBeGreaterThan(20);
    expect(kbps).toBeLessThan(45);
    const decoded = await decode(packets);
    expect(decoded.length).toBe(src.length);
    const { r, lag } = bestCorrelation(src, decoded, 600);
    expect(r).toBeGreaterThan(0.98);
    expect(lag).toBe(120);
  });

  it('refuses a chunk of another length and a closed encoder, clearly; close() twice is harmless', () => {
    const enc = new OpusEncoder();
    expect(() => enc.encode(new Float32Array(960))).toThrow(/expected 480 samples \(10 ms at 48 kHz\), got 960/);
    enc.close();
    enc.close();
    expect(() => enc.encode(new Float32Array(CHUNK))).toThrow(/closed/);
  });

  it('frees its WebAssembly memory on close: 400 encoders made and closed in turn leave the heap as it was', () => {
    for (let i = 0; i < 5; i++) new OpusEncoder().close();
    const before = opusHeapBytes();
    for (let i = 0; i < 400; i++) {
      const e = new OpusEncoder();
      e.encode(tone(1));
      e.close();
    }
    // an encoder holds ~88 KB of the heap: 400 kept would grow it by ~35 MB
    expect(opusHeapBytes()).toBe(before);
  });

  it('an encoder made before the heap grows still encodes after it has grown (300 more live encoders)', () => {
    const first = new OpusEncoder();
    const before = opusHeapBytes();
    const more = Array.from({ length: 300 }, () => new OpusEncoder());
    expect(opusHeapBytes()).toBeGreaterThan(before);
    expect(first.encode(tone(1)).length).toBeGreaterThan(10);
    for (const e of [first, ...more]) e.close();
  });
});

describe('LiveEncoder audio', () => {
  it('hands each 10 ms packet to onAudio inside encodeAudio (no thread-pool round trip), 480 ticks apart, on the wall clock', () => {
    const got: { bytes: number; ts: number }[] = [];
    const enc = new LiveEncoder({
      width: 64, height: 64, fps: 25, maxKbps: 500, preset: 'ultrafast',
      onVideo: () => {},
      onAudio: (p, ts) => got.push({ bytes: p.length, ts }),
      onError: (e) => { throw e; },
    });
    const src = tone(10);
    for (let k = 0; k < 10; k++) {
      enc.encodeAudio(src.subarray(k * CHUNK, (k + 1) * CHUNK), 5000 + k * 10);
      expect(got.length).toBe(k + 1);
    }
    expect(got[0]!.ts).toBe(5000 * 48);
    expect(new Set(got.slice(1).map((g, i) => g.ts - got[i]!.ts))).toEqual(new Set([480]));
    expect(got.every((g) => g.bytes > 10)).toBe(true);
    expect(enc.stats().audioPackets).toBe(10);
    enc.close();
    enc.encodeAudio(src.subarray(0, CHUNK), 6000);
    expect(got.length).toBe(10);
  });
});
