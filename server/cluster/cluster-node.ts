/**
 * This server as one node of a cluster (config `cluster`, docs in deploy/README.md):
 *
 *   - socket.io's Redis adapter on the server: a session's `state` and `sentence` events, emitted
 *     by the node that runs it, reach its kiosks and sources on every node;
 *   - SessionDirectory: which node runs which session (Redis keys with a time to live);
 *   - RemoteSession per session of another node that kiosks here watch: a relay room fed by a
 *     mediasoup pipe from that node (the origin answers on PUT/DELETE
 *     /internal/cluster/sessions/:id/pipes/:node, admin key: server/http/routes.ts);
 *   - revocations: a token revoked on any node is refused on all (Redis hash + a server-side
 *     event that also closes its connections everywhere);
 *   - media restarts: when a node rebuilds a session's media (its mediasoup worker died), the
 *     edges drop their relays of it and tell their kiosks to join again.
 *
 * Each node still runs only its own sessions' engines; kiosks may join any node.
 */
import { hostname } from 'node:os';
import type { Redis } from 'ioredis';
import type { Namespace, Server as SocketServer } from 'socket.io';
import type { ClusterConfig, Config } from '../../config/schema.js';
import { ConfigError } from '../../config/load.js';
import type { Revocation, RevocationList } from '../auth/revocations.js';
import type { Logger } from '../log.js';
import type { MediasoupWorker } from '../media/mediasoup-worker.js';
import type { SfuRoomOptions } from '../media/sfu-room.js';
import type { SessionRegistry } from '../session/session-registry.js';
import { RemoteSession } from './remote-session.js';
import { SessionDirectory } from './session-directory.js';

/** Server-side events between nodes (socket.io serverSideEmit on /kiosk, through Redis). */
const REVOKED = 'cluster:revoked';
const MEDIA_RESTART = 'cluster:media-restart';

export interface ClusterDeps {
  config: Config;
  log: Logger;
  sessions: SessionRegistry;
  adminKey: string;
  revocations: RevocationList;
  /** this node's current mediasoup worker */
  worker: () => MediasoupWorker | undefined;
  /** where this node's kiosk transports and pipes listen */
  ice: { listenIp: string; announcedIp?: string };
}

