/**
 * The colours the renderer draws with come from the photo (models/portrait-renderer/photo-colours.ts):
 * teeth from the photo's own teeth, else its eye whites, else a default dimmed to its light.
 */
import { describe, expect, it } from 'vitest';
import { faceGeometry } from '../../models/portrait-renderer/geometry.js';
import { DEFAULT_TEETH, photoColours } from '../../models/portrait-renderer/photo-colours.js';
import { createPortraitRenderer } from '../../models/portrait-renderer/renderer.js';
import { REST_POSE } from '../../pipeline/records.js';
import type { EnrolledPortrait } from '../../models/face/PortraitTypes.js';
import { syntheticPortrait } from '../helpers/synthetic-portrait.js';

const colours = (p: EnrolledPortrait) => photoColours(p, faceGeometry(p, { roiMargin: 0.12 }));
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
    near(shut.teeth, DEFAULT_TEETH.map((x) => x * shut.shade), 1);
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
