import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EnrolledPortrait, Point } from '../../models/face/PortraitTypes.js';
import { enrolPortrait, portraitCrop } from '../../models/face/enrol.js';
import { PortraitError } from '../../models/face/errors.js';
import { closeFaceMesh, type DetectedFace, detectFaces, faceMeshStats, loadFaceMesh } from '../../models/face/face-mesh.js';
import { encodePng, resizeRgba } from '../../models/face/image.js';
import { ASTRONAUT } from '../helpers/speech.js';
import { astronaut, astronautBytes, landmarkOverlayPng, makeImage, noiseBytes, pngHeaderOnly } from './images.js';

const OPTS = { minResolution: 512, expandRatio: 0.5 };
const DEBUG_PNG = '/tmp/face-enrol-astronaut-landmarks.png';

/** point-in-polygon by ray casting */
function inside(p: Point, poly: Point[]): boolean {
  let hit = false;
  for (let i = 0, j = poly.length - 1; i < poly.length; j = i++) {
    const a = poly[i]!, b = poly[j]!;
    if (a.y > p.y !== b.y > p.y && p.x < ((b.x - a.x) * (p.y - a.y)) / (b.y - a.y) + a.x) hit = !hit;
  }
  return hit;
}

async function codeOf(p: Promise<unknown>): Promise<{ code: string; message: string }> {
  const e = await p.then(() => undefined, (err: unknown) => err);
  expect(e).toBeInstanceOf(PortraitError);
  return { code: (e as PortraitError).code, message: (e as Error).message };
}

let faces: DetectedFace[];
let half: EnrolledPortrait; // expandRatio 0.5
let one: EnrolledPortrait; // expandRatio 1.0
let enrolMs = 0;

const networkCalls: string[] = [];

beforeAll(async () => {
  // the load must not reach the network: any global fetch during it is recorded and refused
  const realFetch = globalThis.fetch;
  globalThis.fetch = async (input: string | URL | Request) => {
    networkCalls.push(String(input instanceof Request ? input.url : input));
    throw new Error('network access during face mesh load');
  };
  try {
    await loadFaceMesh();
  } finally {
    globalThis.fetch = realFetch;
  }
  console.log(`face mesh load: ${faceMeshStats().loadMs.toFixed(0)} ms`);
  faces = await detectFaces(astronaut()); // first call also warms the kernels up
  const src = astronaut();
  const times: number[] = [];
  for (let i = 0; i < 3; i++) {
    const t = performance.now();
    await detectFaces(src);
    times.push(performance.now() - t);
  }
  console.log(`detect 512x512 (warm): ${times.map((t) => t.toFixed(0)).join(', ')} ms`);
  const t0 = performance.now();
  half = await enrolPortrait(ASTRONAUT, OPTS);
  enrolMs = performance.now() - t0;
  one = await enrolPortrait(astronautBytes(), { ...OPTS, expandRatio: 1.0 });
  console.log(`enrol (no cache): ${enrolMs.toFixed(0)} ms; face box ${JSON.stringify(faces[0]?.box)}; crop ${JSON.stringify(half.source.crop)}`);
  writeFileSync(DEBUG_PNG, landmarkOverlayPng(half, half.landmarks));
});

afterAll(async () => {
  await closeFaceMesh();
});

describe('detectFaces on the astronaut photo', () => {
  it('loaded the models once, offline', () => {
    expect(networkCalls).toEqual([]);
    expect(faceMeshStats().loads).toBe(1);
    expect(faceMeshStats().loadMs).toBeGreaterThan(0);
  });

  it('finds one confident face, about 83x102 px, left of centre near the top', () => {
    expect(faces).toHaveLength(1);
    const { box, score, mesh } = faces[0]!;
    expect(score).toBeGreaterThan(0.8);
    expect(mesh).toHaveLength(478 * 3);
    expect(box.width).toBeGreaterThan(75);
    expect(box.width).toBeLessThan(115);
    expect(box.height).toBeGreaterThan(90);
    expect(box.height).toBeLessThan(125);
    const cx = box.x + box.width / 2, cy = box.y + box.height / 2;
    expect(cx).toBeGreaterThan(190);
    expect(cx).toBeLessThan(256); // left of the image centre
    expect(cy).toBeGreaterThan(90);
    expect(cy).toBeLessThan(160); // upper third
  });
});

