/**
 * Turning exceptions into protocol answers (server/protocol.ts Result), and the one wrapper every
 * socket.io request handler goes through: it checks the acknowledgement is a function, validates
 * the request, and answers { ok: false, error, code } for anything thrown. A handler's failure never
 * reaches socket.io or the process.
 */
import { z } from 'zod';
import { AudioFormatError } from '../../pipeline/audio/errors.js';
import { QueueFullError } from '../../pipeline/session/live-timeline.js';
import { QueueFullError as WorkerQueueFullError } from '../../pipeline/worker/worker-errors.js';
import { AuthError, ForbiddenError } from '../auth/authenticator.js';
import type { ErrorCode, Result } from '../protocol.js';
import { BadRequestError, KioskLimitError, MicLimitError, RateLimitedError, SessionConflictError, SessionNotFoundError, SessionUnavailableError } from '../errors.js';
import { PortraitError } from '../../models/face/errors.js';
import { KioskStateError } from '../media/kiosk-state-error.js';

export { BadRequestError };

export function errorCode(e: unknown): ErrorCode {
  if (e instanceof BadRequestError || e instanceof TypeError || e instanceof KioskStateError) return 'bad-request';
  if (e instanceof AudioFormatError) return 'audio-format';
  if (e instanceof QueueFullError || e instanceof WorkerQueueFullError) return 'queue-full';
  if (e instanceof ForbiddenError || e instanceof AuthError) return 'forbidden';
  if (e instanceof KioskLimitError) return 'too-many-kiosks';
  if (e instanceof MicLimitError) return 'too-many-microphones';
  if (e instanceof RateLimitedError) return 'rate-limited';
  if (e instanceof SessionUnavailableError) return 'unavailable';
  if (e instanceof SessionNotFoundError) return 'not-found';
  if (e instanceof SessionConflictError) return 'conflict';
  if (e instanceof PortraitError) return 'bad-portrait';
  return 'internal';
}

export function failure(e: unknown): { ok: false; error: string; code: ErrorCode } {
  const code = errorCode(e);
  const message = e instanceof Error ? e.message : String(e);
  return { ok: false, error: code === 'internal' ? `internal error: ${message}` : message, code };
}

/** Parses a request with a zod schema; a mismatch is a BadRequestError naming the field. */
export function parseRequest<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const res = schema.safeParse(value);
  if (res.success) return res.data;
  const issue = res.error.issues[0]!;
  const at = issue.path.length > 0 ? `${issue.path.join('.')}: ` : '';
  throw new BadRequestError(`${what}: ${at}${issue.message}`);
}

type Handler<A extends unknown[], T> = (...args: A) => Promise<T> | T;

/**
 * Wraps a request handler: the last argument must be the ack; its answer is { ok: true, ...value }
 * or a failure. `onError` sees internal errors (for logs). Requests without an ack are ignored.
 */
export function request<A extends unknown[], T extends object>(
  fn: Handler<A, T>,
  onError?: (e: unknown) => void,
): (...args: unknown[]) => void {
  return (...args: unknown[]) => {
    const ack = args[args.length - 1];
    if (typeof ack !== 'function') return;
    const params = args.slice(0, -1) as A;
    void (async () => {
      let answer: Result<T>;
      try {
        answer = { ok: true, ...(await fn(...params)) } as Result<T>;
      } catch (e) {
        answer = failure(e);
        if (answer.code === 'internal') onError?.(e);
      }
      try {
        (ack as (r: Result<T>) => void)(answer);
      } catch {
        /* the client is gone */
      }
    })();
  };
}
