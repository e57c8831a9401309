/** The sessions a server runs, by id. */
import type { AvatarSession } from './avatar-session.js';
import { SessionUnavailableError } from '../errors.js';

export class SessionRegistry {
  private readonly sessions = new Map<string, AvatarSession>();

  add(session: AvatarSession): void {
    if (this.sessions.has(session.id)) throw new Error(`session ${session.id} exists`);
    this.sessions.set(session.id, session);
  }

  /** Forgets a session (it is closing); false when it was not here. */
  remove(id: string): boolean {
    return this.sessions.delete(id);
  }

  has(id: string): boolean {
    return this.sessions.has(id);
  }

  get(id: string): AvatarSession | undefined {
    return this.sessions.get(id);
  }

  /** The session, or SessionUnavailableError when it is not running. */
  require(id: string): AvatarSession {
    const s = this.sessions.get(id);
    if (!s) throw new SessionUnavailableError(`session ${id} is not running`);
    return s;
  }

  all(): AvatarSession[] {
    return [...this.sessions.values()];
  }

  async closeAll(): Promise<void> {
    const list = this.all();
    this.sessions.clear();
    await Promise.all(list.map((s) => s.close()));
  }
}
