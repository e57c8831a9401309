/**
 * At most `limit` connections per session hold a slot (a microphone with its voice-activity gate):
 * take() one when a connection starts its stream (MicLimitError, naming the config key, past the
 * limit), release() it when the connection leaves. Pure bookkeeping.
 */
import { MicLimitError } from '../errors.js';

export class SessionSlots {
  private readonly held = new Map<string, Set<string>>();

  constructor(
    private readonly limit: number | undefined,
    private readonly key: string,
  ) {}

  take(sessionId: string, connectionId: string): void {
    const set = this.held.get(sessionId) ?? new Set<string>();
    if (this.limit !== undefined && !set.has(connectionId) && set.size >= this.limit) throw new MicLimitError(sessionId, this.limit, this.key);
    this.held.set(sessionId, set.add(connectionId));
  }

  release(sessionId: string, connectionId: string): void {
    const set = this.held.get(sessionId);
    if (set?.delete(connectionId) && set.size === 0) this.held.delete(sessionId);
  }
}
