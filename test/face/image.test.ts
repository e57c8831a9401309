import jpeg from 'jpeg-js';
import { describe, expect, it } from 'vitest';
import { PortraitError } from '../../models/face/errors.js';
import { decodeImage, encodePng, readImageSize, resizeRgba, sniffFormat } from '../../models/face/image.js';
import { astronaut, astronautBytes, makeImage, noiseBytes, pngHeaderOnly } from './images.js';

function codeOf(fn: () => unknown): { code: string; message: string } {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(PortraitError);
    return { code: (e as PortraitError).code, message: (e as Error).message };
  }
  throw new Error('expected a PortraitError');
}

describe('decodeImage', () => {
  it('decodes the astronaut PNG to 512x512 RGBA', () => {
    const img = astronaut();
    expect([img.width, img.height, img.rgba.length]).toEqual([512, 512, 512 * 512 * 4]);
    // a photograph: many distinct colours, all opaque
    const colours = new Set<number>();
    for (let o = 0; o < img.rgba.length; o += 4) colours.add((img.rgba[o]! << 16) | (img.rgba[o + 1]! << 8) | img.rgba[o + 2]!);
    expect(colours.size).toBeGreaterThan(10_000);
    expect(img.rgba.filter((_, i) => i % 4 === 3).every((a) => a === 255)).toBe(true);
  });

  it('decodes JPEG, found by its magic number, close to the pixels it was made from', () => {
    const src = astronaut();
    const bytes = jpeg.encode({ width: src.width, height: src.height, data: src.rgba }, 95).data;
    expect(sniffFormat(bytes)).toBe('jpeg');
    expect(readImageSize(bytes, 'jpeg')).toEqual({ width: 512, height: 512 });
    const img = decodeImage(bytes);
    let diff = 0;
    for (let i = 0; i < img.rgba.length; i++) diff += Math.abs(img.rgba[i]! - src.rgba[i]!);
    expect(diff / img.rgba.length).toBeLessThan(4);
  });

  it('round-trips through encodePng exactly', () => {
    const img = makeImage(37, 21, (x, y) => [x * 7, y * 11, (x * y) & 255]);
    const back = decodeImage(encodePng(img));
    expect([back.width, back.height]).toEqual([37, 21]);
    expect(Buffer.from(back.rgba).equals(Buffer.from(img.rgba))).toBe(true);
  });

  it('rejects text and random bytes as not-an-image', () => {
    for (const bytes of [Buffer.from('hello, this is a text file\n'), noiseBytes(4096)]) {
      const e = codeOf(() => decodeImage(bytes));
      expect(e.code).toBe('not-an-image');
      expect(e.message).toMatch(/expected a PNG or JPEG image/);
    }
  });

  it('reports a truncated PNG or JPEG as decode-failed with the reason', () => {
    const png = astronautBytes();
    const cutPng = codeOf(() => decodeImage(png.subarray(0, 1000)));
    expect(cutPng.code).toBe('decode-failed');
    expect(cutPng.message).toMatch(/could not decode the PNG image: \S+/);
    expect(codeOf(() => decodeImage(png.subarray(0, 20))).message).toMatch(/truncated/);
    const src = astronaut();
    const jpg = jpeg.encode({ width: src.width, height: src.height, data: src.rgba }, 90).data;
    const cutJpg = codeOf(() => decodeImage(jpg.subarray(0, jpg.length >> 1)));
    expect(cutJpg.code).toBe('decode-failed');
    expect(cutJpg.message).toMatch(/could not decode the JPEG image: \S+/);
    expect(codeOf(() => decodeImage(jpg.subarray(0, 100))).message).toMatch(/no frame header/);
  });

  it('refuses an oversized image from its header, before decoding', () => {
    const e = codeOf(() => decodeImage(pngHeaderOnly(10_000, 10_000)));
    expect(e.code).toBe('image-too-large');
    expect(e.message).toMatch(/10000x10000 = 100000000 pixels, more than the limit of 40000000/);
    // and the byte limit
    const big = codeOf(() => decodeImage(astronautBytes(), { maxBytes: 1000 }));
    expect(big.code).toBe('image-too-large');
    expect(big.message).toMatch(/more than the limit of 1000 bytes/);
    // a header declaring an empty image
    expect(codeOf(() => decodeImage(pngHeaderOnly(0, 5))).code).toBe('decode-failed');
  });
});

describe('resizeRgba', () => {
  it('averages areas when shrinking (a 1-px checkerboard becomes flat grey, no aliasing)', () => {
    const checker = makeImage(64, 64, (x, y) => ((x + y) & 1 ? [255, 255, 255] : [0, 0, 0]));
    const out = resizeRgba(checker, { x: 0, y: 0, width: 64, height: 64 }, 21, 21); // 3.05x, not a whole factor
    for (let o = 0; o < out.rgba.length; o += 4) expect(Math.abs(out.rgba[o]! - 127.5)).toBeLessThan(20);
  });

  it('interpolates when enlarging: a step becomes a monotonic ramp', () => {
    const step = makeImage(4, 1, (x) => (x < 2 ? [0, 0, 0] : [200, 200, 200]));
    const out = resizeRgba(step, { x: 0, y: 0, width: 4, height: 1 }, 16, 1);
    const row = Array.from({ length: 16 }, (_, i) => out.rgba[i * 4]!);
    for (let i = 1; i < 16; i++) expect(row[i]!).toBeGreaterThanOrEqual(row[i - 1]!);
    expect(row[0]).toBe(0);
    expect(row[15]).toBe(200);
    expect(row.filter((v) => v > 0 && v < 200).length).toBeGreaterThanOrEqual(2);
  });

  it('copies pixels unchanged at scale 1 and crops the box asked for', () => {
    const img = makeImage(40, 30, (x, y) => [x * 6, y * 8, 100]);
    const out = resizeRgba(img, { x: 10, y: 5, width: 20, height: 15 }, 20, 15);
    for (let y = 0; y < 15; y++) {
      for (let x = 0; x < 20; x++) {
        const o = (y * 20 + x) * 4;
        expect([out.rgba[o], out.rgba[o + 1]]).toEqual([(x + 10) * 6, (y + 5) * 8]);
      }
    }
  });

  it('rejects an empty output or source box', () => {
    const img = makeImage(8, 8, () => [1, 2, 3]);
    expect(() => resizeRgba(img, { x: 0, y: 0, width: 8, height: 8 }, 0, 4)).toThrow(RangeError);
    expect(() => resizeRgba(img, { x: 0, y: 0, width: 0, height: 8 }, 4, 4)).toThrow(/positive size/);
  });
});
