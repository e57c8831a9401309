/**
 * A single-producer single-consumer ring of float audio samples in a SharedArrayBuffer (ringbuf.js,
 * MPL-2.0), plus two shared 64-bit counters: samples ever written and ever read. The counters give
 * both threads one audio position to refer to (control records say "apply at sample N").
 *
 * The ring never overwrites: write() accepts what fits and says how many. One side writes, the
 * other reads; build each side with AudioRing.attach(shared) in its own thread.
 */
import { RingBuffer } from 'ringbuf.js';

/** What crosses to the other thread (structured-clonable). */
export interface AudioRingShared {
  /** ringbuf.js storage */
  readonly storage: SharedArrayBuffer;
  /** BigInt64Array[2]: [0] total written, [1] total read, in samples */
  readonly counters: SharedArrayBuffer;
  /** samples */
  readonly capacity: number;
}

const WRITTEN = 0;
const READ = 1;

/** Chunk of the scratch buffer used to discard samples. */
const DISCARD_CHUNK = 4096;

export class AudioRing {
  readonly shared: AudioRingShared;
  private readonly ring: RingBuffer;
  private readonly counters: BigInt64Array;
  private scratch: Float32Array | undefined;

  private constructor(shared: AudioRingShared) {
    this.shared = shared;
    this.ring = new RingBuffer(shared.storage, Float32Array);
    this.counters = new BigInt64Array(shared.counters);
  }

  /** A new ring holding up to `capacity` samples. */
  static create(capacity: number): AudioRing {
    if (!Number.isInteger(capacity) || capacity < 1 || capacity > 2 ** 28) {
      throw new TypeError(`AudioRing: capacity must be an integer number of samples in [1, 2^28], got ${capacity}`);
    }
    return new AudioRing({
      storage: RingBuffer.getStorageForCapacity(capacity, Float32Array),
      counters: new SharedArrayBuffer(2 * BigInt64Array.BYTES_PER_ELEMENT),
      capacity,
    });
  }

  /** The same ring, seen from another thread. */
  static attach(shared: AudioRingShared): AudioRing {
    if (!(shared?.storage instanceof SharedArrayBuffer) || !(shared.counters instanceof SharedArrayBuffer)) {
      throw new TypeError('AudioRing.attach: expected { storage, counters } SharedArrayBuffers from AudioRing.shared');
    }
    return new AudioRing(shared);
  }

  get capacity(): number {
    return this.shared.capacity;
  }

  /** Samples the reader can take now. */
  get availableRead(): number {
    return this.ring.availableRead();
  }

  /** Samples the writer can put now. */
  get availableWrite(): number {
    return this.ring.availableWrite();
  }

  /** Samples ever written (the writer's position). */
  get totalWritten(): number {
    return Number(Atomics.load(this.counters, WRITTEN));
  }

  /** Samples ever read or discarded (the reader's position). */
  get totalRead(): number {
    return Number(Atomics.load(this.counters, READ));
  }

  /** Writer side: appends what fits of `samples`; returns how many were accepted (the rest is the caller's). */
  write(samples: Float32Array): number {
    if (!(samples instanceof Float32Array)) throw new TypeError('AudioRing.write: expected a Float32Array');
    const n = samples.length === 0 ? 0 : this.ring.push(samples);
    if (n > 0) {
      Atomics.add(this.counters, WRITTEN, BigInt(n));
      Atomics.notify(this.counters, WRITTEN);
    }
    return n;
  }

  /** Reader side: moves up to `max` (default into.length) samples into `into`; returns how many. */
  read(into: Float32Array, max: number = into.length): number {
    const n = this.ring.pop(into, Math.min(max, into.length));
    if (n > 0) this.advanceRead(n);
    return n;
  }

  /** Reader side: drops up to `max` samples unread; returns how many. */
  discard(max: number): number {
    this.scratch ??= new Float32Array(DISCARD_CHUNK);
    let done = 0;
    while (done < max) {
      const n = this.ring.pop(this.scratch, Math.min(max - done, DISCARD_CHUNK));
      if (n === 0) break;
      done += n;
    }
    if (done > 0) this.advanceRead(done);
    return done;
  }

  /**
   * Resolves when the writer's position moves past `seen` (or at once if it already has), or after
   * `timeoutMs`. Non-blocking: uses Atomics.waitAsync, so the thread's event loop keeps running.
   */
  waitForWrite(seen: number, timeoutMs: number): Promise<void> {
    return waitPast(this.counters, WRITTEN, seen, timeoutMs);
  }

  /** Like waitForWrite, for the reader's position (the writer waits for room). */
  waitForRead(seen: number, timeoutMs: number): Promise<void> {
    return waitPast(this.counters, READ, seen, timeoutMs);
  }

  private advanceRead(n: number): void {
    Atomics.add(this.counters, READ, BigInt(n));
    Atomics.notify(this.counters, READ);
  }
}

// Atomics.waitAsync is in Node 20 (V8) but not in the ES2022 lib typings.
type WaitAsync = (
  a: BigInt64Array,
  index: number,
  value: bigint,
  timeoutMs: number,
) => { async: false; value: 'not-equal' | 'timed-out' } | { async: true; value: Promise<'ok' | 'timed-out'> };

function waitPast(counters: BigInt64Array, index: number, seen: number, timeoutMs: number): Promise<void> {
  const waitAsync = (Atomics as unknown as { waitAsync: WaitAsync }).waitAsync;
  const r = waitAsync(counters, index, BigInt(seen), timeoutMs);
  if (!r.async) return Promise.resolve();
  // A pending waitAsync does not keep a thread's event loop alive (a worker awaiting one would
  // exit): a timer alongside it does, and bounds the wait even if a notify is missed.
  return new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, timeoutMs);
    void r.value.then(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}
