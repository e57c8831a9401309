/**
 * The server's logger: pino (JSON lines on stdout), the one fastify uses too. Warnings and errors
 * also go to a ring of the last RECENT_MAX entries, which the operator console shows
 * (recentLog(logger)).
 */
import { pino, type Logger } from 'pino';

export type { Logger };

export interface RecentEntry {
  time: string;
  level: 'warn' | 'error' | 'fatal';
  msg: string;
  session?: string;
  error?: string;
}

const RECENT_MAX = 200;
const LEVELS: Record<number, RecentEntry['level']> = { 40: 'warn', 50: 'error', 60: 'fatal' };

export class RecentLog {
  private readonly entries: RecentEntry[] = [];

  write(line: string): void {
    try {
      const o = JSON.parse(line) as { time?: string; level?: number; msg?: string; session?: string; err?: { message?: string } };
      const level = LEVELS[o.level ?? 0];
      if (!level) return;
      this.entries.push({ time: o.time ?? new Date().toISOString(), level, msg: String(o.msg ?? '').slice(0, 500), session: o.session, error: o.err?.message?.slice(0, 500) });
      if (this.entries.length > RECENT_MAX) this.entries.splice(0, this.entries.length - RECENT_MAX);
    } catch {
      /* not a JSON line */
    }
  }

  /** newest first */
  list(max = 50): RecentEntry[] {
    return this.entries.slice(-max).reverse();
  }
}

const rings = new WeakMap<Logger, RecentLog>();

/** The ring of a logger made by createLogger (an empty one for any other). */
export function recentLog(log: Logger): RecentLog {
  return rings.get(log) ?? new RecentLog();
}

export function createLogger(level: string): Logger {
  const ring = new RecentLog();
  const below = pino.levels.values[level] ?? 30;
  const log = pino(
    { level: below < 40 ? level : 'warn', base: undefined, timestamp: pino.stdTimeFunctions.isoTime },
    pino.multistream([
      { level: level as pino.Level, stream: process.stdout },
      { level: 'warn', stream: ring },
    ]),
  );
  rings.set(log, ring);
  return log;
}
