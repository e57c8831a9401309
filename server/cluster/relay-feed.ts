/**
 * Edge side of a pipe between two nodes' routers (mediasoup pipe transports, plain RTP over UDP on
 * the LAN): a pipe transport on the edge's router, the origin asked over its HTTP API (admin key)
 * to open its end towards it (SfuRoom.openPipe), then the origin's producers produced here with
 * the same ids and RTP parameters. Kiosks on the edge consume those.
 *
 *   edge                                   origin
 *   createPipeTransport(pipe_ip) ------>   PUT /internal/cluster/sessions/:id/pipes/:node {ip, port}
 *                                <------   {ip, port, producers[]}  (its pipe transport, connected)
 *   pipe.connect(ip, port); pipe.produce(each)
 *   close: pipe.close() + DELETE .../pipes/:node
 */
import type { types as ms } from 'mediasoup';
import type { PipeOffer, RoomFeed } from '../media/sfu-room.js';

export interface OriginCall {
  /** the origin's HTTP API (DirectoryEntry.url) */
  url: string;
  adminKey: string;
  sessionId: string;
  /** this node's id: the origin keeps one pipe per node and session */
  node: string;
}

export async function pipeFromOrigin(router: ms.Router, origin: OriginCall, listen: { ip: string; announcedIp?: string }): Promise<RoomFeed> {
  const pipe = await router.createPipeTransport({ listenIp: { ip: listen.ip, announcedIp: listen.announcedIp }, enableSctp: false, enableRtx: false, enableSrtp: false });
  const path = `${origin.url}/internal/cluster/sessions/${encodeURIComponent(origin.sessionId)}/pipes/${encodeURIComponent(origin.node)}`;
  const headers = { authorization: `Bearer ${origin.adminKey}`, 'content-type': 'application/json' };
  let opened = false;
  const close = () => {
    pipe.close();
    if (opened) void fetch(path, { method: 'DELETE', headers: { authorization: headers.authorization }, signal: AbortSignal.timeout(3000) }).catch(() => undefined);
  };
  try {
    const res = await fetch(path, {
      method: 'PUT',
      headers,
      body: JSON.stringify({ ip: listen.announcedIp ?? pipe.tuple.localIp, port: pipe.tuple.localPort }),
      signal: AbortSignal.timeout(5000),
    });
    const body = (await res.json().catch(() => ({}))) as { ok?: boolean; error?: string } & Partial<PipeOffer>;
    if (!res.ok || !body.ok || !body.producers || !body.ip || !body.port) {
      throw new Error(`the session's node (${origin.url}) refused the pipe: ${res.status} ${body.error ?? ''}`.trim());
    }
    opened = true;
    await pipe.connect({ ip: body.ip, port: body.port });
    const producers: ms.Producer[] = [];
    for (const p of body.producers) producers.push(await pipe.produce({ id: p.id, kind: p.kind, rtpParameters: p.rtpParameters, paused: p.paused }));
    return { producers, close };
  } catch (e) {
    close();
    throw e;
  }
}
