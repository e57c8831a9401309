import { describe, expect, it } from 'vitest';
import { RtpWriter, asksForKeyframe, h264Payloads, hasIdr, mod32, splitAnnexB } from '../../server/media/rtp-packets.js';

function nal(type: number, length: number, fill = 0x55): Uint8Array {
  const n = new Uint8Array(length).fill(fill);
  n[0] = 0x60 | type; // nal_ref_idc 3
  return n;
}

function annexB(nals: Uint8Array[], fourByte = true): Uint8Array {
  const parts: number[] = [];
  for (const n of nals) parts.push(...(fourByte ? [0, 0, 0, 1] : [0, 0, 1]), ...n);
  return Uint8Array.from(parts);
}

/** Rebuilds NAL units from RTP payloads (single NAL units and FU-A), as a receiver does. */
function depacketize(payloads: Uint8Array[]): Uint8Array[] {
  const out: Uint8Array[] = [];
  let fu: number[] | undefined;
  for (const p of payloads) {
    const type = p[0]! & 0x1f;
    if (type !== 28) {
      out.push(p);
      continue;
    }
    const start = (p[1]! & 0x80) !== 0;
    const end = (p[1]! & 0x40) !== 0;
    if (start) fu = [(p[0]! & 0xe0) | (p[1]! & 0x1f)];
    fu!.push(...p.subarray(2));
    if (end) {
      out.push(Uint8Array.from(fu!));
      fu = undefined;
    }
  }
  return out;
}

describe('RtpWriter', () => {
  it('writes version 2, the payload type, marker, sequence, timestamp and SSRC', () => {
    const w = new RtpWriter(0xdeadbeef, 102, 0xfffe);
    const a = w.packet(Uint8Array.of(1, 2, 3), 0x1_0000_0005, false);
    const b = w.packet(Uint8Array.of(4), -1, true);
    const c = w.packet(Uint8Array.of(5), 7, false);
    expect(a[0]).toBe(0x80);
    expect(a[1]).toBe(102);
    expect(b[1]).toBe(0x80 | 102);
    expect([a.readUInt16BE(2), b.readUInt16BE(2), c.readUInt16BE(2)]).toEqual([0xfffe, 0xffff, 0]);
    expect(a.readUInt32BE(4)).toBe(5);
    expect(b.readUInt32BE(4)).toBe(0xffffffff);
    expect(a.readUInt32BE(8)).toBe(0xdeadbeef);
    expect([...a.subarray(12)]).toEqual([1, 2, 3]);
    expect(mod32(2 ** 32 + 10)).toBe(10);
  });

  it('marks only the last packet of a frame', () => {
    const w = new RtpWriter(1, 96, 0);
    const ps = w.frame([Uint8Array.of(1), Uint8Array.of(2), Uint8Array.of(3)], 9000);
    expect(ps.map((p) => p[1]! >> 7)).toEqual([0, 0, 1]);
    expect(ps.map((p) => p.readUInt32BE(4))).toEqual([9000, 9000, 9000]);
  });

  it('refuses an SSRC or payload type out of range', () => {
    expect(() => new RtpWriter(-1, 96)).toThrow(/ssrc/);
    expect(() => new RtpWriter(1, 128)).toThrow(/payload type/);
  });
});

describe('H.264 packetization (RFC 6184, mode 1)', () => {
  it('splits Annex B on 3- and 4-byte start codes, without the start codes', () => {
    const units = [nal(7, 10), nal(8, 4), nal(5, 30)];
    for (const four of [true, false]) {
      const got = splitAnnexB(annexB(units, four));
      expect(got.map((u) => [...u])).toEqual(units.map((u) => [...u]));
    }
  });

  it('sends small units whole, cuts large ones into FU-A fragments, leaves out SEI, and a receiver rebuilds them', () => {
    const units = [nal(7, 12), nal(8, 5), nal(6, 700), nal(5, 5000, 0x33)];
    const payloads = h264Payloads(annexB(units), 1100);
    expect(payloads.every((p) => p.length <= 1100)).toBe(true);
    expect(payloads[0]).toEqual(units[0]);
    expect(payloads[1]).toEqual(units[1]);
    const fragments = payloads.slice(2);
    expect(fragments.length).toBe(Math.ceil((5000 - 1) / 1098));
    expect(fragments.every((p) => (p[0]! & 0x1f) === 28)).toBe(true);
    expect(fragments[0]![1]! & 0xc0).toBe(0x80);
    expect(fragments.at(-1)![1]! & 0xc0).toBe(0x40);
    expect(depacketize(payloads).map((u) => [...u])).toEqual([units[0], units[1], units[3]].map((u) => [...u!]));
    expect(hasIdr(annexB(units))).toBe(true);
    expect(hasIdr(annexB([nal(1, 40)]))).toBe(false);
  });
});

describe('keyframe requests in RTCP', () => {
  const pli = (media: number): Buffer => {
    const b = Buffer.alloc(12);
    b[0] = 0x81;
    b[1] = 206;
    b.writeUInt16BE(2, 2);
    b.writeUInt32BE(1, 4);
    b.writeUInt32BE(media, 8);
    return b;
  };
  const fir = (media: number): Buffer => {
    const b = Buffer.alloc(20);
    b[0] = 0x84;
    b[1] = 206;
    b.writeUInt16BE(4, 2);
    b.writeUInt32BE(1, 4);
    b.writeUInt32BE(0, 8);
    b.writeUInt32BE(media, 12);
    return b;
  };
  const receiverReport = (): Buffer => {
    const b = Buffer.alloc(8);
    b[0] = 0x80;
    b[1] = 201;
    b.writeUInt16BE(1, 2);
    return b;
  };

  it('finds a PLI or FIR for the SSRC, also inside a compound packet, and nothing for another SSRC', () => {
    expect(asksForKeyframe(pli(42), 42)).toBe(true);
    expect(asksForKeyframe(fir(42), 42)).toBe(true);
    expect(asksForKeyframe(Buffer.concat([receiverReport(), pli(42)]), 42)).toBe(true);
    expect(asksForKeyframe(pli(41), 42)).toBe(false);
    expect(asksForKeyframe(receiverReport(), 42)).toBe(false);
  });

  it('reads nothing from a malformed packet (wrong version, length past the end)', () => {
    const bad = pli(42);
    bad[0] = 0x01;
    expect(asksForKeyframe(bad, 42)).toBe(false);
    const long = pli(42);
    long.writeUInt16BE(9, 2);
    expect(asksForKeyframe(long, 42)).toBe(false);
    expect(asksForKeyframe(new Uint8Array(3), 42)).toBe(false);
  });
});
