/**
 * A token bucket (pure; the clock is a parameter): `perSecond` tokens a second, holding at most
 * `capacity`. take() spends one when there is one. Used for messages per connection and for
 * interrupts per session.
 */
export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    readonly perSecond: number,
    readonly capacity: number = perSecond * 2,
    private readonly clock: () => number = Date.now,
  ) {
    if (!(perSecond > 0) || !(capacity >= 1)) throw new RangeError(`TokenBucket: need perSecond > 0 and capacity >= 1, got ${perSecond}, ${capacity}`);
    this.tokens = capacity;
    this.last = clock();
  }

  /** Spends a token: true, or false when there is none (nothing changes then but the refill). */
  take(): boolean {
    const now = this.clock();
    this.tokens = Math.min(this.capacity, this.tokens + ((now - this.last) / 1000) * this.perSecond);
    this.last = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}

/**
 * A token bucket per address (new socket.io connections per address): at most `maxAddresses`
 * are remembered, the least recently seen forgotten first, so a flood of addresses costs bounded
 * memory (a forgotten address starts with a full bucket again).
 */
export class AddressBuckets {
  private readonly buckets = new Map<string, TokenBucket>();

  constructor(
    readonly perSecond: number,
    readonly capacity: number,
    private readonly clock: () => number = Date.now,
    private readonly maxAddresses = 10_000,
  ) {}

  take(address: string): boolean {
    let b = this.buckets.get(address);
    if (b) this.buckets.delete(address); // re-inserted: the map's order is the eviction order
    else b = new TokenBucket(this.perSecond, this.capacity, this.clock);
    this.buckets.set(address, b);
    if (this.buckets.size > this.maxAddresses) this.buckets.delete(this.buckets.keys().next().value!);
    return b.take();
  }
}