export class ClusterNode {
  readonly id: string;
  private readonly cfg: ClusterConfig;
  private readonly remotes = new Map<string, RemoteSession>();
  private directory!: SessionDirectory;
  private kiosk: Namespace | undefined;
  private tellKiosks: (sessionId: string) => void = () => undefined;
  private disconnect: (tokenId: string) => number = () => 0;
  private epoch = `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
  private closed = false;

  private constructor(
    private readonly deps: ClusterDeps,
    private readonly redis: Redis,
    private readonly pub: Redis,
    private readonly sub: Redis,
  ) {
    this.cfg = deps.config.cluster;
    this.id = this.cfg.node_id ?? `${hostname()}:${deps.config.server.port}`;
  }

  /** Connects to the cluster's Redis (a clear error when it cannot) and loads the cluster's revocations. */
  static async connect(deps: ClusterDeps): Promise<ClusterNode> {
    const url = deps.config.cluster.redis_url!;
    const { Redis } = await import('ioredis');
    const redis = new Redis(url, { maxRetriesPerRequest: 2, connectTimeout: 3000, lazyConnect: true });
    redis.on('error', () => undefined); // reported by the calls that fail (and /healthz)
    try {
      await redis.connect();
      await redis.ping();
    } catch (e) {
      redis.disconnect();
      throw new ConfigError(`cluster.redis_url: cannot reach ${url} (${(e as Error).message}); start Redis there or set cluster.redis_url to null for a single node`);
    }
    const sub = redis.duplicate();
    sub.on('error', () => undefined);
    const pub = redis.duplicate();
    pub.on('error', () => undefined);
    const node = new ClusterNode(deps, redis, pub, sub);
    node.directory = new SessionDirectory(redis, { prefix: node.cfg.prefix, node: node.id, ttlSec: node.cfg.session_ttl_sec });
    node.directory.on('changed', (id, before, after) => node.onDirectoryChange(id, before !== undefined, after));
    node.directory.on('info', (id, after) => node.onRemoteInfo(id, after));
    node.directory.on('error', (e) => deps.log.error({ err: e }, 'cluster: reading or writing the session directory failed; using the last known one'));
    const now = Math.floor(Date.now() / 1000);
    for (const [id, exp] of Object.entries(await redis.hgetall(node.key('revoked')))) {
      if (Number(exp) > now && !deps.revocations.has(id)) deps.revocations.adopt({ id, exp: Number(exp), at: new Date().toISOString() });
    }
    return node;
  }

  /** Puts socket.io on the Redis adapter: rooms and broadcasts span the nodes. */
  async useAdapter(io: SocketServer): Promise<void> {
    const { createAdapter } = await import('@socket.io/redis-adapter');
    // the adapter publishes without waiting for the answer: while Redis is away a publish would
    // reject unhandled (and end the process); this node's own sockets get every broadcast anyway
    const publish = this.pub.publish.bind(this.pub) as (channel: string, message: string) => Promise<number>;
    let warned = false;
    (this.pub as unknown as { publish: typeof publish }).publish = (channel, message) =>
      publish(channel, message).then(
        (n) => {
          warned = false;
          return n;
        },
        (e: Error) => {
          if (!warned) this.deps.log.error({ err: e }, 'cluster: Redis refused a broadcast; other nodes miss events until it is back');
          warned = true;
          return 0;
        },
      );
    io.adapter(createAdapter(this.pub, this.sub, { key: `${this.cfg.prefix}#io`, requestsTimeout: 3000 }));
  }

  /** Listens for the other nodes' server-side events on /kiosk; `hooks` act on this node's sockets. */
  attach(kiosk: Namespace, hooks: { tellKiosks: (sessionId: string) => void; disconnectToken: (tokenId: string) => number }): void {
    this.kiosk = kiosk;
    this.tellKiosks = hooks.tellKiosks;
    this.disconnect = hooks.disconnectToken;
    // server-side events arrive as events of the namespace (never from a client)
    const nsp = kiosk as unknown as { on(ev: string, cb: (...args: unknown[]) => void): void };
    nsp.on(REVOKED, (r) => this.onRevoked(r as Revocation));
    nsp.on(MEDIA_RESTART, (sessionId) => typeof sessionId === 'string' && this.dropRelay(sessionId, 'its node rebuilt its media'));
    this.deps.revocations.onRevoke((r) => void this.publishRevocation(r));
  }

  /**
   * Another node's session has new details (the operator's fit). Its own broadcast reached the
   * kiosks here that were in the room then; one that joined here since got the old details from
   * this node's directory entry: this node's kiosks of the session get the new ones now.
   */
  private onRemoteInfo(id: string, entry: import('./session-directory.js').DirectoryEntry): void {
    const remote = this.remotes.get(id);
    if (remote?.updateInfo(entry)) this.kiosk?.local.to(`session:${id}`).emit('layout', remote.info);
  }

  /** Lists this node's sessions in the directory (once the node listens, at `url`). */
  async announce(url: string): Promise<void> {
    const base = (this.cfg.internal_url ?? url).replace(/\/$/, '');
    this.baseUrl = base;
    await this.directory.start(this.ownEntries());
    this.deps.log.info({ node: this.id, url: base, sessions: this.deps.sessions.all().map((s) => s.id), elsewhere: this.directory.others().map((e) => `${e.session}@${e.node}`) }, 'cluster: node announced');
  }

  /**
   * This node's sessions changed (created or deleted at run time): the directory says so now, so
   * other nodes list a new session, and stop listing a deleted one, at their next scan.
   */
  async sessionsChanged(): Promise<void> {
    if (this.baseUrl === undefined) return; // not announced yet: announce() lists what runs then
    await this.directory.setOwn(this.ownEntries());
  }

  private baseUrl: string | undefined;

  private ownEntries() {
    return this.deps.sessions.all().map((s) => ({ session: s.id, node: this.id, url: this.baseUrl!, epoch: this.epoch, info: s.info }));
  }

  /** Sessions other nodes run, as of the last directory scan. */
  elsewhere(): { id: string; node: string }[] {
    return this.directory.others().map((e) => ({ id: e.session, node: e.node }));
  }

    /** Whether a session runs on another node of the cluster. */
  knows(sessionId: string): boolean {
    return this.directory.get(sessionId) !== undefined;
  }

  /** The session of another node, as kiosks here watch it (created on first use). */
  lookup(sessionId: string): RemoteSession | undefined {
    if (this.closed) return undefined;
    const have = this.remotes.get(sessionId);
    if (have) return have;
    const entry = this.directory.get(sessionId);
    if (!entry) return undefined;
    const { config, log } = this.deps;
    const { listenIp, announcedIp } = this.deps.ice;
    const room: SfuRoomOptions = {
      listenIp,
      announcedIp,
      videoMaxBitrate: config.media.video_max_kbps * 1000,
      streamId: `avatar-${sessionId}`,
      portRange: { min: config.media.rtc_min_port, max: config.media.rtc_max_port },
    };
    const remote = new RemoteSession(entry, {
      node: this.id,
      adminKey: this.deps.adminKey,
      worker: this.deps.worker,
      room,
      pipe: this.pipeListen(),
      maxKiosks: config.media.max_kiosks_per_session,
      idleMs: this.cfg.relay_idle_ms,
      log,
    });
    this.remotes.set(sessionId, remote);
    return remote;
  }

  /** Sessions of other nodes that kiosks here watch (or did, until their relay closed). */
  relays(): RemoteSession[] {
    return [...this.remotes.values()];
  }

  /** The URL of the node that runs a session elsewhere (sources' requests are forwarded there). */
  originUrl(sessionId: string): string | undefined {
    return this.directory.get(sessionId)?.url;
  }

  /** This node rebuilt a session's media: the edges relaying it drop their relays. */
  mediaRestarted(sessionId: string): void {
    this.kiosk?.serverSideEmit(MEDIA_RESTART, sessionId);
  }

  /** This node's mediasoup worker was replaced: every relay here is gone with it. */
  workerReplaced(): void {
    for (const id of this.remotes.keys()) this.dropRelay(id, 'this node\'s mediasoup worker was replaced');
  }

  async health() {
    let redis = 'ok';
    try {
      await Promise.race([this.redis.ping(), new Promise((_, reject) => setTimeout(() => reject(new Error('no answer in 1 s')), 1000).unref())]);
    } catch (e) {
      redis = `unreachable: ${(e as Error).message}`;
    }
    return {
      node: this.id,
      redis,
      elsewhere: this.elsewhere(),
      relays: await Promise.all([...this.remotes.values()].map((r) => r.stats())),
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const r of this.remotes.values()) r.close();
    this.remotes.clear();
    await this.directory.stop().catch(() => undefined);
    this.redis.disconnect();
    this.pub.disconnect();
    this.sub.disconnect();
  }

  private key(name: string): string {
    return `${this.cfg.prefix}:${name}`;
  }

  /** Where this node's pipe transports listen (its end of a pipe, as origin or as edge). */
  pipeListen(): { ip: string; announcedIp?: string } {
    if (this.cfg.pipe_ip) return { ip: this.cfg.pipe_ip };
    return { ip: this.deps.ice.listenIp, announcedIp: this.deps.ice.announcedIp };
  }

  private async publishRevocation(r: Revocation): Promise<void> {
    try {
      await this.redis.hset(this.key('revoked'), r.id, String(r.exp));
      this.kiosk?.serverSideEmit(REVOKED, r);
    } catch (e) {
      this.deps.log.error({ err: e, token: r.id }, 'cluster: the revocation could not be sent to the other nodes (it holds on this one)');
    }
  }

  private onRevoked(r: Revocation): void {
    if (typeof r?.id !== 'string' || !Number.isFinite(r.exp)) return;
    if (!this.deps.revocations.has(r.id)) this.deps.revocations.adopt(r);
    const n = this.disconnect(r.id);
    this.deps.log.warn({ token: r.id, disconnected: n }, 'cluster: token revoked on another node');
  }

  private onDirectoryChange(id: string, existed: boolean, after: import('./session-directory.js').DirectoryEntry | undefined): void {
    const remote = this.remotes.get(id);
    this.deps.log.info({ session: id, node: after?.node ?? null }, after ? (existed ? 'cluster: session\'s node restarted' : 'cluster: session available from another node') : 'cluster: session left the cluster');
    if (!remote) return;
    if (after) {
      if (remote.update(after)) this.tellKiosks(id);
    } else {
      remote.close();
      this.remotes.delete(id);
      this.tellKiosks(id);
    }
  }

  private dropRelay(sessionId: string, why: string): void {
    const remote = this.remotes.get(sessionId);
    if (!remote || !remote.reset()) return;
    this.deps.log.warn({ session: sessionId, why }, 'cluster: relay dropped; its kiosks join again');
    this.tellKiosks(sessionId);
  }
}
