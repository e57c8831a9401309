/**
 * Named kiosk tokens ("Hall A, window 3"): the ones minted with a name (POST /api/tokens { name },
 * the console's "new kiosk") are kept in `auth.tokens_file` (mode 0600: it holds the tokens, so the
 * console can show a kiosk's URL and QR code again) and listed with what their kiosks last said:
 * when seen, from which address, which browser, the fps decoded and the A/V offset of their
 * reports. What is seen lives in memory (since this start).
 */
import { existsSync, readFileSync } from 'node:fs';
import { z } from 'zod';
import { writeFileAtomic } from '../util/atomic-file.js';

const recordSchema = z.object({
  id: z.string(),
  name: z.string(),
  session: z.string(),
  role: z.string(),
  token: z.string(),
  createdAt: z.string(),
  expiresAt: z.string(),
});
export type NamedToken = z.infer<typeof recordSchema>;

export interface KioskSeen {
  /** connected now (connections with this token) */
  connected: number;
  lastSeen: string;
  address: string;
  browser: string;
  fps: number | null;
  avOffsetMs: number | null;
}

export class TokenRegistry {
  private records: NamedToken[] = [];
  private readonly seen = new Map<string, KioskSeen>();

  constructor(private readonly file: string) {
    if (existsSync(file)) this.records = z.object({ tokens: z.array(recordSchema) }).parse(JSON.parse(readFileSync(file, 'utf8'))).tokens;
  }

  add(r: NamedToken): void {
    this.records = [...this.records.filter((x) => x.id !== r.id), r];
    this.save();
  }

  get(id: string): NamedToken | undefined {
    return this.records.find((r) => r.id === id);
  }

  /** Named tokens (of one session, or all), newest first, those past their expiry left out. */
  list(session?: string, now = Date.now()): (NamedToken & { seen: KioskSeen | null })[] {
    return this.records
      .filter((r) => (!session || r.session === session) && Date.parse(r.expiresAt) > now)
      .reverse()
      .map((r) => ({ ...r, seen: this.seen.get(r.id) ?? null }));
  }

  /** A session is deleted: its named tokens go too. */
  forgetSession(session: string): void {
    const before = this.records.length;
    this.records = this.records.filter((r) => r.session !== session);
    if (this.records.length !== before) this.save();
  }

  /** A kiosk connected with token `id` (any token: only named ones are listed). */
  connected(id: string, address: string, browser: string): void {
    const s = this.seen.get(id);
    this.seen.set(id, { connected: (s?.connected ?? 0) + 1, lastSeen: new Date().toISOString(), address, browser: browser.slice(0, 200), fps: s?.fps ?? null, avOffsetMs: s?.avOffsetMs ?? null });
  }

  reported(id: string, fps: number, avOffsetMs: number | null): void {
    const s = this.seen.get(id);
    if (s) this.seen.set(id, { ...s, lastSeen: new Date().toISOString(), fps: Math.round(fps * 10) / 10, avOffsetMs: avOffsetMs === null ? null : Math.round(avOffsetMs) });
  }

  disconnected(id: string): void {
    const s = this.seen.get(id);
    if (s) this.seen.set(id, { ...s, connected: Math.max(0, s.connected - 1), lastSeen: new Date().toISOString() });
  }

  private save(): void {
    writeFileAtomic(this.file, `${JSON.stringify({ tokens: this.records }, null, 2)}\n`, 0o600);
  }
}
