/**
 * The encoder path's publisher against a real mediasoup worker and real FFmpeg: frames and audio
 * go through x264 / libopus into a DirectTransport producer; a second DirectTransport consumes
 * them as a kiosk's transport would, and FFmpeg's own H.264 and Opus decoders read what came out.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { types as ms } from 'mediasoup';
import { createMediasoupWorker, type MediasoupWorker } from '../../server/media/mediasoup-worker.js';
import { EncodedFeed } from '../../server/media/encoded-feed.js';
import { MEDIA_CODECS } from '../../server/media/sfu-room.js';
import { beamcoder } from '../../pipeline/media/beamcoder.js';
import { videoFrameToI420 } from '../../pipeline/encode/video-planes.js';
import type { AvatarFrame } from '../../pipeline/records.js';

const W = 256;
const H = 320;
const FPS = 25;

/** A picture with a bright square that moves 4 px per frame over a gradient. */
function picture(k: number): Uint8Array {
  const out = new Uint8Array((W * H * 3) / 2);
  for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) out[y * W + x] = 40 + ((x + y) >> 2);
  const x0 = 20 + 4 * k;
  for (let y = 100; y < 160; y++) for (let x = x0; x < x0 + 60 && x < W; x++) out[y * W + x] = 230;
  out.fill(128, W * H);
  return out;
}

function psnrY(a: Uint8Array, b: Uint8Array): number {
  let se = 0;
  for (let i = 0; i < W * H; i++) se += (a[i]! - b[i]!) ** 2;
  return 10 * Math.log10((255 * 255) / Math.max(se / (W * H), 1e-9));
}

/** Access units (Annex B) from the consumer's RTP: single NAL units and FU-A, frames ended by the marker. */
class Depacketizer {
  readonly frames: { ts: number; au: Buffer }[] = [];
  private nals: Buffer[] = [];
  private fu: Buffer[] = [];

  push(packet: Buffer): void {
    const cc = packet[0]! & 0x0f;
    const ext = (packet[0]! & 0x10) !== 0;
    let at = 12 + 4 * cc;
    if (ext) at += 4 + 4 * packet.readUInt16BE(at + 2);
    const payload = packet.subarray(at);
    const type = payload[0]! & 0x1f;
    if (type === 28) {
      if (payload[1]! & 0x80) this.fu = [Buffer.of((payload[0]! & 0xe0) | (payload[1]! & 0x1f))];
      this.fu.push(payload.subarray(2));
      if (payload[1]! & 0x40) this.nals.push(Buffer.concat(this.fu));
    } else this.nals.push(Buffer.from(payload));
    if (packet[1]! & 0x80) {
      this.frames.push({ ts: packet.readUInt32BE(4), au: Buffer.concat(this.nals.flatMap((n) => [Buffer.of(0, 0, 0, 1), n])) });
      this.nals = [];
    }
  }
}

