/**
 * Sessions while the server runs: starts the effective set at start-up (the config's, as the
 * store has changed it), and creates, changes and deletes sessions for the admin API, keeping
 * each change in the store (server/session/session-store.ts). Starting a session (engine, media)
 * is app.ts's factory; what a new or removed session means to the namespaces and the cluster is
 * theirs ('added', 'removed').
 *
 * Order of a creation: the portrait is kept, the voice checked, the session started (the face
 * check happens there: a photo without a usable face is a PortraitError and nothing is left
 * behind), and only then is it recorded and listed.
 */
import { EventEmitter } from 'node:events';
import { deepMerge } from '../../config/load.js';
import { PRESETS } from '../../config/presets.js';
import type { Config, SessionSpec } from '../../config/schema.js';
import { SessionConflictError, SessionNotFoundError } from '../errors.js';
import type { Logger } from '../log.js';
import type { AvatarSession } from './avatar-session.js';
import type { SessionRegistry } from './session-registry.js';
import type { SessionStore } from './session-store.js';

/** as many as the config file may name */
const MAX_SESSIONS = 64;

export type StartSession = (spec: SessionSpec, config: Config) => Promise<AvatarSession>;

export interface SessionManagerEvents {
  added: [AvatarSession, SessionSpec];
  /** the session is closing: tell its clients (before its connections go) */
  removing: [AvatarSession];
  removed: [string];
}

/** A session's own configuration: its preset's values over the server's. */
export function configFor(config: Config, spec: SessionSpec): Config {
  if (!spec.preset || spec.preset === config.preset) return config;
  return deepMerge(config as never, { ...PRESETS[spec.preset], preset: spec.preset } as never) as Config;
}

export class SessionManager extends EventEmitter<SessionManagerEvents> {
  private readonly specs = new Map<string, SessionSpec>();
  /** sessions of the store that did not start at this start (listed, deletable) */
  private readonly failed = new Map<string, { spec: SessionSpec; error: string }>();
  /** one change at a time per session id (a create racing a delete of the same id) */
  private readonly busy = new Set<string>();

  constructor(
    private readonly deps: {
      config: Config;
      store: SessionStore;
      registry: SessionRegistry;
      log: Logger;
      start: StartSession;
      /** rejects with a reason when the local TTS engine has no such voice */
      checkVoice(voice: string): Promise<void>;
    },
  ) {
    super();
  }

  /**
   * Starts the sessions of the config as changed at run time. One of the config file's that cannot
   * start stops the start (a configuration error); one created at run time that cannot start any
   * more (its portrait file gone, say) is logged and left out, so the others still run.
   */
  async startAll(): Promise<void> {
    for (const spec of this.deps.store.effective(this.deps.config.sessions)) {
      const t0 = performance.now();
      let session: AvatarSession;
      try {
        session = await this.deps.start(spec, configFor(this.deps.config, spec));
      } catch (e) {
        if (this.fromConfig(spec.id)) throw e;
        this.deps.log.error({ session: spec.id, err: e }, 'a session created at run time did not start: left out (delete it from the console)');
        this.failed.set(spec.id, { spec, error: (e as Error).message });
        continue;
      }
      this.list(session, spec);
      this.deps.log.info({ session: spec.id, ...session.info, ms: Math.round(performance.now() - t0) }, 'session started');
    }
  }

  spec(id: string): SessionSpec | undefined {
    return this.specs.get(id);
  }

  /** What operators see of a session's settings (the console, GET /api/sessions), defaults filled in. */
  settings(spec: SessionSpec): { name: string; voice: string | null; preset: 'fast' | 'quality'; captions: boolean; fit: 'cover' | 'contain' } {
    return { name: spec.name ?? spec.id, voice: spec.voice ?? null, preset: spec.preset ?? this.deps.config.preset, captions: spec.captions === true, fit: spec.fit ?? 'cover' };
  }

  /** A stored session that did not start, and why. */
  failure(id: string): { spec: SessionSpec; error: string } | undefined {
    return this.failed.get(id);
  }

  all(): SessionSpec[] {
    return [...this.specs.values()];
  }

  /** From the config file (not created at run time)? */
  fromConfig(id: string): boolean {
    return this.deps.config.sessions.some((s) => s.id === id);
  }

