/**
 * socket.io namespace /kiosk: a kiosk page watches one session (protocol in server/protocol.ts).
 * The handshake carries the token; a token without the 'view' scope is refused there. The kiosk's
 * id is its socket id; when the socket goes (closed, network cut, ping timeout), everything the
 * kiosk held in the session (transport, consumers or peer connection) is released.
 */
import type { Namespace, Server } from 'socket.io';
import { z } from 'zod';
import type { Logger } from '../log.js';
import type { ServerMetrics } from '../metrics.js';
import { requireScope, type Authenticator, type Principal } from '../auth/authenticator.js';
import { handshake, withTokenCap } from './handshake.js';
import { limitMessages } from './message-limit.js';
import type { AuthFailureLimiter } from '../auth/failure-limiter.js';
import { KIOSK_NAMESPACE, type KioskClientToServer, type KioskReport, type KioskServerToClient } from '../protocol.js';
import type { KioskSession } from '../session/kiosk-session.js';
import { SessionUnavailableError } from '../errors.js';
import { KioskStateError } from '../media/kiosk-state-error.js';
import { BadRequestError, parseRequest, request } from './results.js';
import { implausible, kioskReportSchema } from './kiosk-report.js';

interface SocketData {
  principal: Principal;
  joined: boolean;
  /** a join is in flight: another is refused (each would create a transport) */
  joining: boolean;
}

const empty = z.object({}).passthrough().optional();
const resumeRequest = z.object({ kind: z.enum(['audio', 'video']).optional() });
const sdpRequest = z.object({ sdp: z.string().min(1).max(64 * 1024) });
const dtlsRequest = z.object({
  dtlsParameters: z.object({
    role: z.enum(['auto', 'client', 'server']).optional(),
    fingerprints: z.array(z.object({ algorithm: z.string().max(16), value: z.string().max(256) })).min(1).max(8),
  }),
});
const capsRequest = z.object({ rtpCapabilities: z.object({ codecs: z.array(z.unknown()).max(256).optional(), headerExtensions: z.array(z.unknown()).max(256).optional() }) });

