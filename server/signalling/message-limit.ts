/**
 * Messages per connection: a token bucket of `perSecond` tokens a second holding at most twice
 * that. A message past it is not handled: its acknowledgement (if it has one) gets
 * { ok: false, code: 'rate-limited' }. A connection that keeps flooding (10 s worth of refusals) is
 * closed. The server's other connections never wait for it.
 */
import type { Socket } from 'socket.io';
import { TokenBucket } from '../auth/token-bucket.js';

export function limitMessages(socket: Socket, perSecond: number, onRefused?: (count: number) => void, clock: () => number = Date.now): void {
  const bucket = new TokenBucket(perSecond, perSecond * 2, clock);
  let refused = 0;
  socket.use((packet, next) => {
    if (bucket.take()) {
      refused = 0;
      next();
      return;
    }
    refused += 1;
    onRefused?.(refused);
    const ack = packet[packet.length - 1];
    if (typeof ack === 'function') (ack as (r: unknown) => void)({ ok: false, error: `more than ${perSecond} messages a second: slow down`, code: 'rate-limited' });
    if (refused > perSecond * 10) socket.disconnect(true);
  });
}
