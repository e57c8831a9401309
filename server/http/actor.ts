/** Who made an admin request, for the audit log: a console sign-in ("console:<id>") or the admin key. */
import type { FastifyRequest } from 'fastify';

const CONSOLE_ACTOR = Symbol('console actor');

export function markConsoleActor(req: FastifyRequest, actor: string): void {
  (req as unknown as Record<symbol, string>)[CONSOLE_ACTOR] = actor;
}

export function actorOf(req: FastifyRequest): string {
  return (req as unknown as Record<symbol, string | undefined>)[CONSOLE_ACTOR] ?? 'admin-key';
}
