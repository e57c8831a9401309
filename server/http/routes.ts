/**
 * HTTP routes (fastify):
 *   GET  /                          -> redirect to the kiosk page
 *   GET  /kiosk/...                 the kiosk page (static files built by kiosk-client/build.ts)
 *   GET  /healthz                   mode, sessions, media worker state (200 ok, 503 degraded)
 *   GET  /metrics                   Prometheus text
 *   POST /api/sessions/:id/audio    an audio file (WAV, MP3, Opus/OGG, FLAC, M4A) the avatar speaks; token with 'speak'
 *   POST /api/sessions/:id/say      { text, interrupt? } (JSON) or the text (text/plain)       token with 'speak'
 *   POST /api/sessions/:id/interrupt                         token with 'interrupt'
 *   POST /api/tokens                { session, role, ttl_days? } -> { token, id, url }   admin key
 *   POST /api/tokens/revoke         { id } or { token } -> refused from now on, its connections closed   admin key
 *   GET  /api/tokens/revoked        the revoked token ids                              admin key
 *   GET  /api/sessions              sessions with their stats                          admin key
 *   PUT|DELETE /internal/cluster/sessions/:id/pipes/:node   a pipe to another node (cluster)  admin key
 * Credentials: `Authorization: Bearer <token or admin key>`.
 * On a cluster node, audio, say and interrupt for a session of another node are checked here and
 * passed on to that node (server/cluster/).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fastifyStatic from '@fastify/static';
import { z } from 'zod';
import type { Config } from '../../config/schema.js';
import { AudioFileError } from '../../pipeline/audio/errors.js';
import { decodeAudioFile, decodeAudioFileAt } from '../../pipeline/audio/decode-file.js';
import { MAX_SAMPLE_RATE, MIN_SAMPLE_RATE } from '../../pipeline/audio/pcm.js';
import { CLOCK_RATE } from '../../pipeline/records.js';
import { AuthError, requireScope, type Authenticator, type Principal } from '../auth/authenticator.js';
import { ROLES } from '../auth/tokens.js';
import type { RevocationList } from '../auth/revocations.js';
import type { ServerMetrics } from '../metrics.js';
import { KIOSK_PATH } from '../protocol.js';
import type { SessionRegistry } from '../session/session-registry.js';
import { SessionUnavailableError } from '../errors.js';
import { errorCode, failure, parseRequest } from '../signalling/results.js';
import type { AuditLog } from '../audit-log.js';
import type { TokenRegistry } from '../auth/token-registry.js';
import { actorOf } from './actor.js';
import { qrSvg } from './qr.js';

export interface RouteDeps {
  config: Config;
  auth: Authenticator;
  sessions: SessionRegistry;
  metrics: ServerMetrics;
  /** folder of the built kiosk page */
  kioskDir: string;
  health: () => Promise<{ ok: boolean } & Record<string, unknown>>;
  /** the URL a kiosk opens for a token */
  kioskUrl: (token: string) => string;
  revocations: RevocationList;
  /** closes the live connections that use a token id; returns how many */
  disconnectToken: (tokenId: string) => number;
  /** cluster: the URL of the node that runs a session this node does not (its speech requests go there) */
  originUrl?: (sessionId: string) => string | undefined;
  /** cluster: where this node's pipe transports listen; with it, the pipe routes are served */
  pipeListen?: () => { ip: string; announcedIp?: string };
  /** named kiosk tokens (the console's kiosks) */
  tokens: TokenRegistry;
  audit: AuditLog;
  /** a session's settings (name, voice, preset), for the session list */
  describe?: (sessionId: string) => Record<string, unknown> | undefined;
}

/** The kiosk page may talk to its own server only: no other origin for anything. */
export const KIOSK_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "media-src 'self' blob: mediastream:",
  "connect-src 'self'",
  "worker-src 'self'",
  "font-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  // the operator console (/admin/, same origin) shows a kiosk page small as a preview
  "frame-ancestors 'self'",
].join('; ');

export const HTTP_STATUS: Record<string, number> = {
  'bad-request': 400,
  'audio-format': 400,
  forbidden: 403,
  'queue-full': 429,
  'too-many-kiosks': 429,
  'too-many-microphones': 429,
  'not-found': 404,
  conflict: 409,
  'bad-portrait': 422,
  'rate-limited': 429,
  unavailable: 503,
  internal: 500,
};

/** The credential of `Authorization: Bearer <token or admin key>`. */
export function bearer(req: FastifyRequest): string | undefined {
  const h = req.headers.authorization;
  if (typeof h !== 'string') return undefined;
  const m = /^Bearer\s+(\S+)$/i.exec(h.trim());
  return m?.[1];
}

