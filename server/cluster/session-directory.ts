/**
 * Which node of the cluster runs which session, kept in Redis: every node writes one key per
 * session it runs (`<prefix>:session:<id>`, JSON, expiring after cluster.session_ttl_sec and
 * written again every third of it), and reads every node's keys as often. A node that stops
 * deletes its keys; one that dies has them expire. Reads are served from the last scan, so the
 * handshake of a kiosk never waits for Redis, and a Redis outage leaves the last known map in use.
 *
 * `epoch` is new each time a node starts: an edge that relays a session sees from it that the
 * session's node restarted (its producers, and so the edge's pipe, are gone).
 */
import { EventEmitter } from 'node:events';
import type { Redis } from 'ioredis';
import type { SessionInfo } from '../protocol.js';

export interface DirectoryEntry {
  session: string;
  /** node id of the session's node (its origin) */
  node: string;
  /** where the other nodes reach that node's HTTP API */
  url: string;
  epoch: string;
  info: SessionInfo;
}

export interface SessionDirectoryEvents {
  /** a session of another node appeared, went, or its node restarted (epoch) or moved */
  changed: [id: string, before: DirectoryEntry | undefined, after: DirectoryEntry | undefined];
  /** the same run of a session of another node has new details (its SessionInfo) */
  info: [id: string, after: DirectoryEntry];
  /** a scan or a write failed (Redis unreachable); the last known map stays in use */
  error: [Error];
}

export class SessionDirectory extends EventEmitter<SessionDirectoryEvents> {
  private readonly remote = new Map<string, DirectoryEntry>();
  private readonly own = new Map<string, DirectoryEntry>();
  private timer: ReturnType<typeof setInterval> | undefined;
  private ticking: Promise<void> | undefined;
  private failing = false;

  constructor(
    private readonly redis: Redis,
    private readonly opts: { prefix: string; node: string; ttlSec: number },
  ) {
    super();
  }

  /** Announces this node's sessions and reads the others', now and every ttl/3. */
  async start(own: DirectoryEntry[]): Promise<void> {
    for (const e of own) this.own.set(e.session, e);
    await this.tick(true);
    this.timer = setInterval(() => void this.tick(false), Math.max(1000, (this.opts.ttlSec * 1000) / 3));
    this.timer.unref();
  }

  /** This node's sessions are now these: new ones are announced, gone ones' keys deleted, at once. */
  async setOwn(own: DirectoryEntry[]): Promise<void> {
    const gone = [...this.own.keys()].filter((id) => !own.some((e) => e.session === id));
    this.own.clear();
    for (const e of own) this.own.set(e.session, e);
    if (gone.length > 0) await this.redis.del(...gone.map((id) => this.key(id)));
    // a tick already in flight may have written the entries before this change: wait it out and
    // write again, so what this resolves to is announced (not one interval later)
    await this.ticking?.catch(() => undefined);
    await this.tick(false);
  }

  /** A session run by another node, as of the last scan. */
  get(id: string): DirectoryEntry | undefined {
    return this.remote.get(id);
  }

  /** Sessions run by other nodes, as of the last scan. */
  others(): DirectoryEntry[] {
    return [...this.remote.values()];
  }

  /** Scans now (tests and a join that finds nothing may ask). */
  refresh(): Promise<void> {
    return this.tick(false);
  }

  /** Stops announcing and deletes this node's keys. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.ticking?.catch(() => undefined);
    const keys = [...this.own.keys()].map((id) => this.key(id));
    this.own.clear();
    if (keys.length > 0) await this.redis.del(...keys).catch(() => undefined);
  }

  private key(id: string): string {
    return `${this.opts.prefix}:session:${id}`;
  }

  private tick(throwOnError: boolean): Promise<void> {
    this.ticking ??= (async () => {
      try {
        await this.announce();
        await this.scan();
        this.failing = false;
      } catch (e) {
        if (throwOnError) throw e;
        if (!this.failing) this.emit('error', e as Error);
        this.failing = true;
      }
    })().finally(() => {
      this.ticking = undefined;
    });
    return this.ticking;
  }

  private async announce(): Promise<void> {
    if (this.own.size === 0) return;
    const m = this.redis.multi();
    for (const [id, e] of this.own) m.set(this.key(id), JSON.stringify(e), 'EX', this.opts.ttlSec);
    const res = await m.exec();
    const failed = res?.find(([err]) => err);
    if (failed) throw failed[0]!;
  }

  private async scan(): Promise<void> {
    const keys: string[] = [];
    let cursor = '0';
    do {
      const [next, batch] = await this.redis.scan(cursor, 'MATCH', `${this.opts.prefix}:session:*`, 'COUNT', 200);
      keys.push(...batch);
      cursor = next;
    } while (cursor !== '0');
    const values = keys.length > 0 ? await this.redis.mget(...keys) : [];
    const seen = new Map<string, DirectoryEntry>();
    for (const v of values) {
      if (!v) continue;
      try {
        const e = JSON.parse(v) as DirectoryEntry;
        if (e.node !== this.opts.node && typeof e.session === 'string' && typeof e.url === 'string') seen.set(e.session, e);
      } catch {
        /* a value that is not ours: ignored */
      }
    }
    for (const [id, before] of this.remote) {
      const after = seen.get(id);
      if (!after) {
        this.remote.delete(id);
        this.emit('changed', id, before, undefined);
      } else if (after.epoch !== before.epoch || after.url !== before.url) {
        this.remote.set(id, after);
        this.emit('changed', id, before, after);
      } else if (JSON.stringify(after.info) !== JSON.stringify(before.info)) {
        // the same run of the session with new details (the operator's fit, a name): no restart
        this.remote.set(id, after);
        this.emit('info', id, after);
      }
    }
    for (const [id, after] of seen) {
      if (!this.remote.has(id)) {
        this.remote.set(id, after);
        this.emit('changed', id, undefined, after);
      }
    }
  }
}
