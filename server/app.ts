/**
 * The kiosk avatar server: HTTP (fastify) + socket.io (/kiosk, /audio) + the avatar sessions +
 * the media path (mediasoup SFU, or direct wrtc peers when no SFU worker is available).
 * startServer() is what `npm start` (server/main.ts) and the tests run.
 */
import { BadRequestError } from './errors.js';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { Server as SocketServer } from 'socket.io';
import type { Config } from '../config/schema.js';
import { ConfigError } from '../config/load.js';
import { MAX_CHUNK_BYTES } from '../pipeline/audio/pcm.js';
import { Authenticator } from './auth/authenticator.js';
import { AuthFailureLimiter } from './auth/failure-limiter.js';
import { RevocationList } from './auth/revocations.js';
import { loadOrCreateSecret } from './auth/secrets.js';
import type { Role } from './auth/tokens.js';
import { registerLimits } from './http/limits.js';
import { registerRoutes } from './http/routes.js';
import { registerJobRoutes } from './http/job-routes.js';
import { registerSessionRoutes } from './http/session-routes.js';
import { SessionStore } from './session/session-store.js';
import { SessionManager } from './session/session-manager.js';
import { AuditLog } from './audit-log.js';
import { AgentClient } from './voice/agent.js';
import { TokenRegistry } from './auth/token-registry.js';
import { ConsoleSessions } from './auth/console-sessions.js';
import { consoleAuth, registerConsoleRoutes } from './http/console-routes.js';
import { createJobQueue, type JobQueue } from './jobs/job-queue.js';
import { JobStore } from './jobs/job-store.js';
import { createLogger, recentLog, type Logger } from './log.js';
import { resolveIceAddress, firstLanAddress } from './media/ice-address.js';
import { workerBinaryPath } from './media/mediasoup-worker.js';
import { WorkerSupervisor } from './media/worker-supervisor.js';
import { createMetrics } from './metrics.js';
import { AUDIO_NAMESPACE, KIOSK_NAMESPACE, KIOSK_PATH, type MediaMode } from './protocol.js';
import { AvatarSession } from './session/avatar-session.js';
import { SessionRegistry } from './session/session-registry.js';
import { attachAudioNamespace, audioRoom } from './signalling/audio-namespace.js';
import { EspeakTts } from './voice/espeak-tts.js';
import type { TtsError } from './voice/tts-provider.js';
import { TtsRouter } from './voice/tts-router.js';
import { UpstreamTts } from './voice/upstream-tts.js';
import { attachKioskNamespace } from './signalling/kiosk-namespace.js';
import { AddressBuckets } from './auth/token-bucket.js';
import { clientAddress, normaliseAddress } from './http/client-address.js';
import { ClusterNode } from './cluster/cluster-node.js';

/** Where kiosk-client/build.ts writes the page. */
export const KIOSK_DIST = fileURLToPath(new URL('../dist/kiosk/', import.meta.url));

export interface StartOptions {
  /** a logger (default: pino at `logLevel`) */
  log?: Logger;
  /** default 'info' */
  logLevel?: string;
  /** engine module for every session instead of the portrait engine (tests) */
  engineModule?: string;
  engineOptions?: unknown;
}

export interface RunningServer {
  /** http://host:port the server listens on */
  url: string;
  port: number;
  mode: MediaMode;
  sessions: SessionRegistry;
  /** this server as a node of a cluster (config.cluster.redis_url), else undefined */
  cluster: ClusterNode | undefined;
  auth: Authenticator;
  adminKey: string;
  log: Logger;
  /** the socket.io server (namespaces /kiosk and /audio) */
  io: SocketServer;
  /** text-to-speech (upstream + local fallback) behind every session's say() */
  tts: TtsRouter;
  /** batch video jobs */
  jobs: { store: JobStore; queue: JobQueue };
  /** mints a token for a session and role and returns the URL a kiosk opens with it */
  kioskUrl(sessionId: string, role?: Role, ttlSec?: number): string;
  /** the mediasoup worker's process id (in-process only: /healthz does not show it), else undefined */
  mediasoupWorkerPid(): number | undefined;
  close(): Promise<void>;
}