describe('enrolPortrait on the astronaut photo', () => {
  it('gives a 512x512 portrait cropped as a square inside the image', () => {
    expect([half.width, half.height, half.rgba.length]).toEqual([512, 512, 512 * 512 * 4]);
    const c = half.source.crop;
    expect(c.width).toBe(c.height);
    expect(c.x).toBeGreaterThanOrEqual(0);
    expect(c.y).toBeGreaterThanOrEqual(0);
    expect(c.x + c.width).toBeLessThanOrEqual(512);
    expect(c.y + c.height).toBeLessThanOrEqual(512);
    expect(half.source).toMatchObject({ width: 512, height: 512 });
    expect(half.id).toMatch(/^[0-9a-f]{64}$/);
    expect(one.id).not.toBe(half.id);
    expect(half.confidence).toBeGreaterThan(0.8);
  });

  it('places the landmarks in a face-like order', () => {
    const lm = half.landmarks;
    const m = lm.mouth;
    expect(lm.mesh).toHaveLength(478 * 3);
    // the subject's right corner is on the image's left
    expect(m.right.x).toBeLessThan(m.upperOuter.x);
    expect(m.left.x).toBeGreaterThan(m.upperOuter.x);
    expect(m.right.x).toBeLessThan(m.lowerOuter.x);
    expect(m.left.x).toBeGreaterThan(m.lowerOuter.x);
    // top to bottom: upper lip outer, upper inner, lower inner, lower outer
    expect(m.upperOuter.y).toBeLessThan(m.upperInner.y);
    expect(m.upperInner.y).toBeLessThanOrEqual(m.lowerInner.y);
    expect(m.lowerInner.y).toBeLessThan(m.lowerOuter.y);
    for (const e of [lm.leftEye, lm.rightEye]) {
      expect(e.upper.y).toBeLessThan(e.lower.y);
      expect(Math.max(e.upper.y, e.lower.y)).toBeLessThan(lm.noseTip.y);
    }
    expect(lm.rightEye.outer.x).toBeLessThan(lm.rightEye.inner.x);
    expect(lm.rightEye.inner.x).toBeLessThan(lm.leftEye.inner.x);
    expect(lm.leftEye.inner.x).toBeLessThan(lm.leftEye.outer.x);
    expect(lm.noseTip.y).toBeLessThan(m.upperOuter.y);
    expect(m.lowerOuter.y).toBeLessThan(lm.chin.y);
    for (const p of [...m.outerContour, lm.noseTip]) expect(inside(p, lm.faceOval)).toBe(true);
    expect(m.outerContour).toHaveLength(20);
    expect(m.innerContour).toHaveLength(20);
    expect(Math.abs(lm.roll)).toBeLessThan(15); // she holds her head nearly level
    // the face fills about 1 / (1 + 2 * 0.5) of the crop
    expect(lm.faceBox.height / 512).toBeGreaterThan(0.4);
    expect(lm.faceBox.height / 512).toBeLessThan(0.6);
  });

  it('agrees with the source mesh mapped into the crop (within 4 portrait px on the mouth)', () => {
    const src = faces[0]!.mesh;
    const { crop } = half.source;
    const s = 512 / crop.width;
    for (const i of [61, 291, 0, 13, 14, 17, 33, 263]) {
      const x = (src[i * 3]! - crop.x) * s, y = (src[i * 3 + 1]! - crop.y) * s;
      expect(Math.hypot(x - half.landmarks.mesh[i * 3]!, y - half.landmarks.mesh[i * 3 + 1]!)).toBeLessThan(4);
    }
  });

  it('scales the face by the expected factor between expandRatio 0.5 and 1.0', () => {
    const expected = (1 + 2 * 1.0) / (1 + 2 * 0.5); // the crop side grows with 1 + 2 * ratio
    const width = half.landmarks.faceBox.width / one.landmarks.faceBox.width;
    const mouth = (half.landmarks.mouth.left.x - half.landmarks.mouth.right.x) / (one.landmarks.mouth.left.x - one.landmarks.mouth.right.x);
    for (const r of [width, mouth]) {
      expect(r).toBeGreaterThan(expected * 0.85);
      expect(r).toBeLessThan(expected * 1.15);
    }
  });
});

describe('portraitCrop', () => {
  it('moves the square inside the image and shrinks it only when the image is too small', () => {
    const face = { x: 0, y: 10, width: 40, height: 50 };
    expect(portraitCrop(face, 400, 300, 0.5)).toEqual({ x: 0, y: 0, width: 100, height: 100 });
    expect(portraitCrop({ x: 350, y: 240, width: 40, height: 50 }, 400, 300, 0.5)).toEqual({ x: 300, y: 200, width: 100, height: 100 });
    expect(portraitCrop(face, 400, 80, 0.5)).toEqual({ x: 0, y: 0, width: 80, height: 80 });
  });
});

