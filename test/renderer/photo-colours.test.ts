/**
 * The colours the renderer draws with come from the photo (models/portrait-renderer/photo-colours.ts):
 * teeth from the photo's own teeth, else its eye whites, else a default in its light and a little of
 * its skin's hue; the light read from the mid-face's brightest channel, not the skin's luma.
 */
import { describe, expect, it } from 'vitest';
import { faceGeometry } from '../../models/portrait-renderer/geometry.js';
import { DEFAULT_TEETH, photoColours, SKIN_CAST, type PhotoColours } from '../../models/portrait-renderer/photo-colours.js';
import { createPortraitRenderer } from '../../models/portrait-renderer/renderer.js';
import { compositeColours } from '../../models/portrait-renderer/shape.js';
import { REST_POSE } from '../../pipeline/records.js';
import type { EnrolledPortrait } from '../../models/face/PortraitTypes.js';
import { syntheticPortrait } from '../helpers/synthetic-portrait.js';

const colours = (p: EnrolledPortrait) => photoColours(p, faceGeometry(p, { roiMargin: 0.12 }));
const luma = (c: readonly number[]) => (c[0]! + 2 * c[1]! + c[2]!) / 4;
/** the default teeth as photo-colours.ts derives them: SKIN_CAST of the lids' hue at the default's luma, in the photo's light */
const defaultTeeth = (c: PhotoColours) => {
  const skin = [0, 1, 2].map((k) => (c.lids[0][k]! + c.lids[1][k]!) / 2);
  return DEFAULT_TEETH.map((x, k) => ((1 - SKIN_CAST) * x + SKIN_CAST * Math.min(255, (skin[k]! * luma(DEFAULT_TEETH)) / luma(skin))) * c.shade);
};
/** The portrait in grey (BT.601 luma), as a black-and-white photo. */
function greyscale(p: EnrolledPortrait): EnrolledPortrait {
  const rgba = p.rgba.slice();
  for (let i = 0; i < rgba.length; i += 4) rgba[i] = rgba[i + 1] = rgba[i + 2] = Math.round(0.299 * rgba[i]! + 0.587 * rgba[i + 1]! + 0.114 * rgba[i + 2]!);
  return { ...p, id: `${p.id}-grey`, rgba };
}
const near = (a: readonly number[], b: readonly number[], tol: number) => a.forEach((x, i) => expect(Math.abs(x - b[i]!), `${a} vs ${b}`).toBeLessThanOrEqual(tol));

/** The synthetic face with its eyes painted over in skin (as if shut). */
function eyesShut(p: EnrolledPortrait): EnrolledPortrait {
  const rgba = p.rgba.slice();
  for (const e of [p.landmarks.leftEye, p.landmarks.rightEye]) {
    const x0 = Math.min(e.outer.x, e.inner.x) - 2, x1 = Math.max(e.outer.x, e.inner.x) + 2;
    for (let y = Math.floor(e.upper.y) - 2; y <= Math.ceil(e.lower.y) + 2; y++) {
      for (let x = Math.floor(x0); x <= Math.ceil(x1); x++) rgba.set([224, 178, 150], (y * p.width + x) * 4);
    }
  }
  return { ...p, id: `${p.id}-shut`, rgba };
}

