import { describe, expect, it } from 'vitest';
import { AuthError, ROLES, adminKeyMatches, signToken, verifyToken } from '../../server/auth/tokens.js';
import { Authenticator, ForbiddenError, requireScope } from '../../server/auth/authenticator.js';

const secret = Buffer.from('0123456789abcdef0123456789abcdef');
const NOW = Date.UTC(2026, 11, 1, 12, 0, 0);

describe('kiosk tokens', () => {
  it('a signed token verifies and carries its session, scopes and expiry', () => {
    const t = signToken(secret, { sid: 'hall-a', scope: ROLES.kiosk, ttlSec: 3600, nowMs: NOW });
    const c = verifyToken(secret, t, NOW + 1000);
    expect(c.sid).toBe('hall-a');
    expect(c.scope).toEqual(['view', 'interrupt']);
    expect(c.exp - c.iat).toBe(3600);
    expect(c.jti).toMatch(/^[\w-]{12}$/);
  });

  it('is refused once expired, with the expiry time in the reason', () => {
    const t = signToken(secret, { sid: 's', scope: ['view'], ttlSec: 60, nowMs: NOW });
    expect(() => verifyToken(secret, t, NOW + 59_000)).not.toThrow();
    expect(() => verifyToken(secret, t, NOW + 60_000)).toThrow(/token expired at 2026-12-01T12:01:00/);
  });

  it('is refused when signed with another secret or when its claims were edited', () => {
    const t = signToken(secret, { sid: 's', scope: ['view'], ttlSec: 60, nowMs: NOW });
    expect(() => verifyToken(Buffer.from('another-secret-of-32-characters!'), t, NOW)).toThrow(/bad token signature/);
    const [p, body, sig] = t.split('.');
    const claims = JSON.parse(Buffer.from(body!, 'base64url').toString());
    claims.scope = ['view', 'speak', 'interrupt'];
    const forged = `${p}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${sig}`;
    expect(() => verifyToken(secret, forged, NOW)).toThrow(/bad token signature/);
  });

  it('accepts one spelling of a signature only: padding, stray characters or a flipped spare bit are refused (issue 19, item 8)', () => {
    const t = signToken(secret, { sid: 's', scope: ['view'], ttlSec: 60, nowMs: NOW });
    const [p, body, sig] = t.split('.') as [string, string, string];
    // the last of 43 base64url characters carries 2 bits of the 32 bytes and 4 spare bits
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const last = alphabet.indexOf(sig.at(-1)!);
    const flipped = sig.slice(0, -1) + alphabet[last ^ 1]!;
    const variants = [`${sig}=`, `${sig}!!!`, flipped, ` ${sig}`];
    let decodedSame = 0;
    for (const v of variants) {
      if (Buffer.from(v, 'base64url').equals(Buffer.from(sig, 'base64url'))) decodedSame += 1;
      expect(() => verifyToken(secret, `${p}.${body}.${v}`, NOW), v).toThrow(/bad token signature/);
    }
    expect(decodedSame).toBe(variants.length); // every variant decodes to the same bytes: only the text tells them apart
    expect(() => verifyToken(secret, t, NOW)).not.toThrow();
  });

  it('refuses missing, non-string, malformed and oversized tokens with an AuthError', () => {
    for (const bad of [undefined, null, 42, '', 'abc', 'k1.x', 'k2.a.b', `k1.${'a'.repeat(2000)}.b`, { token: 'x' }]) {
      expect(() => verifyToken(secret, bad, NOW), String(bad)).toThrow(AuthError);
    }
  });

  it('refuses a short secret and unknown scopes at signing', () => {
    expect(() => signToken(Buffer.from('short'), { sid: 's', scope: ['view'], ttlSec: 1 })).toThrow(/16 bytes/);
    expect(() => signToken(secret, { sid: 's', scope: ['admin' as never], ttlSec: 1 })).toThrow(/unknown scope/);
  });

  it('compares admin keys exactly', () => {
    expect(adminKeyMatches('k'.repeat(64), 'k'.repeat(64))).toBe(true);
    expect(adminKeyMatches('k'.repeat(64), 'k'.repeat(63))).toBe(false);
    expect(adminKeyMatches('k'.repeat(64), undefined)).toBe(false);
    expect(adminKeyMatches('k'.repeat(64), '')).toBe(false);
  });
});

describe('Authenticator', () => {
  const auth = new Authenticator({ secret: 'x'.repeat(64), adminKey: 'a'.repeat(64), hasSession: (id) => id === 'default' || id === 'ward-3' });

  it('a kiosk token grants view and interrupt on its own session only', () => {
    const t = auth.mint('default', 'kiosk', 60);
    const p = auth.authenticate(t);
    expect(p).toMatchObject({ sessionId: 'default', admin: false });
    expect(() => requireScope(p, 'view')).not.toThrow();
    expect(() => requireScope(p, 'speak')).toThrow(ForbiddenError);
    expect(() => auth.authenticate(t, 'ward-3')).toThrow(/token is for session "default", not "ward-3"/);
  });

  it('the admin key works on any session it names, and needs one', () => {
    expect(auth.authenticate('a'.repeat(64), 'ward-3')).toMatchObject({ sessionId: 'ward-3', admin: true });
    expect(() => auth.authenticate('a'.repeat(64))).toThrow(/needs the session/);
    expect(() => auth.authenticate('a'.repeat(64), 'nope')).toThrow(/needs the session/);
  });

  it('refuses a token for a session the server does not run, and minting one', () => {
    const other = new Authenticator({ secret: 'x'.repeat(64), adminKey: 'b'.repeat(64), hasSession: () => true });
    expect(() => auth.authenticate(other.mint('gone', 'kiosk', 60))).toThrow(/does not run/);
    expect(() => auth.mint('gone', 'kiosk', 60)).toThrow(/no session/);
  });
});
