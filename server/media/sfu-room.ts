/**
 * The SFU path of one session: a mediasoup router, a publisher inside this process, and one receive
 * transport with two consumers (video, audio) per kiosk. The session is encoded once, whatever the
 * number of kiosks. The publisher is one of
 * - `x264` (media.encoder): FFmpeg's x264 + Opus, RTP straight into the router through a
 *   DirectTransport (server/media/encoded-feed.ts);
 * - `wrtc`: mediasoup-client with wrtc as its WebRTC (Chrome74 handler) sending the session's
 *   tracks over a loopback WebRtcTransport (VP8 + Opus).
 *
 * Kiosk flow (see server/protocol.ts): addKiosk -> transport info; connectKiosk(dtls);
 * consume(rtpCapabilities) -> consumers created paused; resume. closeKiosk releases all of it.
 *
 * Across nodes (server/cluster/): the room of the session's own node (its origin) opens a pipe
 * transport per edge node (openPipe); an edge node's room is a relay (SfuRoom.relay) whose
 * producers come in through its end of that pipe instead of from a local publisher.
 */
import type { types as ms } from 'mediasoup';
import type { types as msc } from 'mediasoup-client';
import type { ConsumerInfo, TransportInfo } from '../protocol.js';
import type { MediasoupWorker } from './mediasoup-worker.js';
import type { SessionMediaSource } from './session-media-source.js';
import { installWrtcGlobals } from './wrtc.js';
import { EncodedFeed, H264_PARAMETERS, type EncodedFeedStats } from './encoded-feed.js';
import type { X264Preset } from './live-encoder.js';
import { KioskStateError } from './kiosk-state-error.js';

/** What feeds a room's producers: the in-process publisher, or an edge's pipe from the origin. */
export interface RoomFeed {
  producers: ms.Producer[];
  /** the encoder path's encoder counts (absent for wrtc and relays) */
  stats?(): EncodedFeedStats;
  /**
   * A kiosk starts to watch: the next frame is a keyframe, whatever throttles requests (the encoder
   * path; wrtc and relays answer the consumer's own request)
   */
  keyframeNow?(): void;
  close(): void;
}

/** The origin's end of a pipe to one edge node: where it listens, and what the edge is to produce. */
export interface PipeOffer {
  ip: string;
  port: number;
  producers: { id: string; kind: 'audio' | 'video'; rtpParameters: ms.RtpParameters; paused: boolean }[];
}

export const MEDIA_CODECS: ms.RtpCodecCapability[] = [
  { kind: 'audio', mimeType: 'audio/opus', clockRate: 48000, channels: 2 },
  { kind: 'video', mimeType: 'video/VP8', clockRate: 90000, parameters: {} },
  { kind: 'video', mimeType: 'video/H264', clockRate: 90000, parameters: H264_PARAMETERS },
];

export interface SfuRoomOptions {
  /** IP the kiosks' transports listen on */
  listenIp: string;
  /** IP written into the kiosks' ICE candidates (when listenIp is 0.0.0.0) */
  announcedIp?: string;
  /** video bit rate ceiling, bit/s */
  videoMaxBitrate: number;
  /** groups the two tracks for the browser's lip sync */
  streamId: string;
  /** UDP ports the in-process publisher (wrtc) may bind */
  portRange: { min: number; max: number };
}

/** How an origin room's publisher encodes (relays take what the origin sends). */
export interface PublisherOptions {
  /** the publisher: x264 (H.264 + Opus through FFmpeg, DirectTransport) or wrtc (VP8 + Opus, WebRtcTransport) */
  encoder: 'x264' | 'wrtc';
  x264Preset: X264Preset;
  /** the encoder failed (the session's picture stopped) */
  onError(e: Error): void;
}

interface KioskPeer {
  transport: ms.WebRtcTransport;
  consumers: ms.Consumer[];
  /** its video has been resumed once (and a keyframe asked for it) */
  videoStarted?: boolean;
}

/** What a signalling channel does: JSON across the wire (mediasoup's and mediasoup-client's types differ in detail). */
export function wire<T>(value: unknown): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

export class SfuRoom {
  readonly router: ms.Router;
  private readonly opts: SfuRoomOptions;
  private readonly kiosks = new Map<string, KioskPeer>();
  /**
   * kiosks whose transport is being created: closeKiosk() while it is cancels it (the transport is
   * closed as soon as it exists), and a second addKiosk() for the same kiosk is refused, so no
   * transport (and its ports) outlives its kiosk
   */
  private readonly pending = new Map<string, symbol>();
  private readonly producers: ms.Producer[];
  private readonly feed: RoomFeed;
  /** pipe transports to edge nodes, by node id (origin side) */
  private readonly pipes = new Map<string, ms.PipeTransport>();
  private closed = false;

