/**
 * socket.io namespace /audio: speech that drives a session (TTS output, a host's microphone).
 * Each chunk is acknowledged with the queue depth, so a sender paces itself: wait for the ack,
 * and above ~2 s queued, wait before the next. A malformed chunk is refused with a reason
 * ('audio-format'); a chunk that would overfill the queue is refused whole ('queue-full'); the
 * session and every other client go on. Needs a token with the 'speak' scope.
 *
 * `say` queues text (server/voice/say-queue.ts); each sentence that reaches the avatar is announced
 * to the session's /audio clients ('sentence'). `mic` chunks go through a voice-activity gate of
 * their own per connection (server/voice/voice-gate.ts), closed when the connection goes; a session
 * hears at most limits.mics_per_session microphones at once ('too-many-microphones').
 */
import type { Namespace, Server } from 'socket.io';
import { z } from 'zod';
import type { Logger } from '../log.js';
import type { ServerMetrics } from '../metrics.js';
import { ForbiddenError, requireScope, type Authenticator, type Principal } from '../auth/authenticator.js';
import { handshake, withTokenCap } from './handshake.js';
import { limitMessages } from './message-limit.js';
import type { AuthFailureLimiter } from '../auth/failure-limiter.js';
import { AUDIO_NAMESPACE, type AudioClientToServer, type AudioServerToClient } from '../protocol.js';
import type { SessionRegistry } from '../session/session-registry.js';
import { BadRequestError, parseRequest, request } from './results.js';
import { VoiceGate } from '../voice/voice-gate.js';
import { Listener } from '../voice/listener.js';
import { SessionSlots } from './session-slots.js';
import type { AgentClient } from '../voice/agent.js';
import type { VoiceConfig } from '../../config/schema.js';

const empty = z.object({}).passthrough().optional();
const sayRequest = z.object({ text: z.string(), interrupt: z.boolean().optional() });

/** The room of a session's /audio clients (for 'sentence' announcements). */
export const audioRoom = (sessionId: string) => `audio:${sessionId}`;

function chunkBytes(pcm: unknown): Uint8Array {
  if (pcm instanceof Uint8Array) return pcm; // Buffer included
  if (pcm instanceof ArrayBuffer) return new Uint8Array(pcm);
  throw new BadRequestError(`chunk: pcm must be binary (ArrayBuffer, Uint8Array or Buffer), got ${pcm === null ? 'null' : typeof pcm}`);
}

