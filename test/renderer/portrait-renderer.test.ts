import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPortraitRenderer, type PortraitRenderer } from '../../models/portrait-renderer/renderer.js';
import { planesToI420, rgbaToYuvPlanes } from '../../models/portrait-renderer/colour.js';
import { i420Size, REST_POSE, type MotionParams } from '../../pipeline/records.js';
import type { Box, EnrolledPortrait } from '../../models/face/PortraitTypes.js';
import { syntheticPortrait } from '../helpers/synthetic-portrait.js';

const W = 512, H = 512;
let portrait: EnrolledPortrait;
let r: PortraitRenderer;
let rest: Uint8Array;

const pose = (p: Partial<MotionParams>): MotionParams => ({ ...REST_POSE, ...p });

/** Y values of a box (portrait px). */
function yBox(f: Uint8Array, b: Box): number[] {
  const out: number[] = [];
  for (let y = Math.round(b.y); y < Math.round(b.y + b.height); y++) {
    for (let x = Math.round(b.x); x < Math.round(b.x + b.width); x++) out.push(f[y * W + x]!);
  }
  return out;
}
const mean = (a: number[]) => a.reduce((s, x) => s + x, 0) / a.length;
const meanAbsDiff = (a: number[], b: number[]) => mean(a.map((x, i) => Math.abs(x - b[i]!)));

/** Bytes of the frame outside the ROI (Y, U and V planes) that differ between a and b. */
function diffOutsideRoi(a: Uint8Array, b: Uint8Array, roi: Box): number {
  let n = 0;
  const planes = [
    { off: 0, w: W, h: H, s: 1 },
    { off: W * H, w: W / 2, h: H / 2, s: 2 },
    { off: W * H + (W / 2) * (H / 2), w: W / 2, h: H / 2, s: 2 },
  ];
  for (const p of planes) {
    for (let y = 0; y < p.h; y++) {
      for (let x = 0; x < p.w; x++) {
        const inRoi = x * p.s >= roi.x && x * p.s < roi.x + roi.width && y * p.s >= roi.y && y * p.s < roi.y + roi.height;
        if (!inRoi && a[p.off + y * p.w + x] !== b[p.off + y * p.w + x]) n++;
      }
    }
  }
  return n;
}

function psnrY(a: Uint8Array, b: Uint8Array): number {
  let se = 0;
  for (let i = 0; i < W * H; i++) se += (a[i]! - b[i]!) ** 2;
  return se === 0 ? Infinity : 10 * Math.log10((255 * 255) / (se / (W * H)));
}

beforeAll(async () => {
  portrait = syntheticPortrait();
  r = await createPortraitRenderer(portrait);
  rest = await r.render(REST_POSE);
});
afterAll(async () => {
  await r?.close();
});

