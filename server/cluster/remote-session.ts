/**
 * A session that runs on another node, as this node's kiosks see it: a relay room (SfuRoom.relay)
 * fed by a pipe from the session's node, opened when the first kiosk joins and closed
 * cluster.relay_idle_ms after the last one left. Interrupts go to the session's node over its
 * HTTP API; its `state` events reach the kiosks here through socket.io's Redis adapter.
 *
 * reset() drops the relay (the session's node restarted, its media was rebuilt, or this node's
 * mediasoup worker was replaced): the kiosks' transports go with it and the caller tells the
 * kiosks to join again ('media-restart'); the next join opens a new pipe.
 */
import type { Logger } from '../log.js';
import type { MediasoupWorker } from '../media/mediasoup-worker.js';
import { SfuRoom, type SfuRoomOptions } from '../media/sfu-room.js';
import { KioskStateError } from '../media/kiosk-state-error.js';
import type { ConsumerInfo, KioskReport, SessionInfo, TransportInfo } from '../protocol.js';
import { KioskLimitError, RateLimitedError, SessionUnavailableError } from '../errors.js';
import type { KioskSession } from '../session/kiosk-session.js';
import type { DirectoryEntry } from './session-directory.js';
import { pipeFromOrigin } from './relay-feed.js';

export interface RemoteSessionOptions {
  node: string;
  adminKey: string;
  /** this node's mediasoup worker (the current one, after restarts) */
  worker: () => MediasoupWorker | undefined;
  room: SfuRoomOptions;
  pipe: { ip: string; announcedIp?: string };
  maxKiosks: number;
  idleMs: number;
  log: Logger;
}

export class RemoteSession implements KioskSession {
  readonly mode = 'sfu' as const;
  private entry: DirectoryEntry;
  private room: Promise<SfuRoom> | undefined;
  private readonly kiosks = new Map<string, { report?: KioskReport }>();
  private idle: ReturnType<typeof setTimeout> | undefined;
  private relaysOpened = 0;
  private closed = false;

  constructor(entry: DirectoryEntry, private readonly opts: RemoteSessionOptions) {
    this.entry = entry;
  }

  get id(): string {
    return this.entry.session;
  }

  get info(): SessionInfo {
    return this.entry.info;
  }

  /** node id of the session's node */
  get origin(): string {
    return this.entry.node;
  }

  get kioskCount(): number {
    return this.kiosks.size;
  }

  /** The same run of the session with new details (SessionInfo): kiosks that join from now on get them. Returns whether it took them. */
  updateInfo(entry: DirectoryEntry): boolean {
    if (entry.epoch !== this.entry.epoch || entry.url !== this.entry.url) return false;
    this.entry = entry;
    return true;
  }

  /** The session's node changed (restart: new epoch): the relay is dropped. Returns whether one was open. */
  update(entry: DirectoryEntry): boolean {
    this.entry = entry;
    return this.reset();
  }

  async addKiosk(kioskId: string): Promise<{ sfu: { routerRtpCapabilities: unknown; transport: TransportInfo } }> {
    if (this.closed) throw new SessionUnavailableError(`session ${this.id} is no longer in the cluster`);
    if (this.kiosks.has(kioskId)) throw new KioskStateError(`kiosk ${kioskId} has already joined`);
    if (this.kiosks.size >= this.opts.maxKiosks) throw new KioskLimitError(this.opts.maxKiosks);
    const entry = {};
    this.kiosks.set(kioskId, entry);
    if (this.idle) clearTimeout(this.idle);
    this.idle = undefined;
    try {
      const room = await this.openRoom();
      if (this.kiosks.get(kioskId) !== entry) throw new KioskStateError('the kiosk left');
      return { sfu: await room.addKiosk(kioskId) };
    } catch (e) {
      // only this join's own entry: the kiosk may have left and joined again meanwhile
      if (this.kiosks.get(kioskId) === entry) this.removeKiosk(kioskId);
      throw e;
    }
  }

  async sfuConnect(kioskId: string, dtlsParameters: unknown): Promise<void> {
    await (await this.joined(kioskId)).connectKiosk(kioskId, dtlsParameters);
  }

  async sfuConsume(kioskId: string, rtpCapabilities: unknown): Promise<ConsumerInfo[]> {
    return (await this.joined(kioskId)).consume(kioskId, rtpCapabilities);
  }

  async sfuResume(kioskId: string, kind?: 'audio' | 'video'): Promise<void> {
    await (await this.joined(kioskId)).resume(kioskId, kind);
  }

