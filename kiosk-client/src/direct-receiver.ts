/**
 * The direct path (no SFU on the server): one RTCPeerConnection to the server's wrtc peer. The
 * server offers (video + audio in one stream, its host candidates included); the page answers
 * once its own candidates are gathered. No STUN/TURN: LAN only.
 */
import { firstFrames, watchConnection, type Receiver } from './receiver.js';
import { request, type KioskSocket } from './signalling.js';

export async function startDirectReceiver(socket: KioskSocket): Promise<Receiver> {
  const pc = new RTCPeerConnection({ iceServers: [] });
  const watch = watchConnection();
  pc.addEventListener('connectionstatechange', () => watch.update(pc.connectionState));
  let stream: MediaStream | undefined;
  const loose = new MediaStream();
  pc.addEventListener('track', (e) => {
    stream ??= e.streams[0];
    loose.addTrack(e.track);
  });
  try {
    const { sdp } = await request(socket, 'direct:offer', {});
    await pc.setRemoteDescription({ type: 'offer', sdp });
    await pc.setLocalDescription(await pc.createAnswer());
    await gathered(pc, 2000);
    return {
      stream: stream ?? loose,
      start: async (video: HTMLVideoElement) => {
        await request(socket, 'direct:answer', { sdp: pc.localDescription!.sdp });
        await firstFrames(video);
        await request(socket, 'direct:start-audio', {});
      },
      getStats: () => pc.getStats(),
      onFailed: watch.onFailed,
      close() {
        watch.stop();
        pc.close();
      },
    };
  } catch (e) {
    watch.stop();
    pc.close();
    throw e;
  }
}

function gathered(pc: RTCPeerConnection, timeoutMs: number): Promise<void> {
  return new Promise((resolve) => {
    if (pc.iceGatheringState === 'complete') return resolve();
    const t = setTimeout(resolve, timeoutMs);
    pc.addEventListener('icegatheringstatechange', () => {
      if (pc.iceGatheringState === 'complete') {
        clearTimeout(t);
        resolve();
      }
    });
  });
}
