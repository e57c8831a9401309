/**
 * Revoked tokens: the ids (jti) of tokens refused before they expire, kept in a JSON file
 * (auth.revoked_file, mode 0600, written whole through a temporary file) so a restart remembers
 * them. An entry is dropped once the token it names has expired anyway.
 */
import { existsSync, readFileSync } from 'node:fs';
import { writeFileAtomic } from '../util/atomic-file.js';

export interface Revocation {
  /** token id */
  id: string;
  /** when the token expires anyway, unix seconds (the entry is kept until then) */
  exp: number;
  /** when it was revoked, ISO time */
  at: string;
}

export class RevocationList {
  private readonly entries = new Map<string, Revocation>();
  private readonly listeners: ((r: Revocation) => void)[] = [];

  private constructor(private readonly file: string) {}

  /** Reads the file (an absent file is an empty list; a broken one is an error naming it). */
  static load(file: string, nowMs = Date.now()): RevocationList {
    const list = new RevocationList(file);
    if (existsSync(file)) {
      let parsed: { revoked?: Revocation[] };
      try {
        parsed = JSON.parse(readFileSync(file, 'utf8')) as { revoked?: Revocation[] };
      } catch (e) {
        throw new Error(`${file} (revoked tokens) is not valid JSON: ${(e as Error).message}; fix or remove it`);
      }
      for (const r of parsed.revoked ?? []) {
        if (typeof r?.id === 'string' && Number.isFinite(r.exp) && r.exp * 1000 > nowMs) list.entries.set(r.id, r);
      }
    }
    return list;
  }

  has(id: string | undefined): boolean {
    return id !== undefined && this.entries.has(id);
  }

  /** Revokes a token id until `exp` (unix seconds); writes the file. */
  revoke(id: string, exp: number, nowMs = Date.now()): Revocation {
    const r: Revocation = { id, exp, at: new Date(nowMs).toISOString() };
    this.entries.set(id, r);
    for (const [k, v] of this.entries) if (v.exp * 1000 <= nowMs) this.entries.delete(k);
    this.save();
    for (const l of this.listeners) l(r);
    return r;
  }

  /** Takes a revocation made elsewhere (another node of the cluster); writes the file, tells no listener. */
  adopt(r: Revocation, nowMs = Date.now()): void {
    if (r.exp * 1000 <= nowMs) return;
    this.entries.set(r.id, r);
    this.save();
  }

  /** Called after each revoke() (the cluster passes it on to the other nodes). */
  onRevoke(listener: (r: Revocation) => void): void {
    this.listeners.push(listener);
  }

  list(): Revocation[] {
    return [...this.entries.values()];
  }

  private save(): void {
    writeFileAtomic(this.file, `${JSON.stringify({ revoked: this.list() }, null, 2)}\n`, 0o600);
  }
}
