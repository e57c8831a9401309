/**
 * Refused credentials per client address: after `max` refusals within `windowMs`, every request
 * and connection from that address is answered 429 "rate-limited" until the window has passed, so
 * tokens and the admin key cannot be guessed at speed. Pure (the clock is a parameter); memory is
 * bounded: at most `maxAddresses` addresses are tracked, the oldest dropped first.
 */
export class AuthFailureLimiter {
  private readonly failures = new Map<string, number[]>();

  constructor(
    readonly max: number,
    readonly windowMs = 60_000,
    private readonly clock: () => number = Date.now,
    private readonly maxAddresses = 10_000,
  ) {}

  /** Records a refusal from `address`. */
  fail(address: string): void {
    const now = this.clock();
    const list = this.recent(address, now);
    list.push(now);
    this.failures.delete(address); // re-insert: the map's order is the eviction order
    this.failures.set(address, list);
    if (this.failures.size > this.maxAddresses) this.failures.delete(this.failures.keys().next().value!);
  }

  /** Seconds until `address` may try again, or 0 when it is not blocked. */
  retryAfterSec(address: string): number {
    const now = this.clock();
    const list = this.recent(address, now);
    if (list.length < this.max) return 0;
    return Math.max(1, Math.ceil((list[list.length - this.max]! + this.windowMs - now) / 1000));
  }

  private recent(address: string, now: number): number[] {
    const list = (this.failures.get(address) ?? []).filter((t) => t > now - this.windowMs);
    if (list.length === 0) this.failures.delete(address);
    return list;
  }
}
