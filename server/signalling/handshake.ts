/**
 * socket.io handshake authentication, shared by the namespaces: the client passes
 * `auth: { token }` (or the admin key with `auth.session`); a credential that is refused or lacks
 * the namespace's scope fails the connection with the reason (counted in avatar_auth_refused_total).
 */
import type { Socket } from 'socket.io';
import { requireScope, type Authenticator, type Principal } from '../auth/authenticator.js';
import type { Scope } from '../auth/tokens.js';
import type { Logger } from '../log.js';
import type { ServerMetrics } from '../metrics.js';
import type { AuthFailureLimiter } from '../auth/failure-limiter.js';

export function handshake(
  deps: { auth: Authenticator; log: Logger; metrics: ServerMetrics; failures?: AuthFailureLimiter },
  scope: Scope,
  channel: string,
): (socket: Socket, next: (err?: Error) => void) => void {
  return (socket, next) => {
    const address = socket.handshake.address;
    const wait = deps.failures?.retryAfterSec(address) ?? 0;
    if (wait > 0) {
      deps.metrics.authRefused.inc({ channel });
      next(Object.assign(new Error(`rate-limited: too many refused credentials from ${address}; try again in ${wait} s`), { data: { code: 'rate-limited', retryAfterSec: wait } }));
      return;
    }
    try {
      const { token, session } = (socket.handshake.auth ?? {}) as { token?: unknown; session?: unknown };
      const principal: Principal = deps.auth.authenticate(token, session);
      requireScope(principal, scope);
      (socket.data as { principal: Principal }).principal = principal;
      next();
    } catch (e) {
      deps.failures?.fail(address);
      deps.metrics.authRefused.inc({ channel });
      deps.log.info({ ip: socket.handshake.address, channel, reason: (e as Error).message }, 'connection refused');
      next(new Error((e as Error).message));
    }
  };
}