  private constructor(router: ms.Router, opts: SfuRoomOptions, feed: RoomFeed) {
    this.router = router;
    this.opts = opts;
    this.feed = feed;
    this.producers = feed.producers;
  }

  /**
   * An edge node's room for a session that runs on another node: `pipeIn` brings the origin's
   * producers into this router (server/cluster/relay-feed.ts); kiosks then consume them here.
   */
  static async relay(worker: MediasoupWorker, opts: SfuRoomOptions, pipeIn: (router: ms.Router) => Promise<RoomFeed>): Promise<SfuRoom> {
    const router = await worker.createRouter({ mediaCodecs: MEDIA_CODECS });
    try {
      return new SfuRoom(router, opts, await pipeIn(router));
    } catch (e) {
      router.close();
      throw e;
    }
  }

  static async create(worker: MediasoupWorker, source: SessionMediaSource, opts: SfuRoomOptions & PublisherOptions): Promise<SfuRoom> {
    const router = await worker.createRouter({ mediaCodecs: MEDIA_CODECS });
    try {
      const feed = opts.encoder === 'x264' ? await encodedFeed(router, source, opts) : await wrtcFeed(router, source, opts);
      return new SfuRoom(router, opts, feed);
    } catch (e) {
      router.close();
      throw e;
    }
  }

  get kioskCount(): number {
    return this.kiosks.size;
  }

  /** Creates the kiosk's receive transport. */
  async addKiosk(kioskId: string): Promise<{ routerRtpCapabilities: msc.RtpCapabilities; transport: TransportInfo }> {
    this.assertOpen();
    if (this.kiosks.has(kioskId) || this.pending.has(kioskId)) throw new KioskStateError(`kiosk ${kioskId} has already joined`);
    const ticket = Symbol(kioskId);
    this.pending.set(kioskId, ticket);
    let transport: ms.WebRtcTransport;
    try {
      transport = await this.router.createWebRtcTransport({
      listenIps: [{ ip: this.opts.listenIp, announcedIp: this.opts.announcedIp }],
      enableUdp: true,
      enableTcp: true,
      preferUdp: true,
      initialAvailableOutgoingBitrate: Math.min(this.opts.videoMaxBitrate + 128_000, 2_000_000),
      });
    } catch (e) {
      if (this.pending.get(kioskId) === ticket) this.pending.delete(kioskId);
      throw e;
    }
    const current = this.pending.get(kioskId) === ticket;
    if (current) this.pending.delete(kioskId);
    if (this.closed) {
      transport.close();
      throw new Error('the session closed');
    }
    if (!current) {
      transport.close();
      throw new KioskStateError('the kiosk left while it was joining');
    }
    this.kiosks.set(kioskId, { transport, consumers: [] });
    return { routerRtpCapabilities: wire(this.router.rtpCapabilities), transport: transportInfo(transport) };
  }

  async connectKiosk(kioskId: string, dtlsParameters: unknown): Promise<void> {
    const peer = this.peer(kioskId);
    await this.whileThere(kioskId, peer, () => peer.transport.connect({ dtlsParameters: dtlsParameters as ms.DtlsParameters }));
  }

  /** Creates the kiosk's consumers, paused; resume() once the kiosk has set them up. */
  async consume(kioskId: string, rtpCapabilities: unknown): Promise<ConsumerInfo[]> {
    const peer = this.peer(kioskId);
    if (peer.consumers.length > 0) throw new KioskStateError('already consuming');
    const caps = rtpCapabilities as ms.RtpCapabilities;
    const out: ConsumerInfo[] = [];
    for (const p of this.producers) {
      if (!this.router.canConsume({ producerId: p.id, rtpCapabilities: caps })) {
        throw new KioskStateError(`the kiosk cannot receive ${p.kind} (${p.rtpParameters.codecs[0]?.mimeType}): its browser lacks the codec`);
      }
      const c = await this.whileThere(kioskId, peer, () => peer.transport.consume({ producerId: p.id, rtpCapabilities: caps, paused: true }));
      peer.consumers.push(c);
      out.push({ id: c.id, producerId: p.id, kind: c.kind, rtpParameters: wire(c.rtpParameters), streamId: this.opts.streamId });
    }
    return out;
  }