export async function startServer(config: Config, opts: StartOptions = {}): Promise<RunningServer> {
  const log = opts.log ?? createLogger(opts.logLevel ?? 'info');
  if (!existsSync(`${KIOSK_DIST}index.html`)) {
    throw new Error(`the kiosk page is not built (${KIOSK_DIST}index.html is missing): run npm run build:kiosk`);
  }
  // TLS files first: a wrong path stops the start before anything else is started
  const tls = config.server.tls;
  const https = tls ? { cert: readTlsFile(tls.cert_file, 'server.tls.cert_file'), key: readTlsFile(tls.key_file, 'server.tls.key_file') } : null;
  const secret = loadOrCreateSecret(config.auth.secret_file, 'token secret');
  const adminKey = loadOrCreateSecret(config.auth.admin_key_file, 'admin key');
  if (adminKey.created) log.info({ file: config.auth.admin_key_file }, 'created an admin key');

  const sessions = new SessionRegistry();
  const revocations = RevocationList.load(config.auth.revoked_file);
  /** set when this server is a node of a cluster (config.cluster.redis_url) */
  let cluster: ClusterNode | undefined;
  const auth = new Authenticator({
    secret: secret.value,
    adminKey: adminKey.value,
    hasSession: (id) => sessions.has(id) || (cluster?.knows(id) ?? false),
    isRevoked: (id) => revocations.has(id),
  });
  const failures = new AuthFailureLimiter(config.limits.auth_failures_per_minute);
  const audit = new AuditLog(config.auth.audit_file, config.auth.audit_max_bytes, config.auth.audit_keep);
  const tokens = new TokenRegistry(config.auth.tokens_file);
  const ice = resolveIceAddress(config.media.listen_ip ?? config.server.host, config.media.announced_ip);

  // --- media mode
  let mode: MediaMode = config.media.mode === 'direct' ? 'direct' : 'sfu';
  let supervisor: WorkerSupervisor | undefined;
  if (mode === 'sfu') {
    try {
      supervisor = await WorkerSupervisor.start({ rtcMinPort: config.media.rtc_min_port, rtcMaxPort: config.media.rtc_max_port });
      supervisor.on('died', (e) => log.error({ err: e }, 'the mediasoup worker died: starting a new one; kiosks on the sfu path will join again'));
      supervisor.on('restart-failed', (e, retryMs) => log.error({ err: e, retryMs }, 'starting a new mediasoup worker failed'));
    } catch (e) {
      if (config.media.mode === 'sfu') throw e;
      log.warn({ reason: (e as Error).message, binary: workerBinaryPath() ?? null }, 'no mediasoup worker: serving kiosks on the direct path');
      mode = 'direct';
    }
  }
  const worker = supervisor?.worker;
  log.info({ mode, worker: worker?.pid ?? null, listenIp: ice.listenIp, announcedIp: ice.announcedIp ?? null }, `media path: ${mode}`);

  // --- cluster: Redis first, so a node that cannot reach it stops here with the reason
  if (config.cluster.redis_url) {
    if (mode !== 'sfu') {
      supervisor?.close();
      throw new ConfigError('cluster.redis_url is set but this node has no mediasoup worker: a cluster node needs the sfu path (bash deploy/setup.sh builds the worker)');
    }
    try {
      cluster = await ClusterNode.connect({ config, log, sessions, adminKey: adminKey.value, revocations, worker: () => supervisor?.worker, ice });
    } catch (e) {
      supervisor?.close();
      throw e;
    }
  }

  // --- speech for say(): the upstream TTS while it is healthy, espeak-ng otherwise
  const voice = config.voice;
  const local = new EspeakTts(voice.local);
  let localError: string | null = null;
  try {
    await local.check();
    void local.warmUp(); // the library's thread starts while the rest of the server does
  } catch (e) {
    // a voice espeak-ng does not know is a configuration error; a missing espeak-ng leaves the
    // rest of the server working (say() then needs the upstream) and shows in /healthz
    if ((e as TtsError).reason !== 'missing') throw e;
    localError = (e as Error).message;
    log.error({ reason: localError }, 'the local TTS engine is missing: say() works only while the upstream TTS does');
  }
  const tts = new TtsRouter({
    upstream: voice.upstream.url ? new UpstreamTts(voice.upstream) : undefined,
    local,
    probeIntervalMs: voice.upstream.probe_interval_ms,
    log,
    // the upstream's audio gets phones from its known text (the mouth follows them: issue 18)
    align: (text, audio) => local.alignPhones(text, audio),
  });
  log.info({ upstream: voice.upstream.url ?? null, local: `${voice.local.command} -v ${voice.local.voice}` }, `tts: ${tts.active}`);

  // --- batch video jobs: records and files in jobs.dir, run by the embedded queue or BullMQ
  const jobStore = new JobStore(config.jobs.dir);
  let jobs: JobQueue | undefined;

  const closeAll = async () => {
    await jobs?.close().catch((e: unknown) => log.error({ err: e }, 'closing the job queue failed'));
    tts.close();
    await cluster?.close();
    await sessions.closeAll();
    supervisor?.close();
  };

  // --- sessions: the config's, as changed at run time (runtime.sessions_dir), started in order
  const store = new SessionStore(config.runtime.sessions_dir);
  const manager = new SessionManager({
    config,
    store,
    registry: sessions,
    log,
    // a voice the local engine does not have is the caller's mistake (400), said without the config key
    checkVoice: (v) =>
      local.check(v).catch((e: Error) => {
        throw new BadRequestError(`voice: ${e.message.replace(' (voice.local.voice)', '')}`);
      }),
    start: async (spec, sessionConfig) => {
      const session = await AvatarSession.start({
        id: spec.id,
        portrait: spec.portrait,
        name: spec.name,
        voice: spec.voice,
        captions: spec.captions,
        listen: spec.listen,
        fit: spec.fit,
        config: sessionConfig,
        mode,
        mediasoupWorker: supervisor?.worker,
        listenIp: ice.listenIp,
        announcedIp: ice.announcedIp,
        engineModule: opts.engineModule,
        engineOptions: opts.engineOptions,
        tts,
        log,
      });
      session.on('error', (e) => log.error({ err: e, session: spec.id }, 'session error'));
      session.on('restarted', () => log.warn({ session: spec.id }, 'session engine restarted'));
      return session;
    },
  });
  try {
    await manager.startAll();
  } catch (e) {
    await closeAll();
    throw e;
  }

  try {
    jobs = await createJobQueue(jobStore, config, log);
  } catch (e) {
    await closeAll();
    throw e;
  }
  const jobQueue = jobs;
  log.info({ queue: jobQueue.kind, dir: config.jobs.dir, concurrency: config.jobs.concurrency }, 'jobs: ' + jobQueue.kind);

  // --- HTTP + socket.io
  // requests are not logged one by one (metrics scrapes, page loads); refusals and failures are
  const trusted = new Set(config.server.trust_proxy.map(normaliseAddress));
  const app = Fastify({
    loggerInstance: log as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: 64 * 1024,
    https,
    // req.ip: the client behind the trusted proxies (server.trust_proxy), as clientAddress() for socket.io
    trustProxy: config.server.trust_proxy.length > 0 ? config.server.trust_proxy : false,
  }) as unknown as FastifyInstance;
  // socket.io connections are not fastify requests: the HTTP rate limit does not see them. Per
  // address at most socket_connections_per_minute new connections (bursts of that many); refused
  // credentials are limited at the namespaces' handshake, which says why
  const connectionBudgets = new AddressBuckets(config.limits.socket_connections_per_minute / 60, config.limits.socket_connections_per_minute);
  const io = new SocketServer(app.server, {
    serveClient: false,
    maxHttpBufferSize: MAX_CHUNK_BYTES + 64 * 1024,
    pingInterval: 5000,
    pingTimeout: 5000,
    // a connection that joins no namespace (only /kiosk and /audio exist) is closed after 5 s
    connectTimeout: 5000,
    connectionStateRecovery: undefined,
    allowRequest: (req, cb) => {
      const address = clientAddress(req.socket.remoteAddress, req.headers['x-forwarded-for'], trusted);
      if (!connectionBudgets.take(address)) return cb('rate-limited: too many new connections from this address (limits.socket_connections_per_minute)', false);
      cb(null, true);
    },
  });
  // every socket's handshake.address (what the per-address limits and the logs use) is the client's behind trusted proxies
  io.engine.on('connection', (conn: { remoteAddress: string; request: { headers: Record<string, string | string[] | undefined> } }) => {
    conn.remoteAddress = clientAddress(conn.remoteAddress, conn.request.headers['x-forwarded-for'], trusted);
  });
  // the default namespace serves nothing: refused, so nobody holds connections or sends messages there
  io.of('/').use((_socket, next) => next(new Error('no such namespace: kiosks use /kiosk, audio sources /audio')));
  // a cluster node's rooms span the nodes (socket.io Redis adapter)
  await cluster?.useAdapter(io);
  const agent = new AgentClient(config.agent);
  const metrics = createMetrics(sessions, () => mode, tts, jobQueue, () => cluster?.relays() ?? [], () => agent.status());
  let publicBase = config.server.public_url?.replace(/\/$/, '') ?? '';
  const kioskUrlFor = (token: string) => `${publicBase}${KIOSK_PATH}#token=${encodeURIComponent(token)}`;
  const startedAt = Date.now();
  const health = async () => {
    const list = sessions.all().map((s) => {
      const st = s.stats();
      return { id: s.id, engine: s.info.engine, state: st.state, kiosks: st.kiosks, rendering: st.rendering, fps: Math.round(st.media.fps * 10) / 10, queuedMs: st.queuedMs, engineRestarts: st.engineRestarts };
    });
    const workerState = supervisor?.state ?? 'absent';
    const clusterHealth = await cluster?.health();
    const ok = (mode === 'direct' || workerState === 'running') && list.every((s) => s.state !== 'restarting' && s.fps > 0) && (!clusterHealth || clusterHealth.redis === 'ok');
    return {
      ok, status: ok ? 'ok' : 'degraded', mode, uptimeSec: Math.round((Date.now() - startedAt) / 1000),
      // no pid: an unauthenticated page need not tell which process to aim at
      mediasoupWorker: { state: workerState, restarts: supervisor?.restarts ?? 0 },
      jobs: await jobQueue.stats().catch((e: Error) => ({ error: e.message })),
      ...(clusterHealth ? { cluster: clusterHealth } : {}),
      // the upstream TTS being down is not "degraded": speech goes on with the local engine
      tts: { ...tts.status(), local: { engine: voice.local.command, voice: voice.local.voice, ok: localError === null, error: localError } },
      // the agent being down is not "degraded" either: kiosks speak the fallback sentence
      agent: agent.status(),
      sessions: list,
    };
  };
  await registerLimits(app, { requestsPerMinute: config.limits.http_requests_per_minute, failures });
  // the operator console's sign-in cookie acts as the admin key (CSRF-checked), for every route after this
  const consoles = new ConsoleSessions(config.auth.console_session_minutes * 60_000);
  app.addHook('onRequest', consoleAuth({ config, consoles, adminKey: adminKey.value }));
  const disconnectToken = (tokenId: string): number => {
    let n = 0;
    for (const nsp of [io.of(KIOSK_NAMESPACE), io.of(AUDIO_NAMESPACE)]) {
      for (const socket of nsp.sockets.values()) {
        if ((socket.data as { principal?: { tokenId?: string } }).principal?.tokenId === tokenId) {
          socket.disconnect(true);
          n += 1;
        }
      }
    }
    return n;
  };
  const node = cluster;
  await registerRoutes(app, {
    config, auth, sessions, metrics, kioskDir: KIOSK_DIST, health, kioskUrl: kioskUrlFor, revocations, disconnectToken, tokens, audit,
    describe: (id) => {
      const spec = manager.spec(id);
      return spec && manager.settings(spec);
    },
    // a cluster node: speech for other nodes' sessions goes there; the pipe routes are served
    ...(node ? { originUrl: (id: string) => node.originUrl(id), pipeListen: () => node.pipeListen() } : {}),
  });
  await registerJobRoutes(app, { config, auth, metrics, store: jobStore, queue: jobQueue });
  await registerSessionRoutes(app, { config, auth, metrics, manager, registry: sessions, audit });
  await registerConsoleRoutes(app, { config, auth, adminKey: adminKey.value, consoles, metrics, audit, recent: recentLog(log), kioskDir: KIOSK_DIST });
  const messagesPerSecond = config.limits.socket_messages_per_second;
  const kiosk = attachKioskNamespace(io, {
    auth,
    lookup: (id) => sessions.get(id) ?? cluster?.lookup(id),
    log,
    metrics,
    failures,
    messagesPerSecond,
    connectionsPerToken: config.limits.kiosks_per_token,
    seen: tokens,
  });
  // 'media-restart' goes to this node's kiosks only: another node's kiosks of the session watch its relay, which that node drops (cluster)
  const tellKiosks = (sessionId: string) => kiosk.local.to(`session:${sessionId}`).emit('media-restart');
  cluster?.attach(kiosk, { tellKiosks, disconnectToken });
  const audio = attachAudioNamespace(io, {
    auth,
    sessions,
    log,
    metrics,
    vad: config.voice.vad,
    failures,
    messagesPerSecond,
    connectionsPerToken: config.limits.audio_connections_per_token,
    micsPerSession: config.limits.mics_per_session,
    listenersPerSession: config.limits.listeners_per_session,
    agent: { client: agent, fallbackText: config.agent.fallback_text },
  });
  // a session's events reach its kiosks and sources, now and for sessions created at run time
  const wireSession = (s: AvatarSession) => {
    s.on('state', (st) => kiosk.to(`session:${s.id}`).emit('state', st));
    s.sayQueue.on('sentence', (r) => audio.to(audioRoom(s.id)).emit('sentence', { sayId: r.sayId, index: r.index, count: r.count, text: r.text, provider: r.provider, audioMs: r.audioMs }));
    s.on('caption', (c) => kiosk.to(`session:${s.id}`).emit('caption', c));
    s.on('layout', (info) => {
      // to every node's kiosks of the session (the Redis adapter), and into the directory entry
      // other nodes give the kiosks that join there later
      kiosk.to(`session:${s.id}`).emit('layout', info);
      void cluster?.sessionsChanged().catch((e: unknown) => log.error({ err: e }, 'cluster: announcing the sessions failed'));
    });
  };
  for (const s of sessions.all()) wireSession(s);
  manager.on('added', (s) => {
    wireSession(s);
    // a session restarted under its id (a new preset): its kiosks join again
    tellKiosks(s.id);
    void cluster?.sessionsChanged().catch((e: unknown) => log.error({ err: e }, 'cluster: announcing the sessions failed'));
  });
  manager.on('removing', (s) => {
    kiosk.local.to(`session:${s.id}`).emit('session-ended', { reason: 'the operator removed this avatar' });
    // their tokens name a session that is gone: the connections go (a kiosk keeps trying, slowly)
    for (const nsp of [io.of(KIOSK_NAMESPACE), io.of(AUDIO_NAMESPACE)]) {
      for (const socket of nsp.sockets.values()) {
        if ((socket.data as { principal?: { sessionId?: string } }).principal?.sessionId === s.id) setTimeout(() => socket.disconnect(true), 100);
      }
    }
  });
  manager.on('removed', (id) => {
    if (!sessions.has(id)) tokens.forgetSession(id);
    log.warn({ session: id }, 'session removed');
    void cluster?.sessionsChanged().catch((e: unknown) => log.error({ err: e }, 'cluster: announcing the sessions failed'));
  });
  // a new mediasoup worker after a death: every session's SFU room again, then its kiosks join again
  supervisor?.on('restarted', (w) => {
    log.warn({ worker: w.pid, restarts: supervisor!.restarts }, 'a new mediasoup worker runs: rebuilding the sessions\' media');
    for (const s of sessions.all()) {
      s.replaceMediasoupWorker(w).then(
        () => {
          tellKiosks(s.id);
          cluster?.mediaRestarted(s.id);
        },
        (e: unknown) => log.error({ err: e, session: s.id }, 'rebuilding the session\'s SFU room failed'),
      );
    }
    cluster?.workerReplaced();
  });

  try {
    await app.listen({ host: config.server.host, port: config.server.port });
  } catch (e) {
    io.close();
    await closeAll();
    throw e;
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.server.port;
  const shownHost = config.server.host === '0.0.0.0' ? (firstLanAddress() ?? '127.0.0.1') : config.server.host;
  const url = `${https ? 'https' : 'http'}://${shownHost.includes(':') ? `[${shownHost}]` : shownHost}:${port}`;
  if (!publicBase) publicBase = url;
  log.info({ url, mode }, 'listening');
  try {
    await cluster?.announce(url);
  } catch (e) {
    io.close();
    await app.close();
    await closeAll();
    throw new Error(`cluster: announcing this node's sessions failed: ${(e as Error).message}`, { cause: e });
  }

  let closing: Promise<void> | undefined;
  return {
    url,
    port,
    mode,
    sessions,
    cluster,
    auth,
    adminKey: adminKey.value,
    log,
    io,
    tts,
    jobs: { store: jobStore, queue: jobQueue },
    kioskUrl: (sessionId, role = 'kiosk', ttlSec = config.auth.kiosk_token_days * 86_400) => kioskUrlFor(auth.mint(sessionId, role, ttlSec)),
    mediasoupWorkerPid: () => supervisor?.worker.pid,
    close() {
      closing ??= (async () => {
        supervisor?.stopping();
        io.close();
        await app.close();
        await closeAll();
      })();
      return closing;
    },
  };
}

/** A PEM file of the TLS settings; a missing or unreadable one is a ConfigError naming the key. */
function readTlsFile(path: string, key: string): Buffer {
  try {
    return readFileSync(path);
  } catch (e) {
    throw new ConfigError(`${key}: cannot read ${path} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
}
