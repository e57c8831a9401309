/**
 * Sign-in for the operator console (/admin/): the admin key is sent once (POST /admin/api/session)
 * and exchanged for a random session id in a cookie that is HttpOnly (no script reads it),
 * SameSite=Strict (no other site's page sends it) and short-lived (auth.console_session_minutes,
 * absolute). The page never holds the key.
 *
 * A request carrying a valid console cookie (and no Authorization header) is treated as an admin
 * request: the routes see the admin credential, the audit log sees "console:<id>". Requests that
 * change something must also carry the session's CSRF token in `X-CSRF-Token` (a page elsewhere
 * cannot set that header without a CORS grant, which this server never gives) and, when the
 * browser sends an Origin, come from this server's own origin.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';

export const CONSOLE_COOKIE = 'kiosk_console';
const SAFE = new Set(['GET', 'HEAD', 'OPTIONS']);

interface ConsoleSession {
  csrf: string;
  expiresAt: number;
  from: string;
}

export type ConsoleCheck = { kind: 'none' } | { kind: 'admin'; actor: string } | { kind: 'refused'; reason: string };

export function cookieValue(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const i = part.indexOf('=');
    if (i > 0 && part.slice(0, i).trim() === name) return part.slice(i + 1).trim();
  }
  return undefined;
}

const same = (a: string, b: string) => a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));

export class ConsoleSessions {
  private readonly sessions = new Map<string, ConsoleSession>();

  constructor(
    private readonly ttlMs: number,
    private readonly clock: () => number = Date.now,
    private readonly max = 1000,
  ) {}

  /** A new sign-in: the cookie value, its CSRF token and lifetime. */
  create(from: string): { id: string; csrf: string; maxAgeSec: number } {
    this.sweep();
    if (this.sessions.size >= this.max) this.sessions.delete(this.sessions.keys().next().value!);
    const id = randomBytes(24).toString('base64url');
    const csrf = randomBytes(18).toString('base64url');
    this.sessions.set(id, { csrf, expiresAt: this.clock() + this.ttlMs, from });
    return { id, csrf, maxAgeSec: Math.floor(this.ttlMs / 1000) };
  }

  /** The CSRF token of a signed-in cookie (the page asks for it again after a reload). */
  csrfOf(cookie: string | undefined): string | undefined {
    const s = cookie ? this.live(cookie) : undefined;
    return s?.csrf;
  }

  end(cookie: string | undefined): void {
    if (cookie) this.sessions.delete(cookie);
  }

  /**
   * What a request's cookie makes of it. `none`: no console cookie, or one that has expired (the
   * route decides, as for any request without a credential). `refused`: a state change without the
   * CSRF token or from another origin.
   */
  check(req: { method: string; cookie: string | undefined; csrf: string | undefined; origin: string | undefined; ownOrigins: string[] }): ConsoleCheck {
    const s = req.cookie ? this.live(req.cookie) : undefined;
    if (!s) return { kind: 'none' };
    if (!SAFE.has(req.method.toUpperCase())) {
      if (!req.csrf || !same(req.csrf, s.csrf)) return { kind: 'refused', reason: 'a console request that changes something needs its X-CSRF-Token' };
      if (req.origin && !req.ownOrigins.includes(req.origin)) return { kind: 'refused', reason: `a request from ${req.origin} may not act with this console's sign-in` };
    }
    return { kind: 'admin', actor: `console:${req.cookie!.slice(0, 8)}` };
  }

  private live(id: string): ConsoleSession | undefined {
    const s = this.sessions.get(id);
    if (!s) return undefined;
    if (s.expiresAt <= this.clock()) {
      this.sessions.delete(id);
      return undefined;
    }
    return s;
  }

  private sweep(): void {
    const now = this.clock();
    for (const [id, s] of this.sessions) if (s.expiresAt <= now) this.sessions.delete(id);
  }
}