  /**
   * Resumes the kiosk's consumers of `kind` (both when absent). The first time its video flows the
   * feed sends a keyframe at once: mediasoup's own request from the consumer is throttled with
   * every other kiosk's (EncodedFeed), and a keyframe encoded moments before, while the consumer
   * was still paused, would hold the new kiosk's first picture back by up to that throttle.
   */
  async resume(kioskId: string, kind?: 'audio' | 'video'): Promise<void> {
    const peer = this.peer(kioskId);
    for (const c of peer.consumers) {
      if (kind && c.kind !== kind) continue;
      await c.resume();
      if (c.kind === 'video' && !peer.videoStarted && !c.closed) {
        peer.videoStarted = true;
        this.feed.keyframeNow?.();
      }
    }
  }

  /** Releases the kiosk's transport and consumers. Safe to call for an unknown or closed kiosk. */
  closeKiosk(kioskId: string): void {
    this.pending.delete(kioskId);
    const peer = this.kiosks.get(kioskId);
    if (!peer) return;
    this.kiosks.delete(kioskId);
    peer.transport.close();
  }

  /** WebRTC transports the router holds (kiosks' and the publisher's): what really holds ports, for leak checks. */
  async routerTransports(): Promise<number> {
    return (await this.router.dump()).transportIds.length;
  }

  /** Counts for health checks and leak tests. */
  counts(): { kiosks: number; transports: number; consumers: number; producers: number; pipes: number } {
    let consumers = 0;
    let transports = 0;
    for (const p of this.kiosks.values()) {
      if (!p.transport.closed) transports += 1;
      consumers += p.consumers.filter((c) => !c.closed).length;
    }
    return { kiosks: this.kiosks.size, transports, consumers, producers: this.producers.filter((p) => !p.closed).length, pipes: this.pipeCount };
  }

  encoderStats(): EncodedFeedStats | undefined {
    return this.feed.stats?.();
  }

  async producerScores(): Promise<Record<string, number>> {
    const out: Record<string, number> = {};
    for (const p of this.producers) out[p.kind] = p.score[0]?.score ?? 0;
    return out;
  }

  /**
   * Origin side of a pipe to edge node `node`, whose pipe transport listens at `remote`: a pipe
   * transport here, connected to it, with one pipe consumer per producer. A node that asks again
   * (it rebuilt its relay, or restarted) gets a new pipe; its old one is closed.
   */
  async openPipe(node: string, remote: { ip: string; port: number }, listen: { ip: string; announcedIp?: string }): Promise<PipeOffer> {
    this.assertOpen();
    this.closePipe(node);
    const pipe = await this.router.createPipeTransport({ listenIp: { ip: listen.ip, announcedIp: listen.announcedIp }, enableSctp: false, enableRtx: false, enableSrtp: false });
    this.pipes.set(node, pipe);
    try {
      await pipe.connect({ ip: remote.ip, port: remote.port });
      const producers: PipeOffer['producers'] = [];
      for (const p of this.producers) {
        const c = await pipe.consume({ producerId: p.id });
        producers.push({ id: p.id, kind: c.kind, rtpParameters: c.rtpParameters, paused: c.producerPaused });
      }
      return { ip: listen.announcedIp ?? pipe.tuple.localIp, port: pipe.tuple.localPort, producers };
    } catch (e) {
      this.closePipe(node);
      throw e;
    }
  }

  /** Closes the pipe to `node`, if any (the edge left, or asks for a new one). */
  closePipe(node: string): boolean {
    const pipe = this.pipes.get(node);
    if (!pipe) return false;
    this.pipes.delete(node);
    pipe.close();
    return true;
  }

  /** Edge nodes this room sends the session to. */
  get pipeCount(): number {
    return [...this.pipes.values()].filter((p) => !p.closed).length;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const id of [...this.kiosks.keys()]) this.closeKiosk(id);
    for (const node of [...this.pipes.keys()]) this.closePipe(node);
    this.feed.close();
    this.router.close();
  }

  /**
   * Runs a request on the kiosk's transport; when the kiosk left meanwhile (its page closed, its
   * connection cut) the worker's refusal becomes the kiosk's own error, not an internal one.
   */
  private async whileThere<T>(kioskId: string, peer: KioskPeer, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (e) {
      if (peer.transport.closed || this.kiosks.get(kioskId) !== peer) throw new KioskStateError('the kiosk left while its request ran (its transport is closed)');
      throw e;
    }
  }

  private peer(kioskId: string): KioskPeer {
    this.assertOpen();
    const p = this.kiosks.get(kioskId);
    if (!p) throw new KioskStateError('join first: this kiosk has no transport');
    return p;
  }

  private assertOpen(): void {
    if (this.closed || this.router.closed) throw new Error('the session\'s media is closed');
  }
}

