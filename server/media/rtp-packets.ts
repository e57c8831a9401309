/**
 * RTP for the encoder path (server/media/encoded-feed.ts): the fixed RTP header (RFC 3550), H.264
 * access units cut into RTP payloads (RFC 6184, packetization-mode 1: a NAL unit per packet, or
 * FU-A fragments when it is larger), and keyframe requests (PLI, FIR) found in the RTCP the router
 * sends back. Pure: no sockets, no clocks.
 */

/** RTP payload bytes per packet: a 1200-byte packet after mediasoup adds its header extensions and SRTP */
export const MAX_RTP_PAYLOAD = 1100;

const NAL_SEI = 6;
const NAL_FU_A = 28;

/** Writes RTP packets of one stream: its SSRC and payload type, sequence numbers in order. */
export class RtpWriter {
  readonly ssrc: number;
  readonly payloadType: number;
  private seq: number;

  constructor(ssrc: number, payloadType: number, firstSeq = Math.floor(Math.random() * 0x10000)) {
    if (!Number.isInteger(ssrc) || ssrc < 0 || ssrc > 0xffffffff) throw new RangeError(`RtpWriter: ssrc ${ssrc} is not a 32-bit unsigned integer`);
    if (!Number.isInteger(payloadType) || payloadType < 0 || payloadType > 127) throw new RangeError(`RtpWriter: payload type ${payloadType} is not 0-127`);
    this.ssrc = ssrc;
    this.payloadType = payloadType;
    this.seq = firstSeq & 0xffff;
  }

  /** One packet: `timestamp` is taken modulo 2^32; `marker` ends a video frame. */
  packet(payload: Uint8Array, timestamp: number, marker: boolean): Buffer {
    const b = Buffer.allocUnsafe(12 + payload.length);
    b[0] = 0x80; // version 2, no padding, no extension, no CSRC
    b[1] = (marker ? 0x80 : 0) | this.payloadType;
    b.writeUInt16BE(this.seq, 2);
    b.writeUInt32BE(mod32(timestamp), 4);
    b.writeUInt32BE(this.ssrc, 8);
    b.set(payload, 12);
    this.seq = (this.seq + 1) & 0xffff;
    return b;
  }

  /** Packets of one video frame: every payload at the frame's timestamp, the marker on the last. */
  frame(payloads: Uint8Array[], timestamp: number): Buffer[] {
    return payloads.map((p, i) => this.packet(p, timestamp, i === payloads.length - 1));
  }
}

export function mod32(n: number): number {
  const m = Math.round(n) % 0x1_0000_0000;
  return m < 0 ? m + 0x1_0000_0000 : m;
}

/** The NAL units of an Annex B byte stream (00 00 01 or 00 00 00 01 start codes), start codes removed. */
export function splitAnnexB(stream: Uint8Array): Uint8Array[] {
  const starts: { at: number; len: number }[] = [];
  for (let i = 0; i + 2 < stream.length; i++) {
    if (stream[i] === 0 && stream[i + 1] === 0 && stream[i + 2] === 1) {
      starts.push({ at: i, len: 3 });
      i += 2;
    }
  }
  const nals: Uint8Array[] = [];
  for (let k = 0; k < starts.length; k++) {
    const begin = starts[k]!.at + starts[k]!.len;
    let end = k + 1 < starts.length ? starts[k + 1]!.at : stream.length;
    // a 4-byte start code is a zero byte then a 3-byte one: that zero belongs to no NAL unit
    while (end > begin && stream[end - 1] === 0 && k + 1 < starts.length) end -= 1;
    if (end > begin) nals.push(stream.subarray(begin, end));
  }
  return nals;
}

/**
 * RTP payloads of one H.264 access unit (packetization-mode 1). SEI units are left out (x264's
 * version banner; nothing a browser needs); a unit over `maxPayload` bytes becomes FU-A fragments.
 */
export function h264Payloads(accessUnit: Uint8Array, maxPayload = MAX_RTP_PAYLOAD): Uint8Array[] {
  if (maxPayload < 3) throw new RangeError('h264Payloads: maxPayload must be at least 3 bytes');
  const out: Uint8Array[] = [];
  for (const nal of splitAnnexB(accessUnit)) {
    const header = nal[0]!;
    if ((header & 0x1f) === NAL_SEI) continue;
    if (nal.length <= maxPayload) {
      out.push(nal);
      continue;
    }
    const indicator = (header & 0xe0) | NAL_FU_A;
    const type = header & 0x1f;
    const chunk = maxPayload - 2;
    for (let at = 1; at < nal.length; at += chunk) {
      const end = Math.min(nal.length, at + chunk);
      const p = new Uint8Array(2 + end - at);
      p[0] = indicator;
      p[1] = (at === 1 ? 0x80 : 0) | (end === nal.length ? 0x40 : 0) | type;
      p.set(nal.subarray(at, end), 2);
      out.push(p);
    }
  }
  return out;
}

/** Whether an access unit holds an IDR slice (a keyframe a new receiver can start from). */
export function hasIdr(accessUnit: Uint8Array): boolean {
  return splitAnnexB(accessUnit).some((n) => (n[0]! & 0x1f) === 5);
}

/**
 * Whether an RTCP (compound) packet asks `ssrc` for a keyframe: a PLI (RFC 4585, PT 206 FMT 1)
 * naming it as media source, or a FIR (RFC 5104, PT 206 FMT 4) with an entry for it. A malformed
 * packet asks for nothing.
 */
export function asksForKeyframe(rtcp: Uint8Array, ssrc: number): boolean {
  const view = new DataView(rtcp.buffer, rtcp.byteOffset, rtcp.byteLength);
  let at = 0;
  while (at + 4 <= rtcp.length) {
    const first = rtcp[at]!;
    if (first >> 6 !== 2) return false;
    const fmt = first & 0x1f;
    const pt = rtcp[at + 1]!;
    const len = (view.getUint16(at + 2) + 1) * 4;
    if (at + len > rtcp.length) return false;
    if (pt === 206 && len >= 12) {
      if (fmt === 1 && view.getUint32(at + 8) === ssrc) return true;
      if (fmt === 4) for (let e = at + 12; e + 8 <= at + len; e += 8) if (view.getUint32(e) === ssrc) return true;
    }
    at += len;
  }
  return false;
}