export function attachKioskNamespace(
  io: Server,
  deps: {
    auth: Authenticator;
    /** the session a kiosk watches: this node's, or (cluster) one relayed from another node */
    lookup: (sessionId: string) => KioskSession | undefined;
    log: Logger;
    metrics: ServerMetrics;
    failures?: AuthFailureLimiter;
    messagesPerSecond?: number;
    /** live connections one token may hold on this node (limits.kiosks_per_token); the admin key is not capped */
    connectionsPerToken?: number;
    /** what kiosks say of themselves, by token (the console's kiosk list) */
    seen?: { connected(tokenId: string, address: string, browser: string): void; reported(tokenId: string, fps: number, avOffsetMs: number | null): void; disconnected(tokenId: string): void };
  },
): Namespace<KioskClientToServer, KioskServerToClient, Record<string, never>, SocketData> {
  const { lookup, log } = deps;
  const nsp = io.of(KIOSK_NAMESPACE) as Namespace<KioskClientToServer, KioskServerToClient, Record<string, never>, SocketData>;

  nsp.use((socket, next) => {
    socket.data.joined = false;
    socket.data.joining = false;
    withTokenCap(nsp as unknown as Namespace, deps.connectionsPerToken, log, handshake(deps, 'view', 'kiosk'))(socket, next);
  });

  nsp.on('connection', (socket) => {
    if (deps.messagesPerSecond) limitMessages(socket, deps.messagesPerSecond, (n) => n === 1 && deps.log.warn({ ip: socket.handshake.address, namespace: nsp.name }, 'messages past the rate limit refused'));
    const { principal } = socket.data;
    const kioskId = socket.id;
    const sessionId = principal.sessionId;
    const session = (): KioskSession => {
      const s = lookup(sessionId);
      if (!s) throw new SessionUnavailableError(`session ${sessionId} is not running`);
      return s;
    };
    const onError = (e: unknown) => log.error({ err: e, kiosk: kioskId, session: sessionId }, 'kiosk request failed');
    const tokenId = principal.tokenId;
    if (tokenId) deps.seen?.connected(tokenId, socket.handshake.address, String(socket.handshake.headers['user-agent'] ?? ''));
    /**
     * mediasoup's own validation errors name its internals ("[method:transport.connect]"): the
     * kiosk gets `refusal` (bad-request), the log gets the detail; our own errors pass as they are
     */
    const refusedAs = async <T>(refusal: string, run: () => Promise<T>): Promise<T> => {
      try {
        return await run();
      } catch (e) {
        if (e instanceof TypeError || (e instanceof Error && /\[method:/.test(e.message))) {
          log.info({ kiosk: kioskId, session: sessionId, reason: e.message }, 'kiosk media request refused');
          throw new BadRequestError(refusal);
        }
        throw e;
      }
    };
    log.info({ kiosk: kioskId, session: sessionId, token: principal.tokenId, ip: socket.handshake.address }, 'kiosk connected');
    void socket.join(`session:${sessionId}`);

    socket.on(
      'join',
      request(async (req: unknown) => {
        parseRequest(empty, req, 'join');
        if (socket.data.joining) throw new KioskStateError('a join is already in progress on this connection');
        const s = session();
        socket.data.joining = true;
        let media: Awaited<ReturnType<KioskSession['addKiosk']>>;
        try {
          s.removeKiosk(kioskId); // a second join (after a media restart) starts afresh
          media = await s.addKiosk(kioskId);
        } finally {
          socket.data.joining = false;
        }
        if (socket.disconnected) {
          // the kiosk left while it was joining: release what the join made
          s.removeKiosk(kioskId);
          throw new KioskStateError('the kiosk left while it was joining');
        }
        socket.data.joined = true;
        log.info({ kiosk: kioskId, session: sessionId, mode: s.mode }, 'kiosk joined');
        return { mode: s.mode, session: s.info, scopes: [...principal.scopes], ...(media.sfu ? { sfu: media.sfu } : {}) };
      }, onError),
    );

    socket.on(
      'sfu:connect',
      request(async (req: unknown) => {
        const { dtlsParameters } = parseRequest(dtlsRequest, req, 'sfu:connect');
        await refusedAs('sfu:connect: the DTLS parameters were refused', () => session().sfuConnect(kioskId, dtlsParameters));
        return {};
      }, onError),
    );

    socket.on(
      'sfu:consume',
      request(async (req: unknown) => {
        const { rtpCapabilities } = parseRequest(capsRequest, req, 'sfu:consume');
        return { consumers: await refusedAs('sfu:consume: the RTP capabilities were refused', () => session().sfuConsume(kioskId, rtpCapabilities)) };
      }, onError),
    );

    socket.on(
      'sfu:resume',
      request(async (req: unknown) => {
        const { kind } = parseRequest(resumeRequest, req ?? {}, 'sfu:resume');
        await session().sfuResume(kioskId, kind);
        return {};
      }, onError),
    );

    socket.on(
      'direct:offer',
      request(async (req: unknown) => {
        parseRequest(empty, req, 'direct:offer');
        return { sdp: await session().directOffer(kioskId) };
      }, onError),
    );

    socket.on(
      'direct:answer',
      request(async (req: unknown) => {
        const { sdp } = parseRequest(sdpRequest, req, 'direct:answer');
        await session().directAnswer(kioskId, sdp);
        return {};
      }, onError),
    );

    socket.on(
      'direct:start-audio',
      request(async (req: unknown) => {
        parseRequest(empty, req, 'direct:start-audio');
        await session().directStartAudio(kioskId);
        return {};
      }, onError),
    );

    socket.on(
      'interrupt',
      request(async (req: unknown) => {
        parseRequest(empty, req, 'interrupt');
        requireScope(principal, 'interrupt');
        const res = await session().interrupt();
        log.info({ kiosk: kioskId, session: sessionId, droppedMs: res.droppedMs }, 'interrupt from kiosk');
        return res;
      }, onError),
    );

    const connectedAt = Date.now();
    let doubted = 0;
    socket.on('report', (report: unknown) => {
      const parsed = kioskReportSchema.safeParse(report);
      const s = lookup(sessionId);
      if (!parsed.success || !socket.data.joined || !s) return;
      const why = implausible(parsed.data, { ...s.info, connectedMs: Date.now() - connectedAt });
      if (why) {
        // not believed, not in /metrics; said once per connection
        if (doubted++ === 0) log.warn({ kiosk: kioskId, session: sessionId, ip: socket.handshake.address, why }, 'kiosk report dropped: not plausible');
        return;
      }
      s.report(kioskId, parsed.data as KioskReport);
      if (tokenId) deps.seen?.reported(tokenId, parsed.data.fps, parsed.data.avOffsetMs);
    });

    socket.on('disconnect', (reason) => {
      lookup(sessionId)?.removeKiosk(kioskId);
      if (tokenId) deps.seen?.disconnected(tokenId);
      log.info({ kiosk: kioskId, session: sessionId, reason }, 'kiosk left');
    });
  });

  return nsp;
}

