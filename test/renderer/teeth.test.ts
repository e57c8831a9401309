/**
 * The drawn teeth (models/portrait-renderer/warp/fields.c, shape.ts TEETH_GAPS, LOWER_TEETH): on a
 * photo whose lips meet, an open mouth shows upper teeth that are separate teeth (a darker gap
 * between the middle incisors) and in shadow towards the corners; opened wide, the lower teeth's
 * edges show above the lower lip in the middle. Read on the luma of rendered frames of the
 * synthetic face.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPortraitRenderer, type PortraitRenderer } from '../../models/portrait-renderer/renderer.js';
import { REST_POSE } from '../../pipeline/records.js';
import { syntheticPortrait } from '../helpers/synthetic-portrait.js';

const p = syntheticPortrait();
const m = p.landmarks.mouth;
const cx = (m.left.x + m.right.x) / 2, cy = (m.upperInner.y + m.lowerInner.y) / 2;
const a = Math.abs(m.right.x - m.left.x) / 2;
let r: PortraitRenderer;
beforeAll(async () => {
  r = await createPortraitRenderer(p);
});
afterAll(() => r?.close());

/** luma at (x, y), bilinear */
const at = (y420: Uint8Array, x: number, y: number) => {
  const x0 = Math.floor(x), y0 = Math.floor(y), fx = x - x0, fy = y - y0, W = p.width;
  const v = (xx: number, yy: number) => y420[yy * W + xx]!;
  return (1 - fy) * ((1 - fx) * v(x0, y0) + fx * v(x0 + 1, y0)) + fy * ((1 - fx) * v(x0, y0 + 1) + fx * v(x0 + 1, y0 + 1));
};

/**
 * The brightest of the `rows` rows above the lower lip in column x: the lip is the synthetic face's
 * flat lip colour (111), found going up from below the mouth.
 */
const aboveLowerLip = (y420: Uint8Array, x: number, rows: number) => {
  const W = p.width, col = (y: number) => y420[y * W + Math.round(x)]!;
  let y = Math.round(m.lowerInner.y + 0.9 * a);
  while (y > m.upperInner.y && Math.abs(col(y) - LIP) > 4) y--; // up the chin to the lip
  while (y > m.upperInner.y && Math.abs(col(y - 1) - LIP) <= 4) y--; // up the lip to its inner edge
  let max = 0;
  for (let k = 1; k <= rows; k++) max = Math.max(max, col(y - k));
  return max;
};
const LIP = 111;

describe('drawn teeth', () => {
  it('open: separate upper teeth, darker between the middle incisors and towards the corners', async () => {
    const f = await r.render({ ...REST_POSE, jawOpen: 0.8 });
    // near the biting edge of the upper teeth (the band hangs about 0.2 a from the lifted upper lip)
    const row = cy + 0.06 * a;
    const mid = at(f, cx, row);
    const incisor = (at(f, cx - 0.15 * a, row) + at(f, cx + 0.15 * a, row)) / 2;
    const canine = (at(f, cx - 0.66 * a, row) + at(f, cx + 0.66 * a, row)) / 2;
    console.log(`[teeth] a ${a.toFixed(1)} px: luma at the incisors ${incisor.toFixed(0)}, between them ${mid.toFixed(0)}, at the canines ${canine.toFixed(0)}`);
    expect(incisor).toBeGreaterThan(150);
    expect(incisor - mid).toBeGreaterThanOrEqual(15);
    expect(incisor - canine).toBeGreaterThanOrEqual(15);
  });

  it("wide open: the lower teeth's edges above the lower lip in the middle, not towards the corners, not when the mouth opens a little", async () => {
    const wide = await r.render({ ...REST_POSE, jawOpen: 0.8 });
    const little = await r.render({ ...REST_POSE, jawOpen: 0.3 });
    const middle = aboveLowerLip(wide, cx, 5), corner = aboveLowerLip(wide, cx + 0.6 * a, 5), small = aboveLowerLip(little, cx, 5);
    console.log(`[teeth] brightest luma within 5 px above the lower lip: jaw 0.8 in the middle ${middle}, 0.6 a out ${corner}; jaw 0.3 in the middle ${small}`);
    expect(middle).toBeGreaterThan(130);
    expect(corner).toBeLessThan(110);
    expect(small).toBeLessThan(110);
  });
});