/** 401 for a refused credential, counted in avatar_auth_refused_total. */
export function refuseCredential(reply: FastifyReply, e: AuthError, metrics: ServerMetrics): FastifyReply {
  metrics.authRefused.inc({ channel: 'http' });
  return reply.code(401).header('www-authenticate', 'Bearer').send({ ok: false, error: e.message, code: 'forbidden' });
}

export async function registerRoutes(app: FastifyInstance, deps: RouteDeps): Promise<void> {
  const { config, auth, sessions, metrics } = deps;

  const send = (reply: FastifyReply, e: unknown) => {
    if (e instanceof AuthError) return refuseCredential(reply, e, metrics);
    const f = e instanceof AudioFileError ? { ok: false, error: e.message, code: 'audio-format' as const } : failure(e);
    if (f.code === 'internal') app.log.error({ err: e }, 'request failed');
    return reply.code(HTTP_STATUS[f.code] ?? 500).send(f);
  };

  const principal = (req: FastifyRequest, sessionId: string): Principal => auth.authenticate(bearer(req), sessionId);
  const requireAdmin = (req: FastifyRequest): void => {
    if (!auth.isAdmin(bearer(req))) throw new AuthError('this call needs the admin key (Authorization: Bearer <admin key>)');
  };

  await app.register(fastifyStatic, {
    root: deps.kioskDir,
    prefix: KIOSK_PATH,
    index: ['index.html'],
    cacheControl: true,
    maxAge: 0,
    setHeaders(reply) {
      reply.header('content-security-policy', KIOSK_CSP);
      reply.header('x-content-type-options', 'nosniff');
      reply.header('referrer-policy', 'no-referrer');
    },
  });
  app.get('/', (_req, reply) => reply.redirect(KIOSK_PATH));

  app.get('/healthz', async (_req, reply) => {
    const h = await deps.health();
    return reply.code(h.ok ? 200 : 503).send(h);
  });

  app.get('/metrics', async (_req, reply) => {
    reply.header('content-type', metrics.registry.contentType);
    return metrics.registry.metrics();
  });

  // audio files arrive as the raw request body, up to limits.audio_upload_bytes
  app.addContentTypeParser(/^(audio\/[\w.+-]+|application\/octet-stream)$/, { parseAs: 'buffer', bodyLimit: config.limits.audio_upload_bytes }, (_req, body, done) =>
    done(null, body),
  );

  const sessionParam = z.object({ id: z.string().max(64) });

  /**
   * Cluster: a speech request for a session another node runs goes to that node as it came
   * (same credential, already checked here; same body). Returns false for this node's sessions.
   */
  const viaOrigin = async (req: FastifyRequest, reply: FastifyReply, id: string): Promise<boolean> => {
    const origin = sessions.has(id) ? undefined : deps.originUrl?.(id);
    if (!origin) return false;
    const body = Buffer.isBuffer(req.body) ? new Uint8Array(req.body) : typeof req.body === 'string' ? req.body : req.body === undefined ? undefined : JSON.stringify(req.body);
    const headers: Record<string, string> = { authorization: req.headers.authorization ?? '' };
    if (body !== undefined) headers['content-type'] = req.headers['content-type'] ?? 'application/octet-stream';
    let res: Response;
    try {
      res = await fetch(`${origin}${req.url}`, { method: req.method, headers, body, signal: AbortSignal.timeout(30_000) });
    } catch (e) {
      throw new SessionUnavailableError(`session ${id} runs on another node (${origin}), which did not answer: ${(e as Error).message}`);
    }
    await reply.code(res.status).header('content-type', res.headers.get('content-type') ?? 'application/json').send(Buffer.from(await res.arrayBuffer()));
    return true;
  };

  app.post(
    '/api/sessions/:id/audio',
    {
      bodyLimit: config.limits.audio_upload_bytes,
      // the credential before the body: a caller without one is answered (and counted as a refused
      // credential) before up to audio_upload_bytes of it are read into memory, and the connection
      // is closed so the rest of the body is not even received
      onRequest: async (req, reply) => {
        try {
          const { id } = parseRequest(sessionParam, req.params, 'session');
          requireScope(principal(req, id), 'speak');
        } catch (e) {
          reply.header('connection', 'close');
          return send(reply, e);
        }
      },
    },
    async (req, reply) => {
    try {
      const { id } = parseRequest(sessionParam, req.params, 'session');
      if (await viaOrigin(req, reply, id)) return reply;
      if (!Buffer.isBuffer(req.body)) {
        return reply.code(415).send({ ok: false, error: 'send the audio file as the request body with Content-Type audio/* (e.g. audio/wav, audio/mpeg, audio/ogg)', code: 'bad-request' });
      }
      const limits = { maxBytes: config.limits.audio_upload_bytes, maxSeconds: config.limits.max_queued_seconds };
      // at the file's own rate when the timeline takes it: the session resamples a little per tick
      // instead of the whole file here, on the thread that also paces the outgoing media
      let decoded = await decodeAudioFile(req.body, limits);
      if (decoded.sampleRate < MIN_SAMPLE_RATE || decoded.sampleRate > MAX_SAMPLE_RATE) decoded = await decodeAudioFileAt(req.body, CLOCK_RATE, limits);
      const res = sessions.require(id).ingestSamples(decoded.samples, decoded.sampleRate);
      req.log.info({ session: id, ms: res.acceptedMs, codec: decoded.codec }, 'audio file queued');
      return { ok: true, ...res, codec: decoded.codec };
    } catch (e) {
      return send(reply, e);
    }
    },
  );

  const sayBody = z.union([z.object({ text: z.string(), interrupt: z.boolean().optional() }), z.string().transform((text) => ({ text, interrupt: undefined }))]);

  app.post('/api/sessions/:id/say', async (req, reply) => {
    try {
      const { id } = parseRequest(sessionParam, req.params, 'session');
      const who = principal(req, id);
      requireScope(who, 'speak');
      const { text, interrupt } = parseRequest(sayBody, req.body, 'say (JSON { "text": "..." } or a text/plain body)');
      if (interrupt) requireScope(who, 'interrupt');
      if (await viaOrigin(req, reply, id)) return reply;
      const res = sessions.require(id).say(text, { interrupt });
      req.log.info({ session: id, sayId: res.sayId, sentences: res.sentences, chars: text.length }, 'say');
      return { ok: true, ...res };
    } catch (e) {
      return send(reply, e);
    }
  });

  app.post('/api/sessions/:id/interrupt', async (req, reply) => {
    try {
      const { id } = parseRequest(sessionParam, req.params, 'session');
      requireScope(principal(req, id), 'interrupt');
      if (await viaOrigin(req, reply, id)) return reply;
      return { ok: true, ...sessions.require(id).interrupt() };
    } catch (e) {
      return send(reply, e);
    }
  });

  const tokenRequest = z.object({
    session: z.string().max(64),
    role: z.enum(Object.keys(ROLES) as [keyof typeof ROLES, ...(keyof typeof ROLES)[]]),
    ttl_days: z.number().min(0.0001).max(3650).optional(),
    /** a kiosk's name ("Hall A, window 3"): the token is kept and listed (GET /api/tokens) */
    name: z.string().trim().min(1).max(80).optional(),
  });

  app.post('/api/tokens', async (req, reply) => {
    try {
      requireAdmin(req);
      const body = parseRequest(tokenRequest, req.body, 'token request');
      if (!auth.knows(body.session)) throw new TypeError(`no session "${body.session}"`);
      const ttlSec = (body.ttl_days ?? config.auth.kiosk_token_days) * 86_400;
      const { token, claims } = auth.mintWithClaims(body.session, body.role, ttlSec);
      req.log.info({ session: body.session, role: body.role, ttlSec, name: body.name }, 'token minted');
      if (body.name) deps.tokens.add({ id: claims.jti, name: body.name, session: body.session, role: body.role, token, createdAt: new Date(claims.iat * 1000).toISOString(), expiresAt: new Date(claims.exp * 1000).toISOString() });
      deps.audit.record({ actor: actorOf(req), from: req.ip, action: 'token.mint', target: claims.jti, result: 'ok', detail: { session: body.session, role: body.role, name: body.name, ttlSec: Math.round(ttlSec) } });
      // an author token opens the batch job page, the others the kiosk page
      const url = deps.kioskUrl(token);
      return { ok: true, token, id: claims.jti, url: body.role === 'author' ? url.replace('/kiosk/#', '/kiosk/jobs.html#') : url, expiresInSec: Math.round(ttlSec) };
    } catch (e) {
      return send(reply, e);
    }
  });

  const revokeRequest = z.union([z.object({ id: z.string().min(1).max(64) }).strict(), z.object({ token: z.string().min(1).max(1024) }).strict()]);
  /** a token signed here lives at most this long: an id revoked without its token is kept that long */
  const MAX_TOKEN_SEC = 3650 * 86_400;

  app.post('/api/tokens/revoke', async (req, reply) => {
    try {
      requireAdmin(req);
      const body = parseRequest(revokeRequest, req.body, 'revoke request');
      let id: string;
      let exp: number;
      if ('token' in body) {
        const c = auth.claims(body.token);
        id = c.jti;
        exp = c.exp;
      } else {
        id = body.id;
        exp = Math.floor(Date.now() / 1000) + MAX_TOKEN_SEC;
      }
      const r = deps.revocations.revoke(id, exp);
      const disconnected = deps.disconnectToken(id);
      req.log.warn({ token: id, disconnected }, 'token revoked');
      deps.audit.record({ actor: actorOf(req), from: req.ip, action: 'token.revoke', target: id, result: 'ok', detail: { disconnected } });
      return { ok: true, revoked: r, disconnected };
    } catch (e) {
      return send(reply, e);
    }
  });

  // the named kiosk tokens, with what their kiosks last said; ?session= for one session's
  app.get('/api/tokens', async (req, reply) => {
    try {
      requireAdmin(req);
      const session = (req.query as { session?: unknown }).session;
      const list = deps.tokens.list(typeof session === 'string' ? session : undefined).map(({ token, ...r }) => ({ ...r, url: deps.kioskUrl(token), revoked: deps.revocations.has(r.id) }));
      return { ok: true, tokens: list };
    } catch (e) {
      return send(reply, e);
    }
  });

  // a named kiosk's URL as a QR code to scan on the device (made here, no network)
  app.get('/api/tokens/:id/qr.svg', async (req, reply) => {
    try {
      requireAdmin(req);
      const r = deps.tokens.get((req.params as { id: string }).id);
      if (!r) return reply.code(404).send({ ok: false, error: 'no named token with that id', code: 'not-found' });
      return reply.header('content-type', 'image/svg+xml').header('cache-control', 'no-store').send(qrSvg(deps.kioskUrl(r.token)));
    } catch (e) {
      return send(reply, e);
    }
  });

  app.get('/api/tokens/revoked', async (req, reply) => {
    try {
      requireAdmin(req);
      return { ok: true, revoked: deps.revocations.list() };
    } catch (e) {
      return send(reply, e);
    }
  });

  // cluster, origin side of a pipe (server/cluster/relay-feed.ts is the edge side): another node
  // (`node`) whose pipe transport listens at { ip, port } gets this session's producers
  const pipeListen = deps.pipeListen;
  if (pipeListen) {
    const pipeParams = z.object({ id: z.string().max(64), node: z.string().regex(/^[A-Za-z0-9._:-]{1,64}$/) });
    const pipeRemote = z.object({ ip: z.string().min(1).max(64), port: z.number().int().min(1).max(65535) });
    app.put('/internal/cluster/sessions/:id/pipes/:node', async (req, reply) => {
      try {
        requireAdmin(req);
        const { id, node } = parseRequest(pipeParams, req.params, 'pipe');
        const to = parseRequest(pipeRemote, req.body, 'pipe request { ip, port }');
        const offer = await sessions.require(id).openPipe(node, to, pipeListen());
        req.log.info({ session: id, edge: node, to: `${to.ip}:${to.port}` }, 'cluster: pipe to an edge node opened');
        return { ok: true, ...offer };
      } catch (e) {
        return send(reply, e);
      }
    });
    app.delete('/internal/cluster/sessions/:id/pipes/:node', async (req, reply) => {
      try {
        requireAdmin(req);
        const { id, node } = parseRequest(pipeParams, req.params, 'pipe');
        const closed = sessions.get(id)?.closePipe(node) ?? false;
        if (closed) req.log.info({ session: id, edge: node }, 'cluster: pipe to an edge node closed');
        return { ok: true, closed };
      } catch (e) {
        return send(reply, e);
      }
    });
  }

  app.get('/api/sessions', async (req, reply) => {
    try {
      requireAdmin(req);
      return { ok: true, sessions: sessions.all().map((s) => ({ ...s.stats(), info: s.info, ...deps.describe?.(s.id) })) };
    } catch (e) {
      return send(reply, e);
    }
  });

  app.setErrorHandler((e, _req, reply) => {
    const err = e as Error & { statusCode?: number };
    const status = err.statusCode ?? 500;
    if (status >= 500) app.log.error({ err }, 'request failed');
    const code = status === 429 ? 'rate-limited' : status === 413 || status === 415 || status === 400 ? 'bad-request' : errorCode(err);
    return reply.code(status).send({ ok: false, error: err.message, code });
  });
  app.setNotFoundHandler((req, reply) => reply.code(404).send({ ok: false, error: `no route ${req.method} ${req.url.split('?')[0]}`, code: 'bad-request' }));
}

