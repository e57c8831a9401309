/**
 * socket.io handshake authentication, shared by the namespaces: the client passes
 * `auth: { token }` (or the admin key with `auth.session`); a credential that is refused or lacks
 * the namespace's scope fails the connection with the reason (counted in avatar_auth_refused_total).
 */
import type { Namespace, Socket } from 'socket.io';
import { requireScope, type Authenticator, type Principal } from '../auth/authenticator.js';
import type { Scope } from '../auth/tokens.js';
import type { Logger } from '../log.js';
import type { ServerMetrics } from '../metrics.js';
import type { AuthFailureLimiter } from '../auth/failure-limiter.js';

export function handshake(
  deps: { auth: Authenticator; log: Logger; metrics: ServerMetrics; failures?: AuthFailureLimiter },
  scope: Scope,
  channel: string,
  /** a principal this lets in without `scope` (a kiosk token on /audio for a session in listen mode) */
  orIf?: (p: Principal) => boolean,
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
      if (!orIf?.(principal)) requireScope(principal, scope);
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

/**
 * Wraps a namespace's handshake: after it, a token that already holds `cap` live connections on
 * this namespace (this node) is refused with code 'too-many-connections'; the admin key is not
 * capped, and neither is anything when cap is undefined.
 */
export function withTokenCap(
  nsp: Namespace,
  cap: number | undefined,
  log: Logger,
  inner: (socket: Socket, next: (err?: Error) => void) => void,
): (socket: Socket, next: (err?: Error) => void) => void {
  return (socket, next) =>
    inner(socket, (err) => {
      if (err) return next(err);
      const { tokenId, admin } = (socket.data as { principal: Principal }).principal;
      if (cap && tokenId && !admin) {
        let held = 0;
        for (const other of nsp.sockets.values()) if ((other.data as { principal?: Principal }).principal?.tokenId === tokenId) held += 1;
        if (held >= cap) {
          log.warn({ token: tokenId, ip: socket.handshake.address, held, namespace: nsp.name }, 'connection refused: the token holds its limit of connections');
          return next(Object.assign(new Error(`too-many-connections: this token already holds ${held} connections to ${nsp.name} (limits); close one first`), { data: { code: 'too-many-connections' } }));
        }
      }
      next();
    });
}
