/**
 * The sessions a server runs, kept across restarts: the config file's sessions are the initial
 * set; what the admin API creates, changes or deletes at run time is kept in
 * `runtime.sessions_dir`:
 *
 *   sessions.json            { version, sessions: SessionSpec[] (created or changed), deleted: ids }
 *   portraits/<id>-<rand>.*  the uploaded portraits the specs point at
 *
 * Why files and not SQLite: a few dozen small records, written only by an operator's action; one
 * JSON file written atomically (server/util/atomic-file.ts) is readable and copyable by hand, and
 * needs no native module (better-sqlite3 would need a prebuilt binary download or a compiler at
 * install, for no gain at this size). One server process owns the folder; on a cluster each node
 * has its own (its sessions are its own; the Redis directory lists them to the others).
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { sessionSchema, type SessionSpec } from '../../config/schema.js';
import { writeFileAtomic } from '../util/atomic-file.js';

const fileSchema = z.object({
  version: z.literal(1),
  sessions: z.array(sessionSchema),
  deleted: z.array(z.string()),
});

export class SessionStore {
  private readonly file: string;
  private state: z.infer<typeof fileSchema> = { version: 1, sessions: [], deleted: [] };

  constructor(readonly dir: string) {
    this.file = join(dir, 'sessions.json');
    if (existsSync(this.file)) {
      const parsed = fileSchema.safeParse(JSON.parse(readFileSync(this.file, 'utf8')));
      if (!parsed.success) throw new Error(`${this.file}: not a sessions file this server wrote (${parsed.error.issues[0]?.message}); move it away to start from the config's sessions`);
      this.state = parsed.data;
    }
  }

  /** The sessions to run: the config's (less those deleted, as changed) and those created at run time. */
  effective(fromConfig: readonly SessionSpec[]): SessionSpec[] {
    const stored = new Map(this.state.sessions.map((s) => [s.id, s]));
    const out = fromConfig.filter((s) => !this.state.deleted.includes(s.id)).map((s) => stored.get(s.id) ?? s);
    for (const s of this.state.sessions) if (!out.some((o) => o.id === s.id)) out.push(s);
    return out;
  }

  /** Keeps an uploaded portrait; returns its path (for a spec). */
  keepPortrait(id: string, bytes: Uint8Array, ext: string): string {
    const path = resolve(this.dir, 'portraits', `${id}-${randomBytes(4).toString('hex')}.${ext}`);
    writeFileAtomic(path, bytes, 0o600);
    return path;
  }

  /** Records a created or changed session; the portrait it no longer uses is removed if it was ours. */
  put(spec: SessionSpec): void {
    const before = this.state.sessions.find((s) => s.id === spec.id);
    this.state = { ...this.state, sessions: [...this.state.sessions.filter((s) => s.id !== spec.id), spec], deleted: this.state.deleted.filter((d) => d !== spec.id) };
    this.save();
    if (before && before.portrait !== spec.portrait) this.dropPortrait(before.portrait);
  }

  /** Records a deletion (a config session stays deleted across restarts). */
  delete(id: string, fromConfig: boolean): void {
    const before = this.state.sessions.find((s) => s.id === id);
    this.state = { ...this.state, sessions: this.state.sessions.filter((s) => s.id !== id), deleted: fromConfig && !this.state.deleted.includes(id) ? [...this.state.deleted, id] : this.state.deleted };
    this.save();
    if (before) this.dropPortrait(before.portrait);
  }

  /** A portrait kept here that no spec uses (a refused upload): removed. */
  dropPortrait(path: string): void {
    if (resolve(path).startsWith(resolve(this.dir, 'portraits') + '/')) rmSync(path, { force: true });
  }

  private save(): void {
    writeFileAtomic(this.file, `${JSON.stringify(this.state, null, 2)}\n`, 0o600);
  }
}