  async directOffer(): Promise<string> {
    throw sfuOnly();
  }

  async directAnswer(): Promise<void> {
    throw sfuOnly();
  }

  async directStartAudio(): Promise<void> {
    throw sfuOnly();
  }

  /** Asks the session's node to stop speaking (the kiosk's interrupt scope was checked here). */
  async interrupt(): Promise<{ droppedMs: number; droppedSentences: number }> {
    const res = await fetch(`${this.entry.url}/api/sessions/${encodeURIComponent(this.id)}/interrupt`, {
      method: 'POST',
      headers: { authorization: `Bearer ${this.opts.adminKey}` },
      signal: AbortSignal.timeout(3000),
    }).catch((e: Error) => {
      throw new SessionUnavailableError(`the session's node (${this.entry.node}) did not answer: ${e.message}`);
    });
    const body = (await res.json().catch(() => ({}))) as { ok?: boolean; error?: string; droppedMs?: number; droppedSentences?: number };
    if (res.status === 429) throw new RateLimitedError(body.error ?? 'the session takes no more interrupts this second');
    if (!res.ok || !body.ok) throw new SessionUnavailableError(`the session's node (${this.entry.node}) refused the interrupt: ${body.error ?? res.status}`);
    return { droppedMs: body.droppedMs ?? 0, droppedSentences: body.droppedSentences ?? 0 };
  }

  /** The latest report of each kiosk here that sent one. */
  kioskReports(): KioskReport[] {
    return [...this.kiosks.values()].map((k) => k.report).filter((r): r is KioskReport => r !== undefined);
  }

  report(kioskId: string, report: KioskReport): void {
    const k = this.kiosks.get(kioskId);
    if (k) k.report = report;
  }

  removeKiosk(kioskId: string): void {
    if (!this.kiosks.delete(kioskId)) return;
    void this.room?.then((r) => r.closeKiosk(kioskId), () => undefined);
    if (this.kiosks.size === 0 && this.room && !this.idle) {
      this.idle = setTimeout(() => {
        this.idle = undefined;
        if (this.kiosks.size === 0) this.reset();
      }, this.opts.idleMs);
      this.idle.unref();
    }
  }

  /** Drops the relay (and the kiosks' transports on it). Returns whether one was open. */
  reset(): boolean {
    const room = this.room;
    this.room = undefined;
    if (this.idle) clearTimeout(this.idle);
    this.idle = undefined;
    this.kiosks.clear();
    void room?.then((r) => r.close(), () => undefined);
    return room !== undefined;
  }

  close(): void {
    this.closed = true;
    this.reset();
  }

  /** For /healthz: where the session comes from and what this node holds of it. */
  async stats() {
    const room = await this.room?.catch(() => undefined);
    return {
      id: this.id,
      origin: this.entry.node,
      kiosks: this.kiosks.size,
      relay: room ? room.counts() : null,
      relaysOpened: this.relaysOpened,
      kioskReports: this.kioskReports(),
    };
  }

  private openRoom(): Promise<SfuRoom> {
    if (this.room) return this.room;
    const worker = this.opts.worker();
    if (!worker) return Promise.reject(new SessionUnavailableError('the media path is restarting (a new mediasoup worker is starting): join again in a moment'));
    const entry = this.entry;
    const t0 = performance.now();
    const room = SfuRoom.relay(worker, this.opts.room, (router) =>
      pipeFromOrigin(router, { url: entry.url, adminKey: this.opts.adminKey, sessionId: entry.session, node: this.opts.node }, this.opts.pipe),
    );
    this.room = room;
    room.then(
      () => {
        this.relaysOpened += 1;
        this.opts.log.info({ session: this.id, origin: entry.node, ms: Math.round(performance.now() - t0) }, 'relay from the session\'s node opened');
      },
      (e: Error) => {
        if (this.room === room) this.room = undefined; // the next join tries again
        this.opts.log.error({ session: this.id, origin: entry.node, err: e }, 'opening the relay from the session\'s node failed');
      },
    );
    return room.catch((e: Error) => {
      throw new SessionUnavailableError(`session ${this.id} runs on node ${entry.node}, which could not send it here: ${e.message}`);
    });
  }

  private async joined(kioskId: string): Promise<SfuRoom> {
    if (!this.kiosks.has(kioskId) || !this.room) throw new KioskStateError('join first: this kiosk has no transport');
    return this.room;
  }
}

function sfuOnly(): TypeError {
  return new TypeError('a cluster node serves kiosks on the sfu path: use sfu:* requests');
}
