/**
 * The audit log of admin actions: one JSON line each (when, who, from where, what, on what, how it
 * ended), appended to `auth.audit_file`, mode 0600. Past `auth.audit_max_bytes` the file is rotated
 * (file -> file.1 -> ... -> file.<keep>, the oldest dropped). Admin actions are rare (an operator's
 * clicks), so the writes are synchronous: a line is on disk before the answer leaves.
 */
import { appendFileSync, existsSync, mkdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { dirname } from 'node:path';

export interface AuditEntry {
  /** who: "admin-key", or a console sign-in ("console:<id>") */
  actor: string;
  /** the client's address (behind trusted proxies) */
  from: string;
  /** what: "session.create", "token.revoke", ... */
  action: string;
  /** on what: a session id, a token id */
  target?: string;
  /** "ok", or the refusal's code */
  result: string;
  detail?: Record<string, unknown>;
}

export class AuditLog {
  constructor(
    readonly file: string,
    private readonly maxBytes: number,
    private readonly keep: number,
  ) {
    mkdirSync(dirname(file), { recursive: true });
  }

  record(e: AuditEntry): void {
    const line = `${JSON.stringify({ time: new Date().toISOString(), ...e })}\n`;
    this.rotateFor(Buffer.byteLength(line));
    appendFileSync(this.file, line, { mode: 0o600 });
  }

  private rotateFor(bytes: number): void {
    if (!existsSync(this.file) || statSync(this.file).size + bytes <= this.maxBytes) return;
    rmSync(`${this.file}.${this.keep}`, { force: true });
    for (let i = this.keep - 1; i >= 1; i--) if (existsSync(`${this.file}.${i}`)) renameSync(`${this.file}.${i}`, `${this.file}.${i + 1}`);
    renameSync(this.file, `${this.file}.1`);
  }
}