describe('enrolment cache', () => {
  const dir = mkdtempSync(join(tmpdir(), 'portrait-cache-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('loads the second call from disk without the detector, identical', async () => {
    const first = await enrolPortrait(ASTRONAUT, { ...OPTS, cacheDir: dir });
    expect(statSync(join(dir, `${first.id}.json`)).size).toBeGreaterThan(0);
    expect(statSync(join(dir, `${first.id}.rgba`)).size).toBe(512 * 512 * 4);
    const detections = faceMeshStats().detections;
    const t = performance.now();
    const second = await enrolPortrait(ASTRONAUT, { ...OPTS, cacheDir: dir });
    const cachedMs = performance.now() - t;
    console.log(`enrol from cache: ${cachedMs.toFixed(1)} ms (uncached ${enrolMs.toFixed(0)} ms)`);
    expect(faceMeshStats().detections).toBe(detections);
    expect(cachedMs).toBeLessThan(enrolMs);
    expect(second.id).toBe(first.id);
    expect(Buffer.from(second.rgba).equals(Buffer.from(first.rgba))).toBe(true);
    expect(Array.from(second.landmarks.mesh)).toEqual(Array.from(first.landmarks.mesh));
    expect(second.landmarks).toEqual(first.landmarks);
    expect(second.source).toEqual(first.source);
    // and the uncached enrolment of the same bytes gives the same pixels
    expect(Buffer.from(first.rgba).equals(Buffer.from(half.rgba))).toBe(true);
  });

  it('ignores and rewrites a corrupt entry', async () => {
    const id = half.id;
    writeFileSync(join(dir, `${id}.json`), '{"version": 2, "id": "tru');
    writeFileSync(join(dir, `${id}.rgba`), noiseBytes(100));
    const detections = faceMeshStats().detections;
    const again = await enrolPortrait(ASTRONAUT, { ...OPTS, cacheDir: dir });
    expect(faceMeshStats().detections).toBeGreaterThan(detections);
    expect(Buffer.from(again.rgba).equals(Buffer.from(half.rgba))).toBe(true);
    expect(JSON.parse(readFileSync(join(dir, `${id}.json`), 'utf8')).id).toBe(id);
    expect(statSync(join(dir, `${id}.rgba`)).size).toBe(512 * 512 * 4);
    // a pixel file altered behind the JSON's back is caught by its hash
    const px = readFileSync(join(dir, `${id}.rgba`));
    px[12345] ^= 0xff;
    writeFileSync(join(dir, `${id}.rgba`), px);
    const d2 = faceMeshStats().detections;
    await enrolPortrait(ASTRONAUT, { ...OPTS, cacheDir: dir });
    expect(faceMeshStats().detections).toBeGreaterThan(d2);
    expect(readFileSync(join(dir, `${id}.rgba`)).equals(Buffer.from(half.rgba))).toBe(true);
  });
});

describe('enrolPortrait errors', () => {
  const dir = mkdtempSync(join(tmpdir(), 'portrait-bad-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('a text file is not-an-image', async () => {
    const path = join(dir, 'notes.png'); // the name says PNG; the bytes do not
    writeFileSync(path, 'this is not a picture\n');
    expect(await codeOf(enrolPortrait(path, OPTS))).toEqual({ code: 'not-an-image', message: expect.stringMatching(/expected a PNG or JPEG image/) });
    expect((await codeOf(enrolPortrait(noiseBytes(10_000), OPTS))).code).toBe('not-an-image');
  });

  it('a truncated PNG is decode-failed', async () => {
    const e = await codeOf(enrolPortrait(astronautBytes().subarray(0, 5000), OPTS));
    expect(e.code).toBe('decode-failed');
    expect(e.message).toMatch(/could not decode the PNG image/);
  });

  it('an oversized header is image-too-large, an icon is image-too-small', async () => {
    expect((await codeOf(enrolPortrait(pngHeaderOnly(20_000, 3_000), OPTS))).code).toBe('image-too-large');
    const icon = encodePng(makeImage(32, 32, () => [200, 150, 120]));
    const e = await codeOf(enrolPortrait(icon, OPTS));
    expect(e.code).toBe('image-too-small');
    expect(e.message).toMatch(/32x32/);
  });

  it('images without a face are no-face', async () => {
    const src = astronaut();
    const rand = noiseBytes(256 * 256 * 3, 7);
    const noFace = [
      makeImage(256, 256, () => [128, 128, 128]),
      makeImage(256, 256, (x, y) => {
        const o = (y * 256 + x) * 3;
        return [rand[o]!, rand[o + 1]!, rand[o + 2]!];
      }),
      // the astronaut photo below her chin (the face ends near y = 175)
      resizeRgba(src, { x: 0, y: 240, width: 512, height: 272 }, 512, 272),
    ];
    for (const img of noFace) {
      expect(await codeOf(enrolPortrait(encodePng(img), OPTS))).toEqual({ code: 'no-face', message: 'no face found in the image' });
    }
  });

  it('a face under 48 px is face-too-small', async () => {
    const small = resizeRgba(astronaut(), { x: 0, y: 0, width: 512, height: 512 }, 180, 180); // face ~33x36 px
    const e = await codeOf(enrolPortrait(encodePng(small), OPTS));
    expect(e.code).toBe('face-too-small');
    expect(e.message).toMatch(/at least 48 px/);
  });

  it('bad options are a RangeError that names the option', async () => {
    await expect(enrolPortrait(ASTRONAUT, { minResolution: 511, expandRatio: 0.5 })).rejects.toThrow(/minResolution must be an even/);
    await expect(enrolPortrait(ASTRONAUT, { minResolution: 512, expandRatio: -1 })).rejects.toThrow(RangeError);
  });
});

describe('enrolPortrait on a missing file', () => {
  it('says which file is missing, as a PortraitError with code not-found', async () => {
    const err = await enrolPortrait('/nonexistent/portrait.png', { minResolution: 512, expandRatio: 0.5 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PortraitError);
    expect((err as PortraitError).code).toBe('not-found');
    expect((err as Error).message).toMatch(/no such image file "\/nonexistent\/portrait.png"/);
  });
});