describe('colours taken from the photo', () => {
  it("a smile showing teeth gives the photo's own teeth", () => {
    const c = colours(syntheticPortrait({ teeth: 10 }));
    expect(c.teethFrom).toBe('photo');
    near(c.teeth, [236, 232, 220], 6);
  });

  it('closed lips: teeth from the eye whites, darker and warmer than them', () => {
    const c = colours(syntheticPortrait());
    expect(c.teethFrom).toBe('eyes');
    // the synthetic sclera is (240, 238, 232)
    near(c.teeth, [240 * 0.88, 238 * 0.86, 232 * 0.81], 6);
    expect(c.shade).toBe(1);
  });

  it('a dim photo gets dim teeth and a darker mouth inside; no eye whites: the default, dimmed', () => {
    const dim = colours(syntheticPortrait({ exposure: 0.55 }));
    expect(dim.teethFrom).toBe('eyes');
    expect(dim.shade).toBeLessThan(0.7);
    near(dim.teeth, [240 * 0.88 * 0.55, 238 * 0.86 * 0.55, 232 * 0.81 * 0.55], 6);
    const shut = colours(eyesShut(syntheticPortrait({ exposure: 0.55 })));
    expect(shut.teethFrom).toBe('default');
    near(shut.teeth, defaultTeeth(shut), 1);
  });

  it('a ruddy skin, well lit, is not a dim photo: the default teeth stay at their brightness', () => {
    // the skin of a real portrait's lids (matplotlib's grace_hopper.jpg, well lit): its luma read
    // shade 0.81 and grey teeth until the light came from the mid-face's brightest channel
    const c = colours(eyesShut(syntheticPortrait({ skin: [204, 130, 101] })));
    expect(c.teethFrom).toBe('default');
    expect(c.shade).toBeGreaterThanOrEqual(0.9);
    near(c.teeth, defaultTeeth(c), 1);
    // warmer than the default (a little of the skin's hue), as bright
    expect(c.teeth[0] - c.teeth[2]).toBeGreaterThan(DEFAULT_TEETH[0] - DEFAULT_TEETH[2] + 10);
    expect(Math.abs(luma(c.teeth) - luma(DEFAULT_TEETH) * c.shade)).toBeLessThan(4);
  });

  it('a black-and-white photo: the mouth inside, the lip line, the teeth and lashes it draws are grey; a colour photo keeps their colours', async () => {
    const grey = greyscale(syntheticPortrait());
    const c = colours(grey);
    expect(c.chroma).toBe(0);
    for (const k of [syntheticPortrait(), syntheticPortrait({ skin: [204, 130, 101] }), syntheticPortrait({ skin: [120, 80, 60] }), syntheticPortrait({ exposure: 0.55 })]) expect(colours(k).chroma).toBe(1);
    const { mouth, eyes } = compositeColours(c);
    for (const yuv of [...mouth, eyes[4]!]) {
      expect(Math.abs(yuv[1]! - 128.5), `U of ${yuv}`).toBeLessThan(0.01);
      expect(Math.abs(yuv[2]! - 128.5), `V of ${yuv}`).toBeLessThan(0.01);
    }
    // rendered: the open mouth's chroma stays within 2 levels of grey (drawn in colour: 12 off)
    const r = await createPortraitRenderer(grey);
    try {
      const f = await r.render({ ...REST_POSE, jawOpen: 0.8 });
      const m = grey.landmarks.mouth, W = grey.width, H = grey.height;
      const cx = Math.round((m.left.x + m.right.x) / 4), cy = Math.round((m.upperInner.y + m.lowerInner.y) / 4);
      let worst = 0;
      for (let y = cy - 2; y <= cy + 6; y++) {
        for (let x = cx - 6; x <= cx + 6; x++) {
          worst = Math.max(worst, Math.abs(f[W * H + y * (W / 2) + x]! - 128), Math.abs(f[W * H + (W / 2) * (H / 2) + y * (W / 2) + x]! - 128));
        }
      }
      expect(worst).toBeLessThanOrEqual(2);
    } finally {
      await r.close();
    }
  });

  it('the renderer draws those teeth: an f on a dim photo shows teeth in its light, not the default white', async () => {
    const top = async (p: EnrolledPortrait) => {
      const r = await createPortraitRenderer(p);
      try {
        const f = await r.render({ ...REST_POSE, lipBite: 1 });
        const m = p.landmarks.mouth;
        const ys: number[] = [];
        for (let y = Math.round(m.upperOuter.y) - 4; y < Math.round(m.lowerOuter.y); y++) ys.push(f[y * p.width + Math.round(m.upperInner.x)]!);
        return Math.max(...ys);
      } finally {
        await r.close();
      }
    };
    const bright = await top(syntheticPortrait());
    const dim = await top(syntheticPortrait({ exposure: 0.55 }));
    expect(bright).toBeGreaterThan(180);
    // drawn at the default colour the dim photo's teeth would read about 190 too
    expect(dim).toBeLessThan(bright - 60);
    expect(dim).toBeGreaterThan(100);
  });
});