  async create(spec: Omit<SessionSpec, 'portrait'>, portrait: { bytes: Uint8Array; ext: string }): Promise<AvatarSession> {
    return this.exclusive(spec.id, async () => {
      if (this.deps.registry.has(spec.id) || this.failed.has(spec.id)) throw new SessionConflictError(`session "${spec.id}" exists`);
      if (this.specs.size >= MAX_SESSIONS) throw new SessionConflictError(`this server runs ${this.specs.size} sessions, the most it takes (${MAX_SESSIONS})`);
      if (spec.voice) await this.deps.checkVoice(spec.voice);
      const full: SessionSpec = { ...spec, portrait: this.deps.store.keepPortrait(spec.id, portrait.bytes, portrait.ext) };
      let session: AvatarSession;
      try {
        session = await this.deps.start(full, configFor(this.deps.config, full));
      } catch (e) {
        this.deps.store.dropPortrait(full.portrait);
        throw e;
      }
      this.deps.store.put(full);
      this.list(session, full);
      return session;
    });
  }

  /**
   * Changes a session: name and voice at once; a new portrait swaps in at the next rest moment
   * (kiosks stay connected); a new preset restarts the session (kiosks are told to join again).
   */
  async update(id: string, change: { name?: string; voice?: string | null; preset?: 'fast' | 'quality'; captions?: boolean; fit?: 'cover' | 'contain'; portrait?: { bytes: Uint8Array; ext: string } }): Promise<{ spec: SessionSpec; restarted: boolean }> {
    return this.exclusive(id, async () => {
      const before = this.require(id);
      let session = this.deps.registry.require(id);
      if (change.voice) await this.deps.checkVoice(change.voice);
      const next: SessionSpec = { ...before };
      if (change.name !== undefined) next.name = change.name;
      if (change.voice !== undefined) {
        if (change.voice === null) delete next.voice;
        else next.voice = change.voice;
      }
      if (change.preset !== undefined) next.preset = change.preset;
      if (change.captions !== undefined) next.captions = change.captions;
      if (change.fit !== undefined) next.fit = change.fit;
      const kept = change.portrait ? this.deps.store.keepPortrait(id, change.portrait.bytes, change.portrait.ext) : undefined;
      if (kept) next.portrait = kept;
      let restarted = false;
      try {
        if ((next.preset ?? this.deps.config.preset) !== (before.preset ?? this.deps.config.preset)) {
          // another resolution or engine settings: a new session under the same id
          const fresh = await this.deps.start(next, configFor(this.deps.config, next));
          await this.unlist(session, 'restart');
          session = fresh;
          this.list(session, next);
          restarted = true;
        } else if (kept) {
          await session.replacePortrait(kept);
        }
      } catch (e) {
        if (kept) this.deps.store.dropPortrait(kept);
        throw e;
      }
      if (!restarted) {
        session.setVoice(next.voice);
        session.setCaptions(next.captions === true);
        session.setFit(next.fit ?? 'cover');
      }
      this.deps.store.put(next);
      this.specs.set(id, next);
      return { spec: next, restarted };
    });
  }

  /** Deletes a session: its clients are told, it is closed and forgotten (also after a restart). */
  async remove(id: string): Promise<{ kiosks: number; droppedMs: number }> {
    return this.exclusive(id, async () => {
      if (this.failed.delete(id)) {
        this.deps.store.delete(id, this.fromConfig(id));
        return { kiosks: 0, droppedMs: 0 };
      }
      this.require(id);
      const session = this.deps.registry.require(id);
      const released = { kiosks: session.kioskCount, droppedMs: Math.round(session.queuedMs) };
      await this.unlist(session, 'delete');
      this.deps.store.delete(id, this.fromConfig(id));
      return released;
    });
  }

  private list(session: AvatarSession, spec: SessionSpec): void {
    this.deps.registry.add(session);
    this.specs.set(spec.id, spec);
    this.emit('added', session, spec);
  }

  private async unlist(session: AvatarSession, why: 'delete' | 'restart'): Promise<void> {
    if (why === 'delete') this.emit('removing', session);
    this.deps.registry.remove(session.id);
    this.specs.delete(session.id);
    await session.close();
    this.emit('removed', session.id);
  }

  private require(id: string): SessionSpec {
    const spec = this.specs.get(id);
    if (!spec) throw new SessionNotFoundError(`no session "${id}" on this server`);
    return spec;
  }

  private async exclusive<T>(id: string, fn: () => Promise<T>): Promise<T> {
    if (this.busy.has(id)) throw new SessionConflictError(`session "${id}" is being changed: try again in a moment`);
    this.busy.add(id);
    try {
      return await fn();
    } finally {
      this.busy.delete(id);
    }
  }
}