function transportInfo(t: ms.WebRtcTransport): TransportInfo {
  return wire({ id: t.id, iceParameters: t.iceParameters, iceCandidates: t.iceCandidates, dtlsParameters: t.dtlsParameters });
}

/** The encoder path's publisher: x264 + Opus into a DirectTransport. */
async function encodedFeed(router: ms.Router, source: SessionMediaSource, opts: SfuRoomOptions & PublisherOptions): Promise<RoomFeed> {
  const feed = await EncodedFeed.create(router, {
    width: source.width,
    height: source.height,
    fps: source.fps,
    maxKbps: Math.round(opts.videoMaxBitrate / 1000),
    preset: opts.x264Preset,
    cname: opts.streamId,
    onError: opts.onError,
  });
  const detach = source.addSink(feed);
  return {
    producers: feed.producers,
    stats: () => feed.stats(),
    keyframeNow: () => feed.keyframeNow(),
    close() {
      detach();
      feed.close();
    },
  };
}

/** The wrtc publisher: mediasoup-client (Chrome74 handler, wrtc as its WebRTC) over a loopback WebRtcTransport. */
async function wrtcFeed(router: ms.Router, source: SessionMediaSource, opts: SfuRoomOptions): Promise<RoomFeed> {
  installWrtcGlobals();
  const { Device } = await import('mediasoup-client');
  const tracks: MediaStreamTrack[] = [];
  try {
    const device = new Device({ handlerName: 'Chrome74' });
    await device.load({ routerRtpCapabilities: wire(router.rtpCapabilities) });
    const serverTransport = await router.createWebRtcTransport({
      listenIps: [{ ip: '127.0.0.1' }],
      enableUdp: true,
      enableTcp: false,
      preferUdp: true,
    });
    // wrtc binds its ICE sockets on every interface (it cannot be told which): keep at least
    // their ports inside the configured RTC range
    const transport = device.createSendTransport({
      ...wire<msc.TransportOptions>(transportInfo(serverTransport)),
      additionalSettings: { portRange: opts.portRange } as RTCConfiguration,
    });
    const producers: ms.Producer[] = [];
    transport.on('connect', ({ dtlsParameters }, callback, errback) => {
      serverTransport.connect({ dtlsParameters: wire(dtlsParameters) }).then(callback, errback);
    });
    transport.on('produce', ({ kind, rtpParameters }, callback, errback) => {
      serverTransport.produce({ kind, rtpParameters: wire(rtpParameters) }).then((p) => {
        producers.push(p);
        callback({ id: p.id });
      }, errback);
    });
    const video = source.createTrack('video');
    const audio = source.createTrack('audio');
    tracks.push(video, audio);
    // On loopback the bandwidth estimate would start at libwebrtc's ~300 kbit/s: the sender's pacer
    // then queues a 512x512 stream (audio behind it) and flushes it in bursts while the estimate
    // ramps up, which the kiosks' jitter buffers keep as latency. Start at the ceiling instead.
    const kbps = Math.round(opts.videoMaxBitrate / 1000);
    await transport.produce({
      track: video,
      streamId: opts.streamId,
      encodings: [{ maxBitrate: opts.videoMaxBitrate }],
      codecOptions: { videoGoogleStartBitrate: kbps, videoGoogleMaxBitrate: kbps, videoGoogleMinBitrate: Math.min(300, kbps) },
      stopTracks: false,
    });
    // 10 ms Opus packets (not 20): less packetisation delay, and the kiosk's jitter buffer runs finer
    await transport.produce({ track: audio, streamId: opts.streamId, codecOptions: { opusStereo: false, opusDtx: false, opusPtime: 10 }, stopTracks: false });
    const feed: RoomFeed = {
      producers,
      close() {
        try {
          transport.close();
        } catch {
          /* the handler may already be gone */
        }
        for (const t of tracks) source.releaseTrack(t);
      },
    };
    return feed;
  } catch (e) {
    for (const t of tracks) source.releaseTrack(t);
    throw e;
  }
}