function pli(senderSsrc: number, mediaSsrc: number): Buffer {
  const b = Buffer.alloc(12);
  b[0] = 0x81;
  b[1] = 206;
  b.writeUInt16BE(2, 2);
  b.writeUInt32BE(senderSsrc, 4);
  b.writeUInt32BE(mediaSsrc, 8);
  return b;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('encoder path: x264 + Opus into a mediasoup DirectTransport', () => {
  let worker: MediasoupWorker;
  let router: ms.Router;

  beforeAll(async () => {
    worker = await createMediasoupWorker({ rtcMinPort: 42400, rtcMaxPort: 42499 });
    router = await worker.createRouter({ mediaCodecs: MEDIA_CODECS });
  });
  afterAll(() => worker?.close());

  it('a consumer gets H.264 that decodes to the frames sent (PSNR >= 32 dB), Opus that decodes to the tone sent, one CNAME, and a keyframe when it asks', async () => {
    const errors: Error[] = [];
    const feed = await EncodedFeed.create(router, { width: W, height: H, fps: FPS, maxKbps: 1500, preset: 'veryfast', cname: 'avatar-test', onError: (e) => errors.push(e) });
    const recv = await router.createDirectTransport();
    const [videoProducer, audioProducer] = feed.producers;
    const video = await recv.consume({ producerId: videoProducer!.id, rtpCapabilities: router.rtpCapabilities });
    const audio = await recv.consume({ producerId: audioProducer!.id, rtpCapabilities: router.rtpCapabilities });
    expect(video.rtpParameters.codecs[0]!.mimeType).toBe('video/H264');
    expect(audio.rtpParameters.codecs[0]!.mimeType).toBe('audio/opus');
    expect(video.rtpParameters.rtcp?.cname).toBe('avatar-test');
    expect(audio.rtpParameters.rtcp?.cname).toBe('avatar-test');

    const depack = new Depacketizer();
    const audioPackets: Buffer[] = [];
    const audioTs: number[] = [];
    video.on('rtp', (p) => depack.push(p));
    audio.on('rtp', (p) => {
      audioPackets.push(p.subarray(12 + 4 * (p[0]! & 0x0f) + ((p[0]! & 0x10) ? 4 + 4 * p.readUInt16BE(12 + 4 * (p[0]! & 0x0f) + 2) : 0)));
      audioTs.push(p.readUInt32BE(4));
    });

    const sent: Uint8Array[] = [];
    const t0 = 1_000_000.25;
    const N = 30;
    for (let k = 0; k < N; k++) {
      const i420 = picture(k);
      sent.push(i420);
      feed.frame({ kind: 'frame', pts: k * 1920, index: k, width: W, height: H, i420 } as unknown as AvatarFrame, t0 + k * 40);
      for (let c = 0; c < 4; c++) {
        const s = new Float32Array(480);
        for (let i = 0; i < 480; i++) s[i] = 0.4 * Math.sin((2 * Math.PI * 440 * ((k * 4 + c) * 480 + i)) / 48_000);
        feed.audio(s, t0 + k * 40 + c * 10);
      }
      if (k === 20) recv.sendRtcp(pli(1234, video.rtpParameters.encodings![0]!.ssrc!));
      await sleep(40);
    }
    await sleep(300);

    // video: every frame arrives, at 3600 ticks (40 ms) apart, and decodes close to what was sent
    expect(errors).toEqual([]);
    expect(depack.frames.length).toBe(N);
    const steps = depack.frames.slice(1).map((f, i) => (f.ts - depack.frames[i]!.ts + 2 ** 32) % 2 ** 32);
    expect(new Set(steps)).toEqual(new Set([3600]));
    const bc = beamcoder();
    const dec = bc.decoder({ name: 'h264' });
    const decoded: Uint8Array[] = [];
    for (const f of depack.frames) {
      const out = await dec.decode(bc.packet({ data: f.au, size: f.au.length, pts: f.ts }));
      for (const fr of out.frames) decoded.push(videoFrameToI420(fr));
    }
    for (const fr of (await dec.flush()).frames) decoded.push(videoFrameToI420(fr));
    expect(decoded.length).toBe(N);
    const psnr = decoded.map((d, k) => psnrY(d, sent[k]!));
    expect(Math.min(...psnr), `PSNR per frame ${psnr.map((p) => p.toFixed(1)).join(' ')}`).toBeGreaterThanOrEqual(32);

    // the first frame and the one after the PLI are keyframes; none in between (no periodic ones in 1 s)
    const stats = feed.stats();
    expect(stats.keyframeRequests).toBeGreaterThanOrEqual(1);
    const keyAt = depack.frames.map((f, k) => (f.au.includes(Buffer.of(0, 0, 0, 1, 0x65)) ? k : -1)).filter((k) => k >= 0);
    expect(keyAt[0]).toBe(0);
    expect(keyAt.length).toBe(2);
    expect(keyAt[1]).toBeGreaterThan(20);
    expect(keyAt[1]).toBeLessThanOrEqual(23);

    // audio: 10 ms packets, 480 ticks apart, decoding to the 440 Hz tone
    expect(audioPackets.length).toBe(N * 4);
    const aSteps = new Set(audioTs.slice(1).map((t, i) => (t - audioTs[i]! + 2 ** 32) % 2 ** 32));
    expect(aSteps).toEqual(new Set([480]));
    const adec = bc.decoder({ name: 'libopus', sample_rate: 48_000, channels: 1, channel_layout: 'mono', request_sample_fmt: 'flt' });
    const pcm: number[] = [];
    for (const p of audioPackets) {
      for (const fr of (await adec.decode(bc.packet({ data: p, size: p.length }))).frames) {
        const plane: Buffer = fr.data[0];
        const view = fr.format === 's16' ? Array.from(new Int16Array(plane.buffer, plane.byteOffset, fr.nb_samples), (v) => v / 32768) : Array.from(new Float32Array(plane.buffer, plane.byteOffset, fr.nb_samples));
        pcm.push(...view);
      }
    }
    const tail = pcm.slice(4800);
    let crossings = 0;
    for (let i = 1; i < tail.length; i++) if (tail[i - 1]! < 0 !== tail[i]! < 0) crossings += 1;
    const hz = crossings / 2 / (tail.length / 48_000);
    const rms = Math.sqrt(tail.reduce((a, v) => a + v * v, 0) / tail.length);
    expect(hz).toBeGreaterThan(430);
    expect(hz).toBeLessThan(450);
    expect(rms).toBeGreaterThan(0.2);
    expect(rms).toBeLessThan(0.35);

    feed.close();
    expect(videoProducer!.closed).toBe(true);
    recv.close();
  });

  it('a kiosk whose video starts gets a keyframe at the next frame, even just after one; PLIs stay throttled to one per 300 ms', async () => {
    const feed = await EncodedFeed.create(router, { width: W, height: H, fps: FPS, maxKbps: 1500, preset: 'superfast', cname: 'avatar-test', onError: (e) => { throw e; } });
    const recv = await router.createDirectTransport();
    const video = await recv.consume({ producerId: feed.producers[0]!.id, rtpCapabilities: router.rtpCapabilities });
    const depack = new Depacketizer();
    video.on('rtp', (p) => depack.push(p));
    const ssrc = video.rtpParameters.encodings![0]!.ssrc!;
    const t0 = 3_000_000;
    for (let k = 0; k < 16; k++) {
      // frame 0 is a keyframe; frame 3, just after it, comes out another at once for a kiosk that starts;
      // a PLI at 5 (a lossy kiosk) waits for 300 ms after that one (frame 10 or 11)
      if (k === 3) feed.keyframeNow();
      if (k === 5) recv.sendRtcp(pli(1234, ssrc));
      feed.frame({ kind: 'frame', pts: k * 1920, index: k, width: W, height: H, i420: picture(k) } as unknown as AvatarFrame, t0 + k * 40);
      await sleep(40);
    }
    await sleep(200);
    const keyAt = depack.frames.map((f, k) => (f.au.includes(Buffer.of(0, 0, 0, 1, 0x65)) ? k : -1)).filter((k) => k >= 0);
    console.log(`[keyframes] at frames ${keyAt.join(', ')}; requests ${feed.stats().keyframeRequests}`);
    expect(depack.frames.length).toBe(16);
    expect(feed.stats().keyframeRequests).toBe(1);
    expect(keyAt.length).toBe(3);
    expect(keyAt.slice(0, 2)).toEqual([0, 3]);
    expect(keyAt[2]).toBeGreaterThanOrEqual(10);
    expect(keyAt[2]).toBeLessThanOrEqual(12);
    feed.close();
    recv.close();
  });

  it('a frame of another size is refused with a clear error, and the stream goes on', async () => {
    const errors: Error[] = [];
    const feed = await EncodedFeed.create(router, { width: W, height: H, fps: FPS, maxKbps: 1500, preset: 'superfast', cname: 'avatar-test', onError: (e) => errors.push(e) });
    const recv = await router.createDirectTransport();
    const video = await recv.consume({ producerId: feed.producers[0]!.id, rtpCapabilities: router.rtpCapabilities });
    const depack = new Depacketizer();
    video.on('rtp', (p) => depack.push(p));
    const t0 = 2_000_000;
    for (let k = 0; k < 6; k++) {
      if (k === 2) feed.frame({ kind: 'frame', pts: 0, index: 0, width: 64, height: 64, i420: new Uint8Array(64 * 64 * 1.5) } as unknown as AvatarFrame, t0 + k * 40);
      else feed.frame({ kind: 'frame', pts: k * 1920, index: k, width: W, height: H, i420: picture(k) } as unknown as AvatarFrame, t0 + k * 40);
      await sleep(40);
    }
    await sleep(200);
    expect(errors.map((e) => e.message)).toEqual([expect.stringMatching(/takes 256x320 I420 frames; a 64x64 frame .* was dropped/)]);
    expect(depack.frames.length).toBe(5);
    expect(feed.stats().framesRefused).toBe(1);
    expect(feed.stats().encoderRestarts).toBe(0);
    feed.close();
    recv.close();
  });
});
