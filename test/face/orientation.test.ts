/**
 * Photos as people take them (issue 15): a phone's JPEG stored sideways with its EXIF orientation
 * enrols upright (the same face, landmarks where the upright photo has them); a cut-out PNG's
 * transparency becomes white, not black. Real face detector, real JPEG/PNG codecs.
 */
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';
import { enrolPortrait } from '../../models/face/enrol.js';
import { decodeImage, type RgbaImage } from '../../models/face/image.js';
import { exifOrientation } from '../../models/face/orientation.js';
import { astronaut } from './images.js';

const OPTS = { minResolution: 256, expandRatio: 0.5 };

/** upright -> stored the way a camera with orientation `o` stores it (written here independently of the product's mapping) */
function stored(u: RgbaImage, o: 3 | 6 | 8 | 2): RgbaImage {
  const { width: W, height: H } = u;
  const swap = o === 6 || o === 8;
  const w = swap ? H : W;
  const h = swap ? W : H;
  const out = new Uint8Array(w * h * 4);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      // the upright pixel this stored pixel holds
      const [ux, uy] = o === 6 ? [W - 1 - y, x] : o === 8 ? [y, H - 1 - x] : o === 3 ? [W - 1 - x, H - 1 - y] : [W - 1 - x, y];
      out.set(u.rgba.subarray((uy * W + ux) * 4, (uy * W + ux) * 4 + 4), (y * w + x) * 4);
    }
  }
  return { width: w, height: h, rgba: out };
}

/** a JPEG of `img` with an APP1 Exif segment carrying `orientation` (little- or big-endian TIFF) */
function jpegWithOrientation(img: RgbaImage, orientation: number, bigEndian = false): Uint8Array {
  const enc = jpeg.encode({ data: Buffer.from(img.rgba), width: img.width, height: img.height }, 92).data;
  // a TIFF header and IFD0 with one SHORT entry: Orientation (0x0112)
  const tiff = Buffer.alloc(26);
  const u16 = (v: number, at: number) => (bigEndian ? tiff.writeUInt16BE(v, at) : tiff.writeUInt16LE(v, at));
  const u32 = (v: number, at: number) => (bigEndian ? tiff.writeUInt32BE(v, at) : tiff.writeUInt32LE(v, at));
  tiff.write(bigEndian ? 'MM' : 'II', 0, 'latin1');
  u16(42, 2);
  u32(8, 4);
  u16(1, 8);
  u16(0x0112, 10);
  u16(3, 12);
  u32(1, 14);
  u16(orientation, 18);
  const payload = Buffer.concat([Buffer.from('Exif\0\0', 'latin1'), tiff]);
  const app1 = Buffer.alloc(4);
  app1[0] = 0xff;
  app1[1] = 0xe1;
  app1.writeUInt16BE(payload.length + 2, 2);
  return new Uint8Array(Buffer.concat([enc.subarray(0, 2), app1, payload, enc.subarray(2)]));
}

describe('EXIF orientation and transparency', () => {
  it('reads the orientation from JPEG (either byte order) and PNG eXIf, 1 when there is none or it is broken', () => {
    const small = astronaut();
    expect(exifOrientation(jpegWithOrientation(small, 6), 'jpeg')).toBe(6);
    expect(exifOrientation(jpegWithOrientation(small, 8, true), 'jpeg')).toBe(8);
    const plain = jpeg.encode({ data: Buffer.from(small.rgba), width: small.width, height: small.height }, 80).data;
    expect(exifOrientation(new Uint8Array(plain), 'jpeg')).toBe(1);
    const broken = jpegWithOrientation(small, 6);
    broken[2 + 4 + 6] = 0x58; // the TIFF byte order mark spoiled
    expect(exifOrientation(broken, 'jpeg')).toBe(1);
    expect(exifOrientation(jpegWithOrientation(small, 42), 'jpeg')).toBe(1); // not an orientation
  });

  it('a phone photo stored sideways or upside down (orientations 6, 8, 3, and a mirrored 2) enrols upright, its face where the upright photo has it', async () => {
    const upright = astronaut();
    const ref = await enrolPortrait(jpegWithOrientation(upright, 1), OPTS);
    for (const o of [6, 8, 3, 2] as const) {
      const bytes = jpegWithOrientation(stored(upright, o), o);
      const decoded = decodeImage(bytes);
      expect([decoded.width, decoded.height], `orientation ${o}`).toEqual([upright.width, upright.height]);
      const p = await enrolPortrait(bytes, OPTS);
      const d = (a: { x: number; y: number }, b: { x: number; y: number }) => Math.hypot(a.x - b.x, a.y - b.y);
      const eyes = (q: typeof p) => ({ x: (q.landmarks.leftEye.outer.x + q.landmarks.rightEye.outer.x) / 2, y: (q.landmarks.leftEye.outer.y + q.landmarks.rightEye.outer.y) / 2 });
      console.log(`[orientation ${o}] roll ${p.landmarks.roll.toFixed(1)} deg (upright ${ref.landmarks.roll.toFixed(1)}); eyes ${d(eyes(p), eyes(ref)).toFixed(1)} px, mouth ${d(p.landmarks.mouth.upperOuter, ref.landmarks.mouth.upperOuter).toFixed(1)} px from the upright enrolment`);
      expect(Math.abs(p.landmarks.roll - ref.landmarks.roll)).toBeLessThan(3);
      expect(eyes(p).y).toBeLessThan(p.landmarks.mouth.upperOuter.y); // eyes above the mouth: upright
      // (JPEG blocks fall differently on a turned picture: a pixel or two)
      expect(d(eyes(p), eyes(ref))).toBeLessThan(6);
      expect(d(p.landmarks.mouth.upperOuter, ref.landmarks.mouth.upperOuter)).toBeLessThan(6);
    }
  }, 60_000);

  it("a cut-out PNG's transparent background becomes white (no dark fringe), its opaque pixels stay as they are", () => {
    const png = new PNG({ width: 8, height: 8 });
    for (let i = 0; i < 64; i++) {
      const inside = i % 8 >= 2 && i % 8 < 6 && i >> 3 >= 2 && i >> 3 < 6;
      png.data.set(inside ? [200, 40, 20, 255] : i % 2 ? [0, 0, 0, 0] : [10, 10, 10, 128], i * 4);
    }
    const img = decodeImage(new Uint8Array(PNG.sync.write(png)));
    const px = (x: number, y: number) => [...img.rgba.subarray((y * 8 + x) * 4, (y * 8 + x) * 4 + 4)];
    expect(px(3, 3)).toEqual([200, 40, 20, 255]);
    expect(px(1, 0)).toEqual([255, 255, 255, 255]);
    expect(px(0, 0)).toEqual([132, 132, 132, 255]); // 10 at alpha 128 over white
  });
});
