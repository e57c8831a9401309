import { describe, expect, it } from 'vitest';
import { AudioRing } from '../../pipeline/worker/audio-ring.js';
import { spawnTsWorker } from '../../pipeline/worker/ts-worker.js';
import { checksumOf, sequenceValue } from './fixtures/sequence.js';

const seq = (from: number, n: number): Float32Array => Float32Array.from({ length: n }, (_, i) => sequenceValue(from + i));

describe('AudioRing', () => {
  it('keeps samples in order across many wrap-arounds, with consistent counters', () => {
    const ring = AudioRing.create(1000);
    const total = 25_000;
    const got: number[] = [];
    const into = new Float32Array(211);
    let written = 0;
    while (got.length < total) {
      if (written < total) written += ring.write(seq(written, Math.min(337, total - written)));
      expect(ring.totalWritten - ring.totalRead).toBe(ring.availableRead);
      const n = ring.read(into);
      for (let i = 0; i < n; i++) got.push(into[i]);
      expect(ring.totalRead).toBe(got.length);
    }
    expect(ring.totalWritten).toBe(total);
    expect(got).toEqual(Array.from(seq(0, total)));
  });

  it('never overwrites: a full ring accepts nothing more', () => {
    const ring = AudioRing.create(100);
    expect(ring.write(seq(0, 150))).toBe(100);
    expect(ring.availableWrite).toBe(0);
    expect(ring.write(seq(100, 10))).toBe(0);
    expect(ring.totalWritten).toBe(100);
    const into = new Float32Array(100);
    expect(ring.read(into)).toBe(100);
    expect(into[99]).toBe(sequenceValue(99));
  });

  it('discards unread samples and counts them as read', () => {
    const ring = AudioRing.create(10_000);
    ring.write(seq(0, 9000));
    expect(ring.discard(8000)).toBe(8000);
    expect(ring.totalRead).toBe(8000);
    const into = new Float32Array(5);
    ring.read(into);
    expect(into[0]).toBe(sequenceValue(8000));
  });

  it('rejects a bad capacity and a non-float chunk', () => {
    expect(() => AudioRing.create(0)).toThrow(/capacity must be an integer number of samples/);
    // @ts-expect-error: deliberately not a Float32Array
    expect(() => AudioRing.create(10).write([1, 2])).toThrow(/expected a Float32Array/);
    // @ts-expect-error: deliberately not shared memory
    expect(() => AudioRing.attach({ storage: new ArrayBuffer(8), counters: new ArrayBuffer(16), capacity: 1 })).toThrow(/SharedArrayBuffers/);
  });

  it('carries audio in order to a real worker thread through a small ring (checksum)', async () => {
    const total = 200_000;
    const ring = AudioRing.create(4096);
    const worker = spawnTsWorker(new URL('./fixtures/ring-reader.ts', import.meta.url), {
      workerData: { shared: ring.shared, total, chunk: 300 },
    });
    const result = new Promise<{ count: number; mismatches: number; checksum: number; totalRead: number; totalWritten: number }>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
    let written = 0;
    while (written < total) {
      const n = ring.write(seq(written, Math.min(1000, total - written)));
      written += n;
      if (n === 0) await ring.waitForRead(ring.totalRead, 100);
    }
    const r = await result;
    await worker.terminate();
    expect(r.count).toBe(total);
    expect(r.mismatches).toBe(0);
    expect(r.checksum).toBe(checksumOf(seq(0, total)));
    expect(r.totalRead).toBe(total);
    expect(r.totalWritten).toBe(total);
    expect(ring.totalRead).toBe(total);
  });
});
