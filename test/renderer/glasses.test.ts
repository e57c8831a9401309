/**
 * Blinks on a face with glasses (models/portrait-renderer/geometry.ts blinkReach, basis.ts
 * blinkField): the blink pulls the skin above the lid down only up to what lies dark and close
 * above it, so a glasses rim stays straight while the lid closes; a face without one blinks as
 * before. The synthetic face, with and without a rim half an opening above each lid.
 */
import { describe, expect, it } from 'vitest';
import { BLINK_REACH, faceGeometry, toImage } from '../../models/portrait-renderer/geometry.js';
import { createPortraitRenderer } from '../../models/portrait-renderer/renderer.js';
import { REST_POSE } from '../../pipeline/records.js';
import type { EnrolledPortrait } from '../../models/face/PortraitTypes.js';
import { syntheticPortrait } from '../helpers/synthetic-portrait.js';

const geometry = (p: EnrolledPortrait) => faceGeometry(p, { roiMargin: 0.12 });

/** mean |change| of luma, rest → eyes shut, along a row `d` px above each upper lid (over 1.2 half-widths), and at the eye's middle */
async function blinkChange(p: EnrolledPortrait, d: (open: number) => number) {
  const r = await createPortraitRenderer(p);
  try {
    const rest = (await r.render(REST_POSE)).slice();
    const shut = await r.render({ ...REST_POSE, blinkLeft: 1, blinkRight: 1 });
    const at = (f: Uint8Array, [x, y]: [number, number]) => f[Math.round(y) * p.width + Math.round(x)]!;
    return geometry(p).eyes.map((e) => {
      const open = e.upper + e.lower;
      let sum = 0, n = 0;
      for (let u = -1.2 * e.halfWidth; u <= 1.2 * e.halfWidth; u++) {
        for (const dv of [-1, 0, 1]) {
          const q = toImage(e.frame, u, -e.upper - d(open) + dv);
          sum += Math.abs(at(rest, q) - at(shut, q));
          n++;
        }
      }
      const mid = toImage(e.frame, 0, 0);
      return { rim: sum / n, middle: Math.abs(at(rest, mid) - at(shut, mid)) };
    });
  } finally {
    await r.close();
  }
}

describe('blinks and glasses', () => {
  it('without glasses the blink reaches 0.8 openings above the lid, as before', () => {
    for (const e of geometry(syntheticPortrait()).eyes) expect(e.reach).toBeCloseTo(BLINK_REACH * (e.upper + e.lower), 6);
  });

  it('a glasses rim above the eyes: the blink stops under it, the rim stays where it is, the eyes still shut', async () => {
    const glasses = syntheticPortrait({ glasses: true });
    for (const e of geometry(glasses).eyes) {
      const open = e.upper + e.lower;
      expect(e.reach).toBeGreaterThan(0.1 * open);
      expect(e.reach).toBeLessThan(0.5 * open);
    }
    const withRim = await blinkChange(glasses, (open) => 0.5 * open);
    const noRim = await blinkChange(syntheticPortrait(), (open) => 0.5 * open);
    console.log(`[glasses] luma change along the rim's row, rest → shut: ${withRim.map((c) => c.rim.toFixed(1)).join(', ')} (that row without glasses: ${noRim.map((c) => c.rim.toFixed(1)).join(', ')}); at the eyes' middle ${withRim.map((c) => c.middle).join(', ')}`);
    for (const c of withRim) {
      expect(c.rim).toBeLessThan(3);
      expect(c.middle).toBeGreaterThan(40);
    }
  });
});
