/**
 * The direct path, used when no SFU worker is available: one wrtc RTCPeerConnection per kiosk
 * carrying the session's video and audio tracks in ONE MediaStream (so the browser lip-syncs
 * them). Each peer connection encodes on its own, so CPU grows with every kiosk; the SFU path
 * encodes once. ICE: host candidates only, no STUN/TURN (LAN only); non-trickle: the offer is sent
 * once candidates are gathered.
 */
import type { SessionMediaSource } from './session-media-source.js';
import { loadWrtc } from './wrtc.js';
import { KioskStateError } from './kiosk-state-error.js';

export interface DirectPeerOptions {
  /** UDP ports libwebrtc may bind */
  portRange: { min: number; max: number };
  /** video bit rate ceiling, bit/s */
  videoMaxBitrate: number;
  /** ms to wait for ICE gathering before sending what was gathered */
  gatherTimeoutMs?: number;
}

export class DirectPeer {
  private readonly pc: RTCPeerConnection;
  private readonly source: SessionMediaSource;
  private readonly tracks: MediaStreamTrack[];
  private audioSender: RTCRtpSender | undefined;
  private closed = false;

  private constructor(pc: RTCPeerConnection, source: SessionMediaSource, tracks: MediaStreamTrack[]) {
    this.pc = pc;
    this.source = source;
    this.tracks = tracks;
  }

  /**
   * The audio flows from here on. It is negotiated with the offer but held back until the page
   * shows video and is calm: audio that reaches a page still starting up stays in its jitter
   * buffer as latency (kiosk-client/src/receiver.ts).
   */
  async startAudio(): Promise<void> {
    if (this.closed) throw new KioskStateError('the peer connection is closed');
    if (!this.audioSender) return;
    await this.audioSender.replaceTrack(this.tracks[1]!);
  }

  /** Creates the peer connection and its offer (ICE candidates included). */
  static async create(source: SessionMediaSource, opts: DirectPeerOptions): Promise<{ peer: DirectPeer; sdp: string }> {
    const wrtc = loadWrtc();
    const config = { iceServers: [], portRange: opts.portRange } as RTCConfiguration;
    const pc = new wrtc.RTCPeerConnection(config) as unknown as RTCPeerConnection;
    const video = source.createTrack('video');
    const audio = source.createTrack('audio');
    const peer = new DirectPeer(pc, source, [video, audio]);
    try {
      const stream = new wrtc.MediaStream() as unknown as MediaStream;
      const videoSender = pc.addTrack(video, stream);
      peer.audioSender = pc.addTrack(audio, stream);
      await limitBitrate(videoSender, opts.videoMaxBitrate);
      await peer.audioSender.replaceTrack(null); // until startAudio()
      const gathered = waitForGathering(pc, opts.gatherTimeoutMs ?? 3000);
      await pc.setLocalDescription(await pc.createOffer());
      await gathered;
      const sdp = pc.localDescription?.sdp;
      if (!sdp) throw new Error('wrtc produced no local description');
      return { peer, sdp };
    } catch (e) {
      peer.close();
      throw e;
    }
  }

  async answer(sdp: string): Promise<void> {
    if (this.closed) throw new KioskStateError('the peer connection is closed');
    await this.pc.setRemoteDescription({ type: 'answer', sdp });
  }

  get connectionState(): string {
    return this.closed ? 'closed' : this.pc.connectionState;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const t of this.tracks) this.source.releaseTrack(t);
    this.pc.close();
  }
}

async function limitBitrate(sender: RTCRtpSender, maxBitrate: number): Promise<void> {
  try {
    const params = sender.getParameters();
    if (params.encodings?.length) {
      params.encodings[0]!.maxBitrate = maxBitrate;
      await sender.setParameters(params);
    }
  } catch {
    // wrtc builds without RtpSender parameters: the encoder's own rate control applies
  }
}

function waitForGathering(pc: RTCPeerConnection, timeoutMs: number): Promise<void> {
  return new Promise<void>((resolve) => {
    if (pc.iceGatheringState === 'complete') return resolve();
    const timer = setTimeout(done, timeoutMs);
    function done(): void {
      clearTimeout(timer);
      pc.removeEventListener('icegatheringstatechange', check);
      resolve();
    }
    function check(): void {
      if (pc.iceGatheringState === 'complete') done();
    }
    pc.addEventListener('icegatheringstatechange', check);
  });
}
