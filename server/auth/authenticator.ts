/**
 * Who is calling: a signed token (kiosk, host or source; one session, some scopes) or the admin
 * key (every scope on any session, plus management calls). Used by HTTP routes and socket.io
 * handshakes alike.
 */
import { AuthError, ROLES, adminKeyMatches, signTokenWithClaims, verifyToken, type Role, type Scope, type TokenClaims } from './tokens.js';

export { AuthError };

export interface Principal {
  sessionId: string;
  scopes: ReadonlySet<Scope>;
  admin: boolean;
  /** token id, for logs */
  tokenId?: string;
}

export class ForbiddenError extends Error {
  override readonly name = 'ForbiddenError';
}

export class Authenticator {
  private readonly secret: Buffer;
  private readonly adminKey: string;
  private readonly hasSession: (id: string) => boolean;
  private readonly isRevoked: (tokenId: string) => boolean;

  constructor(opts: { secret: string; adminKey: string; hasSession: (id: string) => boolean; isRevoked?: (tokenId: string) => boolean }) {
    this.secret = Buffer.from(opts.secret, 'utf8');
    this.adminKey = opts.adminKey;
    this.hasSession = opts.hasSession;
    this.isRevoked = opts.isRevoked ?? (() => false);
  }

  /** The claims of a token this server signed (signature and expiry checked; revocation not). */
  claims(token: unknown): TokenClaims {
    return verifyToken(this.secret, token);
  }

  /**
   * A token, or the admin key with the session it acts on. Throws AuthError (401) for a bad or
   * expired credential, or one naming a session this server does not run.
   */
  authenticate(credential: unknown, sessionHint?: unknown): Principal {
    if (this.isAdmin(credential)) {
      if (typeof sessionHint !== 'string' || !this.hasSession(sessionHint)) {
        throw new AuthError(`the admin key needs the session it acts on (unknown session ${JSON.stringify(sessionHint)})`);
      }
      return { sessionId: sessionHint, scopes: new Set<Scope>(['view', 'speak', 'interrupt', 'render']), admin: true };
    }
    const claims = verifyToken(this.secret, credential);
    if (this.isRevoked(claims.jti)) throw new AuthError('token revoked');
    if (!this.hasSession(claims.sid)) throw new AuthError(`the token is for session "${claims.sid}", which this server does not run`);
    if (typeof sessionHint === 'string' && sessionHint !== claims.sid) {
      throw new AuthError(`the token is for session "${claims.sid}", not "${sessionHint}"`);
    }
    return { sessionId: claims.sid, scopes: new Set(claims.scope), admin: false, tokenId: claims.jti };
  }

  /** Whether a session runs here (or, on a cluster node, anywhere in the cluster). */
  knows(sessionId: string): boolean {
    return this.hasSession(sessionId);
  }

  isAdmin(credential: unknown): boolean {
    return adminKeyMatches(this.adminKey, credential);
  }

  mint(sessionId: string, role: Role, ttlSec: number): string {
    return this.mintWithClaims(sessionId, role, ttlSec).token;
  }

  /** mint(), also giving back the signed claims (the token's id for revocations, its expiry). */
  mintWithClaims(sessionId: string, role: Role, ttlSec: number): { token: string; claims: TokenClaims } {
    if (!this.hasSession(sessionId)) throw new TypeError(`no session "${sessionId}"`);
    return signTokenWithClaims(this.secret, { sid: sessionId, scope: ROLES[role], ttlSec });
  }
}

export function requireScope(p: Principal, scope: Scope): void {
  if (!p.scopes.has(scope)) throw new ForbiddenError(`this token may not ${scope} (its scopes: ${[...p.scopes].join(', ') || 'none'})`);
}
