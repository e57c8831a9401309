/**
 * The operator console: its page at /admin/ (built with the kiosk page: dist/kiosk/admin.html,
 * same Content-Security-Policy, nothing from another origin) and its sign-in.
 *   POST   /admin/api/session   { key }  -> cookie kiosk_console (HttpOnly, SameSite=Strict, Path=/), { csrf }
 *   GET    /admin/api/session   signed in? -> { csrf, expiresInSec } or 401
 *   DELETE /admin/api/session   signs out
 *   GET    /admin/api/log       the last warnings and errors of the server's log, newest first
 * The hook `consoleAuth` turns a signed-in cookie into the admin credential for every route (see
 * server/auth/console-sessions.ts for the CSRF rules); the page never holds the admin key.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { Config } from '../../config/schema.js';
import type { AuditLog } from '../audit-log.js';
import type { Authenticator } from '../auth/authenticator.js';
import { CONSOLE_COOKIE, cookieValue, type ConsoleSessions } from '../auth/console-sessions.js';
import { AuthError } from '../auth/authenticator.js';
import type { RecentLog } from '../log.js';
import type { ServerMetrics } from '../metrics.js';
import { markConsoleActor } from './actor.js';
import { bearer, KIOSK_CSP, refuseCredential } from './routes.js';

export interface ConsoleDeps {
  config: Config;
  auth: Authenticator;
  adminKey: string;
  consoles: ConsoleSessions;
  metrics: ServerMetrics;
  audit: AuditLog;
  recent: RecentLog;
  kioskDir: string;
}

/** The origins this server answers as (its own page's requests carry one of them). */
function ownOrigins(req: FastifyRequest, config: Config): string[] {
  const out = [`${req.protocol}://${req.host}`];
  if (config.server.public_url) out.push(new URL(config.server.public_url).origin);
  return out;
}

/** onRequest: a signed-in console cookie acts as the admin key (no Authorization header of its own). */
export function consoleAuth(deps: Pick<ConsoleDeps, 'config' | 'consoles' | 'adminKey'>) {
  return async (req: FastifyRequest, reply: FastifyReply): Promise<void> => {
    if (req.headers.authorization !== undefined) return;
    const cookie = cookieValue(req.headers.cookie, CONSOLE_COOKIE);
    if (!cookie) return;
    const csrf = req.headers['x-csrf-token'];
    const origin = req.headers.origin;
    const c = deps.consoles.check({ method: req.method, cookie, csrf: typeof csrf === 'string' ? csrf : undefined, origin: typeof origin === 'string' ? origin : undefined, ownOrigins: ownOrigins(req, deps.config) });
    if (c.kind === 'refused') {
      await reply.code(403).send({ ok: false, error: c.reason, code: 'forbidden' });
      return;
    }
    if (c.kind === 'admin') {
      req.headers.authorization = `Bearer ${deps.adminKey}`;
      markConsoleActor(req, c.actor);
    }
  };
}

const signIn = z.object({ key: z.string().min(1).max(1024) }).strict();

export async function registerConsoleRoutes(app: FastifyInstance, deps: ConsoleDeps): Promise<void> {
  const { consoles, auth, audit } = deps;
  const secure = deps.config.server.tls ? '; Secure' : '';

  app.get('/admin', (_req, reply) => reply.redirect('/admin/'));
  app.get('/admin/', (_req, reply) =>
    reply.header('content-security-policy', KIOSK_CSP).header('x-content-type-options', 'nosniff').header('referrer-policy', 'no-referrer').header('cache-control', 'no-store').sendFile('admin.html', deps.kioskDir),
  );

  app.post('/admin/api/session', async (req, reply) => {
    const body = signIn.safeParse(req.body);
    if (!body.success || !auth.isAdmin(body.data.key)) {
      audit.record({ actor: 'unauthenticated', from: req.ip, action: 'console.sign-in', result: 'forbidden' });
      return refuseCredential(reply, new AuthError('that is not the admin key'), deps.metrics);
    }
    const s = consoles.create(req.ip);
    audit.record({ actor: `console:${s.id.slice(0, 8)}`, from: req.ip, action: 'console.sign-in', result: 'ok', detail: { browser: String(req.headers['user-agent'] ?? '').slice(0, 200) } });
    return reply
      .header('set-cookie', `${CONSOLE_COOKIE}=${s.id}; HttpOnly; SameSite=Strict; Path=/; Max-Age=${s.maxAgeSec}${secure}`)
      .header('cache-control', 'no-store')
      .send({ ok: true, csrf: s.csrf, expiresInSec: s.maxAgeSec });
  });

  app.get('/admin/api/session', async (req, reply) => {
    const csrf = consoles.csrfOf(cookieValue(req.headers.cookie, CONSOLE_COOKIE));
    if (!csrf) return reply.code(401).send({ ok: false, error: 'not signed in', code: 'forbidden' });
    return reply.header('cache-control', 'no-store').send({ ok: true, csrf });
  });

  app.delete('/admin/api/session', async (req, reply) => {
    consoles.end(cookieValue(req.headers.cookie, CONSOLE_COOKIE));
    return reply.header('set-cookie', `${CONSOLE_COOKIE}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0${secure}`).send({ ok: true });
  });

  app.get('/admin/api/log', async (req, reply) => {
    if (!auth.isAdmin(bearer(req))) return refuseCredential(reply, new AuthError('this call needs the admin key or a console sign-in'), deps.metrics);
    return { ok: true, entries: deps.recent.list(50) };
  });
}