describe('portrait renderer on a synthetic face', () => {
  it('renders a full I420 frame of the portrait size', async () => {
    expect(r.width).toBe(W);
    expect(r.height).toBe(H);
    expect(rest).toBeInstanceOf(Uint8Array);
    expect(rest.length).toBe(i420Size(W, H));
  });

  it('exposes an even-aligned ROI that contains the face and is smaller than the frame', () => {
    const { roi } = r;
    for (const v of [roi.x, roi.y, roi.width, roi.height]) expect(v % 2).toBe(0);
    const fb = portrait.landmarks.faceBox;
    expect(roi.x).toBeLessThanOrEqual(fb.x);
    expect(roi.y).toBeLessThanOrEqual(fb.y);
    expect(roi.x + roi.width).toBeGreaterThanOrEqual(fb.x + fb.width);
    expect(roi.y + roi.height).toBeGreaterThanOrEqual(fb.y + fb.height);
    expect(roi.width * roi.height).toBeLessThan(0.5 * W * H);
  });

  it('REST_POSE reproduces the portrait converted to I420 (PSNR >= 38 dB on Y)', () => {
    const ref = planesToI420(rgbaToYuvPlanes(portrait.rgba, W, H));
    expect(psnrY(rest, ref)).toBeGreaterThanOrEqual(38);
    // outside the ROI the frame is the portrait itself, byte for byte
    expect(diffOutsideRoi(rest, ref, r.roi)).toBe(0);
  });

  it('never changes a pixel outside the ROI, whatever the parameters', async () => {
    const extremes: Partial<MotionParams>[] = [
      { jawOpen: 1 }, { lipWidth: 1 }, { lipWidth: -1 }, { lipRound: 1 }, { blinkLeft: 1, blinkRight: 1 },
      { headYaw: 5 }, { headYaw: -5 }, { headPitch: 5 }, { headPitch: -5 }, { headRoll: 5 }, { headRoll: -5 },
      { breath: 1 }, { breath: -1 },
      { jawOpen: 1, lipWidth: 1, blinkLeft: 1, headYaw: 5, headPitch: -5, headRoll: 5, breath: 1 },
    ];
    for (const p of extremes) {
      const f = await r.render(pose(p));
      expect(diffOutsideRoi(f, rest, r.roi), JSON.stringify(p)).toBe(0);
    }
  });

  it('jawOpen = 1 darkens the region between the lips by 30+ levels; jawOpen = 0 does not', async () => {
    const m = portrait.landmarks.mouth;
    const a = (m.left.x - m.right.x) / 2;
    // the band just below the closed lip seam, inner half of the mouth width
    const between: Box = { x: m.right.x + 0.5 * a, y: m.upperInner.y + 1, width: a, height: 0.3 * a };
    const restY = mean(yBox(rest, between));
    const open = await r.render(pose({ jawOpen: 1 }));
    expect(restY - mean(yBox(open, between))).toBeGreaterThanOrEqual(30);
    const closed = await r.render(pose({ jawOpen: 0, headYaw: 0 }));
    expect(Math.abs(restY - mean(yBox(closed, between)))).toBeLessThan(1);
  });

  it('a half-open jaw opens less than a fully open one (monotonic)', async () => {
    const m = portrait.landmarks.mouth;
    const col: Box = { x: (m.left.x + m.right.x) / 2 - 4, y: m.upperOuter.y - 10, width: 8, height: 80 };
    const dark = (f: Uint8Array) => yBox(f, col).filter((y) => y < 45).length;
    const d0 = dark(rest), d5 = dark(await r.render(pose({ jawOpen: 0.5 }))), d1 = dark(await r.render(pose({ jawOpen: 1 })));
    expect(d5).toBeGreaterThan(d0);
    expect(d1).toBeGreaterThan(d5);
  });

  it('lipBite = 1 (f, v) shows the upper teeth resting on the lower lip: teeth, no dark cavity; lipPress wins over it', async () => {
    const m = portrait.landmarks.mouth;
    const a = (m.left.x - m.right.x) / 2;
    const col: Box = { x: Math.round((m.left.x + m.right.x) / 2) - 2, y: Math.round(m.upperOuter.y - 0.2 * a), width: 4, height: Math.round(0.8 * a) };
    const teeth = (f: Uint8Array) => yBox(f, col).filter((y) => y >= 180).length;
    const dark = (f: Uint8Array) => yBox(f, col).filter((y) => y < 45).length;
    const bite = await r.render(pose({ lipBite: 1 }));
    const open = await r.render(pose({ jawOpen: 0.5 }));
    expect(teeth(rest)).toBe(0);
    expect(teeth(bite)).toBeGreaterThanOrEqual(8); // 2+ rows of the 4-px column
    expect(dark(bite)).toBe(0);
    expect(dark(open)).toBeGreaterThan(8); // an opening jaw shows the cavity below the teeth
    // the lower lip stays where it was (only the upper lip moves off the teeth)
    const below: Box = { x: col.x, y: Math.round(m.lowerInner.y + 2), width: 4, height: Math.round(0.3 * a) };
    expect(meanAbsDiff(yBox(bite, below), yBox(rest, below))).toBeLessThan(2);
    const both = await r.render(pose({ lipBite: 1, lipPress: 1 }));
    expect(teeth(both)).toBe(0);
  });

  it('lipPress on lips that meet in the photo changes nothing; on a smile showing teeth, the lips meet on a dark line', async () => {
    const m = portrait.landmarks.mouth;
    const a = (m.left.x - m.right.x) / 2;
    const around: Box = { x: m.right.x, y: m.upperOuter.y - 4, width: 2 * a, height: m.lowerOuter.y - m.upperOuter.y + 8 };
    expect(meanAbsDiff(yBox(await r.render(pose({ lipPress: 1 })), around), yBox(rest, around))).toBeLessThan(0.5);

    const smile = syntheticPortrait({ teeth: 10 });
    const s = await createPortraitRenderer(smile);
    try {
      const sm = smile.landmarks.mouth;
      // the middle half of the mouth, from above the upper lip to below the lower one
      const col: Box = { x: Math.round(sm.right.x + 0.5 * a), y: Math.round(sm.upperOuter.y - 2), width: Math.round(a), height: Math.round(sm.lowerOuter.y - sm.upperOuter.y + 4) };
      const teeth = (f: Uint8Array) => yBox(f, col).filter((y) => y >= 200).length;
      const restS = await s.render(REST_POSE);
      const pressed = await s.render(pose({ lipPress: 1 }));
      expect(teeth(restS)).toBeGreaterThan(100);
      expect(teeth(pressed)).toBe(0);
      // where the lips meet, each column of the middle third (the line fades towards the corners)
      // has a line darker than the lips (Y about 100) by 15+ levels
      const lipY = Math.min(...yBox(restS, col).filter((y) => y < 200));
      for (let x = Math.round(sm.right.x + (2 / 3) * a); x < sm.left.x - (2 / 3) * a; x += 3) {
        const column = yBox(pressed, { x, y: col.y, width: 1, height: col.height });
        expect(Math.min(...column), `column ${x}`).toBeLessThanOrEqual(lipY - 15);
      }
    } finally {
      await s.close();
    }
  });

  it('a blink changes the eye region and not the mouth', async () => {
    const lm = portrait.landmarks;
    const eyeBox = (e: typeof lm.leftEye): Box => {
      const x0 = Math.min(e.outer.x, e.inner.x);
      return { x: x0, y: e.upper.y, width: Math.abs(e.outer.x - e.inner.x), height: e.lower.y - e.upper.y };
    };
    const m = lm.mouth;
    const mouthBox: Box = { x: m.right.x - 10, y: m.upperOuter.y - 10, width: m.left.x - m.right.x + 20, height: m.lowerOuter.y - m.upperOuter.y + 20 };
    const both = await r.render(pose({ blinkLeft: 1, blinkRight: 1 }));
    for (const e of [lm.leftEye, lm.rightEye]) expect(meanAbsDiff(yBox(both, eyeBox(e)), yBox(rest, eyeBox(e)))).toBeGreaterThan(20);
    expect(meanAbsDiff(yBox(both, mouthBox), yBox(rest, mouthBox))).toBe(0);
    // one eye only
    const left = await r.render(pose({ blinkLeft: 1 }));
    expect(meanAbsDiff(yBox(left, eyeBox(lm.leftEye)), yBox(rest, eyeBox(lm.leftEye)))).toBeGreaterThan(20);
    expect(meanAbsDiff(yBox(left, eyeBox(lm.rightEye)), yBox(rest, eyeBox(lm.rightEye)))).toBeLessThan(0.5);
  });

  it('headYaw = 3 degrees moves the face while the frame corners stay identical', async () => {
    const fb = portrait.landmarks.faceBox;
    const face: Box = { x: fb.x + 0.2 * fb.width, y: fb.y + 0.2 * fb.height, width: 0.6 * fb.width, height: 0.6 * fb.height };
    const yaw = await r.render(pose({ headYaw: 3 }));
    expect(meanAbsDiff(yBox(yaw, face), yBox(rest, face))).toBeGreaterThan(1.5);
    for (const c of [{ x: 0, y: 0 }, { x: W - 40, y: 0 }, { x: 0, y: H - 40 }, { x: W - 40, y: H - 40 }]) {
      const b = { ...c, width: 40, height: 40 };
      expect(yBox(yaw, b)).toEqual(yBox(rest, b));
    }
    // the face moves to image-right: the centroid of the dark pupils shifts right
    const lm = portrait.landmarks;
    const eyes: Box = { x: Math.round(fb.x), y: Math.round(lm.leftEye.upper.y), width: Math.round(fb.width), height: Math.round(lm.leftEye.lower.y - lm.leftEye.upper.y) };
    const centroid = (f: Uint8Array) => {
      let s = 0, sw = 0;
      for (let y = eyes.y; y < eyes.y + eyes.height; y++) {
        for (let x = eyes.x; x < eyes.x + eyes.width; x++) { const w = Math.max(0, 60 - f[y * W + x]!); s += w * x; sw += w; }
      }
      return s / sw;
    };
    expect(centroid(yaw) - centroid(rest)).toBeGreaterThan(1);
  });

  it('is deterministic: the same parameters give the same bytes', async () => {
    const p = pose({ jawOpen: 0.6, lipWidth: 0.3, blinkLeft: 0.4, headYaw: 2, headPitch: -1, headRoll: 1.5, breath: 0.5 });
    const a = await r.render(p);
    await r.render(pose({ jawOpen: 1 }));
    const b = await r.render(p);
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(true);
    const out = new Uint8Array(i420Size(W, H)).fill(7);
    await r.renderInto(p, out);
    expect(Buffer.from(out).equals(Buffer.from(a))).toBe(true);
  });

  it('serialises overlapping renders: each frame matches its own parameters', async () => {
    const ps = [pose({ jawOpen: 1 }), pose({ blinkLeft: 1 }), pose({ headYaw: -3 }), pose({ jawOpen: 0.3, headRoll: 2 })];
    const alone: Uint8Array[] = [];
    for (const p of ps) alone.push(await r.render(p));
    const together = await Promise.all(ps.map((p) => r.render(p)));
    together.forEach((f, i) => expect(Buffer.from(f).equals(Buffer.from(alone[i]!)), `frame ${i}`).toBe(true));
  });

  it('reports the time of the last render', async () => {
    await r.render(REST_POSE);
    expect(r.lastRenderMs).toBeGreaterThan(0);
    expect(r.lastRenderMs).toBeLessThan(1000);
  });
});

