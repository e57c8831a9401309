/** The SFU path: mediasoup-client receives the session's video and audio from the server's router. */
import { Device } from 'mediasoup-client';
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
    const tracks: MediaStreamTrack[] = [];
    for (const c of consumers) {
      const consumer = await transport.consume({ id: c.id, producerId: c.producerId, kind: c.kind, rtpParameters: c.rtpParameters, streamId: c.streamId });
      tracks.push(consumer.track);
    }
    return {
      stream: new MediaStream(tracks),
      start: async (video: HTMLVideoElement) => {
        await request(socket, 'sfu:resume', { kind: 'video' });
        await firstFrames(video);
        await request(socket, 'sfu:resume', { kind: 'audio' });
      },
      getStats: () => transport.getStats(),
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
