/**
 * socket.io namespace /audio: speech that drives a session (TTS output, a host's microphone).
 * Each chunk is acknowledged with the queue depth, so a sender paces itself: wait for the ack,
 * and above ~2 s queued, wait before the next. A malformed chunk is refused with a reason
 * ('audio-format'); a chunk that would overfill the queue is refused whole ('queue-full'); the
 * session and every other client go on. Needs a token with the 'speak' scope.
 */
import type { Namespace, Server } from 'socket.io';
import { z } from 'zod';
import type { Logger } from '../log.js';
import type { ServerMetrics } from '../metrics.js';
import { requireScope, type Authenticator, type Principal } from '../auth/authenticator.js';
import { handshake } from './handshake.js';
import { AUDIO_NAMESPACE, type AudioClientToServer, type AudioServerToClient } from '../protocol.js';
import type { SessionRegistry } from '../session/session-registry.js';
import { BadRequestError, parseRequest, request } from './results.js';

const empty = z.object({}).passthrough().optional();

function chunkBytes(pcm: unknown): Uint8Array {
  if (pcm instanceof Uint8Array) return pcm; // Buffer included
  if (pcm instanceof ArrayBuffer) return new Uint8Array(pcm);
  throw new BadRequestError(`chunk: pcm must be binary (ArrayBuffer, Uint8Array or Buffer), got ${pcm === null ? 'null' : typeof pcm}`);
}

export function attachAudioNamespace(
  io: Server,
  deps: { auth: Authenticator; sessions: SessionRegistry; log: Logger; metrics: ServerMetrics },
): Namespace<AudioClientToServer, AudioServerToClient, Record<string, never>, { principal: Principal }> {
  const { sessions, log } = deps;
  const nsp = io.of(AUDIO_NAMESPACE) as Namespace<AudioClientToServer, AudioServerToClient, Record<string, never>, { principal: Principal }>;

  nsp.use(handshake(deps, 'speak', 'audio'));

  nsp.on('connection', (socket) => {
    const { principal } = socket.data;
    const sessionId = principal.sessionId;
    const onError = (e: unknown) => log.error({ err: e, source: socket.id, session: sessionId }, 'audio request failed');
    let refusedLogged = 0;
    log.info({ source: socket.id, session: sessionId, token: principal.tokenId }, 'audio source connected');

    socket.on(
      'chunk',
      request((format: unknown, pcm: unknown) => {
        try {
          if (typeof format !== 'object' || format === null) throw new BadRequestError('chunk: the first argument must be the format { encoding, sampleRate, channels }');
          return sessions.require(sessionId).ingest({ pcm: chunkBytes(pcm), format: format as never });
        } catch (e) {
          // a refused chunk is the sender's business; log the first few per connection only
          if (refusedLogged++ < 5) log.info({ source: socket.id, session: sessionId, reason: (e as Error).message }, 'audio chunk refused');
          throw e;
        }
      }, onError),
    );

    socket.on(
      'segment-end',
      request((req: unknown) => {
        parseRequest(empty, req, 'segment-end');
        sessions.require(sessionId).segmentEnd();
        return {};
      }, onError),
    );

    socket.on(
      'interrupt',
      request((req: unknown) => {
        parseRequest(empty, req, 'interrupt');
        requireScope(principal, 'interrupt');
        return sessions.require(sessionId).interrupt();
      }, onError),
    );

    socket.on('disconnect', (reason) => log.info({ source: socket.id, session: sessionId, reason }, 'audio source left'));
  });

  return nsp;
}