describe('portrait renderer input checks', () => {
  it('rejects non-finite and out-of-range parameters with a clear error', async () => {
    await expect(r.render(pose({ jawOpen: Number.NaN }))).rejects.toThrow(/jawOpen must be a finite number/);
    await expect(r.render({ ...REST_POSE, headYaw: undefined } as unknown as MotionParams)).rejects.toThrow(/headYaw/);
    await expect(r.render(pose({ headRoll: 40 }))).rejects.toThrow(/headRoll = 40 is beyond/);
    await expect(r.renderInto(REST_POSE, new Uint8Array(10))).rejects.toThrow(/out must be a Uint8Array/);
  });

  it('rejects bad portraits and options', async () => {
    const p = syntheticPortrait({ width: 128, height: 128 });
    await expect(createPortraitRenderer({ ...p, rgba: new Uint8Array(5) })).rejects.toThrow(/rgba must be a Uint8Array of 65536 bytes/);
    await expect(createPortraitRenderer({ ...p, width: 127 })).rejects.toThrow(/portrait size must be even/);
    await expect(createPortraitRenderer(p, { roiMargin: -1 })).rejects.toThrow(/roiMargin/);
    const lm = { ...p.landmarks, mouth: { ...p.landmarks.mouth, left: { x: Number.NaN, y: 1 } } };
    await expect(createPortraitRenderer({ ...p, landmarks: lm })).rejects.toThrow(/mouth.left is missing or not finite/);
  });

  it('close() is idempotent and a closed renderer refuses to render', async () => {
    const small = await createPortraitRenderer(syntheticPortrait({ width: 128, height: 128 }));
    const f = await small.render(pose({ jawOpen: 1 }));
    expect(f.length).toBe(i420Size(128, 128));
    await small.close();
    await small.close();
    await expect(small.render(REST_POSE)).rejects.toThrow(/closed/);
  });
});
