/** The SFU path: mediasoup-client receives the session's video and audio from the server's router. */
import { Device } from 'mediasoup-client';
import type { types as msc } from 'mediasoup-client';
import type { JoinResult } from '../../server/protocol.js';
import { firstFrames, watchConnection, type Receiver } from './receiver.js';
import { request, type KioskSocket } from './signalling.js';

type Joined = Extract<JoinResult, { ok: true }>;

export async function startSfuReceiver(socket: KioskSocket, joined: Joined): Promise<Receiver> {
  if (!joined.sfu) throw new Error('the server sent no SFU parameters');
  const device = new Device();
  await device.load({ routerRtpCapabilities: joined.sfu.routerRtpCapabilities });
  const transport = device.createRecvTransport(joined.sfu.transport);
  const watch = watchConnection();
  transport.on('connect', ({ dtlsParameters }, callback, errback) => {
    request(socket, 'sfu:connect', { dtlsParameters }).then(() => callback(), errback);
  });
  transport.on('connectionstatechange', (state) => watch.update(state));
  try {
    const { consumers } = await request(socket, 'sfu:consume', { rtpCapabilities: device.rtpCapabilities });
    const own: msc.Consumer[] = [];
    for (const c of consumers) {
      own.push(await transport.consume({ id: c.id, producerId: c.producerId, kind: c.kind, rtpParameters: c.rtpParameters, streamId: c.streamId }));
    }
    const tracks = own.map((c) => c.track);
    return {
      stream: new MediaStream(tracks),
      start: async (video: HTMLVideoElement) => {
        await request(socket, 'sfu:resume', { kind: 'video' });
        await firstFrames(video);
        await request(socket, 'sfu:resume', { kind: 'audio' });
      },
      // the page's own consumers only: mediasoup-client also receives a 'probator' video stream
      // (SSRC 1234, bandwidth probes, never a frame), and the transport's report would hold both
      getStats: () => consumersStats(own),
      onFailed: watch.onFailed,
      close() {
        watch.stop();
        transport.close();
      },
    };
  } catch (e) {
    watch.stop();
    transport.close();
    throw e;
  }
}

/** One report of the consumers' stats (inbound-rtp, codec, transport), as RTCPeerConnection.getStats() gives. */
async function consumersStats(consumers: msc.Consumer[]): Promise<RTCStatsReport> {
  const merged = new Map<string, unknown>();
  for (const c of consumers) (await c.getStats()).forEach((v: unknown, k: string) => merged.set(k, v));
  return merged as unknown as RTCStatsReport;
}
