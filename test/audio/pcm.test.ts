import { describe, expect, it } from 'vitest';
import { AudioFormatError } from '../../pipeline/audio/errors.js';
import { MAX_CHUNK_BYTES, decodePcmChunk, encodePcmS16, floatToS16, type PcmFormat } from '../../pipeline/audio/pcm.js';

const MONO16: PcmFormat = { encoding: 's16le', sampleRate: 16_000, channels: 1 };

function f32Bytes(values: number[]): Uint8Array {
  return new Uint8Array(new Float32Array(values).buffer);
}

function s16Bytes(values: number[]): Uint8Array {
  const b = new Uint8Array(values.length * 2);
  const v = new DataView(b.buffer);
  values.forEach((x, i) => v.setInt16(2 * i, x, true));
  return b;
}

describe('decodePcmChunk decodes what clients send', () => {
  it('scales s16 mono to [-1, 1]', () => {
    const out = decodePcmChunk(s16Bytes([0, 16384, -32768, 32767]), MONO16);
    expect(Array.from(out)).toEqual([0, 0.5, -1, 32767 / 32768]);
  });

  it('averages s16 stereo frames', () => {
    const out = decodePcmChunk(s16Bytes([16384, 0, -16384, -16384]), { ...MONO16, channels: 2 });
    expect(Array.from(out)).toEqual([0.25, -0.5]);
  });

  it('averages f32 stereo and clamps slight overs to [-1, 1]', () => {
    const out = decodePcmChunk(f32Bytes([0.5, 0.25, 1.5, 1.7, -3, -2]), { encoding: 'f32le', sampleRate: 48_000, channels: 2 });
    expect(out[0]).toBeCloseTo(0.375, 7);
    expect(out[1]).toBe(1);
    expect(out[2]).toBe(-1);
  });

  it('reads chunks at an odd byte offset (a slice of a larger network buffer)', () => {
    const whole = new Uint8Array(1 + 8);
    whole.set(f32Bytes([0.25, -0.75]), 1);
    const out = decodePcmChunk(whole.subarray(1), { encoding: 'f32le', sampleRate: 24_000, channels: 1 });
    expect(Array.from(out)).toEqual([0.25, -0.75]);
  });

  it('round-trips through encodePcmS16 within one quantisation step, clamping out-of-range values', () => {
    const x = new Float32Array([0, 0.1, -0.3, 0.999, 2, -2]);
    const back = decodePcmChunk(encodePcmS16(x), MONO16);
    for (let i = 0; i < 4; i++) expect(Math.abs(back[i] - x[i])).toBeLessThan(1 / 16384);
    expect(back[4]).toBeCloseTo(32767 / 32768, 6);
    expect(back[5]).toBeCloseTo(-32767 / 32768, 6);
  });

  it('floatToS16 (the live media path) rounds, maps -1 to -32768, clamps and silences NaN, into the given array', () => {
    const out = new Int16Array(8);
    const r = floatToS16(new Float32Array([0, 0.5, -0.5, 1, -1, 3, -3, NaN]), out);
    expect(r).toBe(out);
    expect(Array.from(out)).toEqual([0, 16384, -16383, 32767, -32768, 32767, -32768, 0]);
    expect(() => floatToS16(new Float32Array(4), new Int16Array(3))).toThrow(/out holds 3 samples, the input 4/);
  });
});

describe('decodePcmChunk rejects what clients get wrong, saying what', () => {
  const bad = (bytes: Uint8Array, fmt: unknown) => () => decodePcmChunk(bytes, fmt as PcmFormat);
  const two = s16Bytes([1, 2]);

  it('rejects an unknown encoding', () => {
    expect(bad(two, { ...MONO16, encoding: 'mulaw' })).toThrow(AudioFormatError);
    expect(bad(two, { ...MONO16, encoding: 'mulaw' })).toThrow(/unknown PCM encoding "mulaw": expected "s16le" or "f32le"/);
  });

  it('rejects sample rates outside 8000..48000 Hz and fractional ones', () => {
    expect(bad(two, { ...MONO16, sampleRate: 96_000 })).toThrow('sample rate 96000 Hz is outside 8000..48000 Hz');
    expect(bad(two, { ...MONO16, sampleRate: 4_000 })).toThrow('sample rate 4000 Hz is outside 8000..48000 Hz');
    expect(bad(two, { ...MONO16, sampleRate: 22_050.5 })).toThrow('sample rate 22050.5 Hz is not an integer');
    expect(bad(two, { ...MONO16, sampleRate: '16000' })).toThrow(/sample rate must be a number of Hz, got "16000"/);
  });

  it('rejects channel counts other than 1 and 2', () => {
    expect(bad(two, { ...MONO16, channels: 6 })).toThrow(/channels must be 1 \(mono\) or 2 \(stereo\), got 6/);
  });

  it('rejects an empty chunk', () => {
    expect(bad(new Uint8Array(0), MONO16)).toThrow('empty audio chunk (0 bytes)');
  });

  it('rejects a chunk over MAX_CHUNK_BYTES', () => {
    expect(bad(new Uint8Array(MAX_CHUNK_BYTES + 4), MONO16)).toThrow(/over the 1048576-byte limit/);
  });

  it('rejects a byte length that is not whole frames', () => {
    expect(bad(new Uint8Array(7), MONO16)).toThrow(/7 bytes is not a whole number of s16le mono frames \(2 bytes each\)/);
    expect(bad(new Uint8Array(12), { encoding: 'f32le', sampleRate: 16_000, channels: 2 })).toThrow(/f32le stereo frames \(8 bytes each\)/);
  });

  it('rejects NaN and Infinity in f32 chunks', () => {
    const f32 = { encoding: 'f32le', sampleRate: 16_000, channels: 1 };
    expect(bad(f32Bytes([0, NaN]), f32)).toThrow(/f32le sample 1 of the chunk is NaN/);
    expect(bad(f32Bytes([Infinity]), f32)).toThrow(/sample 0 of the chunk is Infinity/);
  });

  it('recognises integer audio sent as f32', () => {
    const f32 = { encoding: 'f32le', sampleRate: 16_000, channels: 1 };
    expect(bad(f32Bytes([0.1, 1200]), f32)).toThrow(/sample 1 of the chunk is 1200, far outside \[-1, 1\]: is this s16le .* sent as f32le\?/);
  });

  it('rejects a format that is not an object and bytes that are not bytes', () => {
    expect(bad(two, null)).toThrow(AudioFormatError);
    expect(bad([1, 2] as unknown as Uint8Array, MONO16)).toThrow(/audio chunk must be bytes/);
  });
});
