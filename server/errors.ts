/**
 * The errors a request can end in, below everything that throws or maps them: sessions, the voice
 * queue, the cluster proxies and the signalling answers (server/signalling/results.ts turns each
 * into a protocol ErrorCode). Nothing here imports from the server.
 */

/** Malformed or out-of-range arguments ('bad-request'). */
export class BadRequestError extends Error {
  override readonly name = 'BadRequestError';
}

/** Past a rate limit (interrupts per session): try again later; nothing was changed ('rate-limited'). */
export class RateLimitedError extends Error {
  override readonly name = 'RateLimitedError';
}

/** The session has all the kiosks it takes ('too-many-kiosks'). */
export class KioskLimitError extends Error {
  override readonly name = 'KioskLimitError';
  constructor(limit: number) {
    super(`this session already has ${limit} kiosks (media.max_kiosks_per_session)`);
  }
}

/** The session hears all the microphones it takes ('too-many-microphones'). */
export class MicLimitError extends Error {
  override readonly name = 'MicLimitError';
  constructor(sessionId: string, limit: number, key = 'limits.mics_per_session') {
    super(`session ${sessionId} already hears ${limit} microphone${limit === 1 ? '' : 's'} (${key}): this one is refused until one of them disconnects`);
  }
}

/** No such session here ('not-found'). */
export class SessionNotFoundError extends Error {
  override readonly name = 'SessionNotFoundError';
}

/** A session with that id exists, or is being changed right now ('conflict'). */
export class SessionConflictError extends Error {
  override readonly name = 'SessionConflictError';
}

/** The session is closed or restarting its engine ('unavailable'). */
export class SessionUnavailableError extends Error {
  override readonly name = 'SessionUnavailableError';
}