export function attachAudioNamespace(
  io: Server,
  deps: {
    auth: Authenticator;
    sessions: SessionRegistry;
    log: Logger;
    metrics: ServerMetrics;
    vad: VoiceConfig['vad'];
    failures?: AuthFailureLimiter;
    messagesPerSecond?: number;
    /** live connections one token may hold (limits.audio_connections_per_token); the admin key is not capped */
    connectionsPerToken?: number;
    /** microphones one session hears at once (limits.mics_per_session) */
    micsPerSession?: number;
    /** listen-mode microphones one session hears at once (limits.listeners_per_session) */
    listenersPerSession?: number;
    /** listen mode: answers citizens' utterances (agent.url); with fallback_text when it cannot */
    agent?: { client: AgentClient; fallbackText: string };
  },
): Namespace<AudioClientToServer, AudioServerToClient, Record<string, never>, { principal: Principal }> {
  const { sessions, log } = deps;
  const nsp = io.of(AUDIO_NAMESPACE) as Namespace<AudioClientToServer, AudioServerToClient, Record<string, never>, { principal: Principal }>;

  // per session: the connections whose `mic` or `listen` stream holds a voice-activity gate
  const mics = new SessionSlots(deps.micsPerSession, 'limits.mics_per_session');
  const listeners = new SessionSlots(deps.listenersPerSession, 'limits.listeners_per_session');
  // a kiosk token (view) comes in too when its session listens: it may send `listen` only
  const listens = (p: Principal) => p.scopes.has('view') && sessions.get(p.sessionId)?.listening === true;
  nsp.use(withTokenCap(nsp as unknown as Namespace, deps.connectionsPerToken, log, handshake(deps, 'speak', 'audio', listens)));

  nsp.on('connection', (socket) => {
    if (deps.messagesPerSecond) limitMessages(socket, deps.messagesPerSecond, (n) => n === 1 && deps.log.warn({ ip: socket.handshake.address, namespace: nsp.name }, 'messages past the rate limit refused'));
    const { principal } = socket.data;
    const sessionId = principal.sessionId;
    const onError = (e: unknown) => log.error({ err: e, source: socket.id, session: sessionId }, 'audio request failed');
    let refusedLogged = 0;
    let gate: Promise<VoiceGate> | undefined;
    let listener: Promise<Listener> | undefined;
    void socket.join(audioRoom(sessionId));
    log.info({ source: socket.id, session: sessionId, token: principal.tokenId }, 'audio source connected');
    const refused = (e: unknown) => {
      // a refused chunk is the sender's business; log the first few per connection only
      if (refusedLogged++ < 5) log.info({ source: socket.id, session: sessionId, reason: (e as Error).message }, 'audio chunk refused');
      return e;
    };
    const formatOf = (format: unknown, what: string) => {
      if (typeof format !== 'object' || format === null) throw new BadRequestError(`${what}: the first argument must be the format { encoding, sampleRate, channels }`);
      return format as never;
    };

    socket.on(
      'chunk',
      request((format: unknown, pcm: unknown) => {
        requireScope(principal, 'speak');
        try {
          return sessions.require(sessionId).ingest({ pcm: chunkBytes(pcm), format: formatOf(format, 'chunk') });
        } catch (e) {
          throw refused(e);
        }
      }, onError),
    );

    socket.on(
      'mic',
      request(async (format: unknown, pcm: unknown) => {
        requireScope(principal, 'speak');
        try {
          const session = sessions.require(sessionId);
          const bytes = chunkBytes(pcm);
          const fmt = formatOf(format, 'mic');
          if (!gate) {
            mics.take(sessionId, socket.id);
            gate = VoiceGate.create(session, deps.vad);
          }
          // answered at once: the gate analyses behind the ack, so a live voice never waits on the model
          const res = (await gate).accept(bytes, fmt);
          return { ...res, forwardedMs: Math.round(res.forwardedMs), queuedMs: session.queuedMs };
        } catch (e) {
          throw refused(e);
        }
      }, onError),
    );

    socket.on(
      'segment-end',
      request(async (req: unknown) => {
        parseRequest(empty, req, 'segment-end');
        requireScope(principal, 'speak');
        if (gate) await (await gate).end();
        else sessions.require(sessionId).segmentEnd();
        return {};
      }, onError),
    );

    socket.on(
      'say',
      request((req: unknown) => {
        const { text, interrupt } = parseRequest(sayRequest, req, 'say');
        requireScope(principal, 'speak');
        if (interrupt) requireScope(principal, 'interrupt');
        const res = sessions.require(sessionId).say(text, { interrupt });
        log.info({ source: socket.id, session: sessionId, sayId: res.sayId, sentences: res.sentences, chars: text.length }, 'say');
        return res;
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

    // listen mode: the kiosk's microphone; barge-in by voice, utterances to the agent
    const answer = (samples: Float32Array, sampleRate: number, endedAgoMs: number) => {
      const session = sessions.get(sessionId);
      const agent = deps.agent;
      if (!session || !agent?.client.configured) return;
      // the answer's timing (avatar_answer_ms): the agent's own part (from the request), and from the
      // end of the citizen's speech (the gate's hangover ago) until the first audio of the answer
      // leaves the server, and until it is out of the kiosks' jitter buffers (their last reports)
      const askedAt = performance.now();
      const endedAt = askedAt - endedAgoMs;
      let first = true;
      const sent = (ms: number) => {
        deps.metrics.answerMs.observe({ part: 'total' }, ms);
        const delays = session.stats().kioskReports.map((r) => r.audioDelayMs).filter((d): d is number => typeof d === 'number');
        if (delays.length > 0) deps.metrics.answerMs.observe({ part: 'kiosk' }, ms + delays.reduce((a, b) => a + b, 0) / delays.length);
      };
      const answered = (sayId?: number) => {
        if (!first) return;
        first = false;
        deps.metrics.answerMs.observe({ part: 'agent' }, performance.now() - askedAt);
        if (sayId === undefined) return sent(performance.now() + session.pacingDelayMs - endedAt);
        const onSentence = (r: { sayId: number; startsInMs: number }) => {
          if (r.sayId !== sayId) return;
          session.sayQueue.off('sentence', onSentence);
          sent(performance.now() + r.startsInMs + session.pacingDelayMs - endedAt);
        };
        session.sayQueue.on('sentence', onSentence);
        setTimeout(() => session.sayQueue.off('sentence', onSentence), 60_000).unref();
      };
      const speak = (text: string): number | undefined => {
        try {
          return session.say(text).sayId;
        } catch (e) {
          log.warn({ session: sessionId, err: e }, 'the agent\'s answer could not be queued');
          return undefined;
        }
      };
      const say = (text: string) => {
        const sayId = speak(text);
        if (sayId !== undefined) answered(sayId);
      };
      const audio = (s: Float32Array, r: number) => {
        answered();
        session.ingestSamples(s, r);
      };
      agent.client.ask(samples, sampleRate, { session: sessionId, kiosk: socket.id }, { text: say, audio }).then(
        () => log.info({ session: sessionId, kiosk: socket.id, utteranceMs: Math.round((samples.length * 1000) / sampleRate) }, 'agent answered'),
        (e: Error) => {
          log.warn({ session: sessionId, kiosk: socket.id, reason: e.message }, 'the agent did not answer: speaking the fallback');
          speak(agent.fallbackText);
        },
      );
    };
    socket.on(
      'listen',
      request(async (format: unknown, pcm: unknown) => {
        const session = sessions.require(sessionId);
        if (!session.listening) throw new ForbiddenError(`session ${sessionId} is not in listen mode (listen: true)`);
        try {
          const bytes = chunkBytes(pcm);
          const fmt = formatOf(format, 'listen');
          if (!listener) {
            listeners.take(sessionId, socket.id);
            listener = Listener.create(session, deps.vad, { utterance: answer, bargeIn: (ms) => deps.metrics.bargeInMs.observe(ms) });
          }
          return (await listener).accept(bytes, fmt);
        } catch (e) {
          throw refused(e);
        }
      }, onError),
    );

    socket.on('disconnect', (reason) => {
      void listener?.then((l) => l.close()).catch(() => undefined);
      log.info({ source: socket.id, session: sessionId, reason }, 'audio source left');
      // a host that vanishes mid-utterance: the utterance ends, the gate's model is released
      void gate?.then((g) => g.close()).catch(() => undefined);
      mics.release(sessionId, socket.id);
      listeners.release(sessionId, socket.id);
    });
  });

  return nsp;
}
