/**
 * Kiosk and source tokens: a signed, expiring grant of some scopes on one session.
 *
 *   token = "k1." + base64url(JSON claims) + "." + base64url(HMAC-SHA256(secret, "k1." + claims part))
 *
 * Pure: no I/O, the clock is a parameter. The secret lives in a file (secrets.ts); the admin key
 * is separate and never signs anything. Revoked token ids: revocations.ts, checked by the authenticator.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export type Scope = 'view' | 'speak' | 'interrupt' | 'render';
export const SCOPES: readonly Scope[] = ['view', 'speak', 'interrupt', 'render'];

/** What each role may do: a kiosk watches and may stop the avatar; a host also speaks (microphone); a source (TTS) speaks. */
export const ROLES = {
  kiosk: ['view', 'interrupt'],
  host: ['view', 'speak', 'interrupt'],
  source: ['speak', 'interrupt'],
  /** batch video jobs (POST /api/jobs ...): a teacher or content author */
  author: ['render'],
} as const satisfies Record<string, readonly Scope[]>;
export type Role = keyof typeof ROLES;

export interface TokenClaims {
  /** session id */
  sid: string;
  scope: Scope[];
  /** issued at, unix seconds */
  iat: number;
  /** expires at, unix seconds */
  exp: number;
  /** token id (for logs and revocation) */
  jti: string;
}

export class AuthError extends Error {
  override readonly name = 'AuthError';
}

const PREFIX = 'k1';
/** tokens longer than this are refused before any parsing */
const MAX_TOKEN_LENGTH = 1024;

function mac(secret: Uint8Array, data: string): Buffer {
  return createHmac('sha256', secret).update(data).digest();
}

export interface SignOptions {
  sid: string;
  scope: readonly Scope[];
  /** seconds the token is valid */
  ttlSec: number;
  /** unix milliseconds (default Date.now()) */
  nowMs?: number;
}

export function signToken(secret: Uint8Array, opts: SignOptions): string {
  return signTokenWithClaims(secret, opts).token;
}

/** signToken, also giving back the claims it signed (their id, jti, names the token in revocations). */
export function signTokenWithClaims(secret: Uint8Array, opts: SignOptions): { token: string; claims: TokenClaims } {
  if (secret.length < 16) throw new TypeError('signToken: the secret must be at least 16 bytes');
  if (typeof opts.sid !== 'string' || opts.sid.length === 0) throw new TypeError('signToken: sid must be a session id');
  if (!(opts.ttlSec > 0)) throw new TypeError(`signToken: ttlSec must be positive seconds, got ${opts.ttlSec}`);
  for (const s of opts.scope) if (!SCOPES.includes(s)) throw new TypeError(`signToken: unknown scope ${JSON.stringify(s)}`);
  const iat = Math.floor((opts.nowMs ?? Date.now()) / 1000);
  const claims: TokenClaims = { sid: opts.sid, scope: [...opts.scope], iat, exp: iat + Math.ceil(opts.ttlSec), jti: randomBytes(9).toString('base64url') };
  const body = `${PREFIX}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}`;
  return { token: `${body}.${mac(secret, body).toString('base64url')}`, claims };
}

/** Checks signature and expiry; throws AuthError saying why a token is refused. */
export function verifyToken(secret: Uint8Array, token: unknown, nowMs: number = Date.now()): TokenClaims {
  if (typeof token !== 'string' || token.length === 0) throw new AuthError('no token: pass the kiosk token (auth.token)');
  if (token.length > MAX_TOKEN_LENGTH) throw new AuthError('malformed token: too long');
  const parts = token.split('.');
  if (parts.length !== 3 || parts[0] !== PREFIX) throw new AuthError('malformed token');
  const body = `${parts[0]}.${parts[1]}`;
  // compare the canonical text of the signature: Node's base64url decoding is lenient (it skips
  // padding and stray characters and ignores the last character's spare bits), so comparing
  // decoded bytes would accept many spellings of one signature
  const given = Buffer.from(parts[2]!, 'utf8');
  const want = Buffer.from(mac(secret, body).toString('base64url'), 'utf8');
  if (given.length !== want.length || !timingSafeEqual(given, want)) throw new AuthError('bad token signature');
  let claims: TokenClaims;
  try {
    claims = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8')) as TokenClaims;
  } catch {
    throw new AuthError('malformed token claims');
  }
  if (typeof claims.sid !== 'string' || !Array.isArray(claims.scope) || !Number.isFinite(claims.exp)) {
    throw new AuthError('malformed token claims');
  }
  if (claims.exp * 1000 <= nowMs) throw new AuthError(`token expired at ${new Date(claims.exp * 1000).toISOString()}`);
  return claims;
}

/** Constant-time comparison of a presented admin key with the real one. */
export function adminKeyMatches(realKey: string, presented: unknown): boolean {
  if (typeof presented !== 'string' || presented.length === 0 || presented.length > MAX_TOKEN_LENGTH) return false;
  const a = createHmac('sha256', 'admin-key').update(realKey).digest();
  const b = createHmac('sha256', 'admin-key').update(presented).digest();
  return timingSafeEqual(a, b);
}
