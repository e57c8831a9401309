/**
 * The drawn teeth (models/portrait-renderer/warp/fields.c, shape.ts TEETH_GAPS): on a photo whose
 * lips meet, an open mouth shows upper teeth that are separate teeth (a darker gap between the
 * middle incisors) and in shadow towards the corners. Read on the luma of rendered frames of the
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
});
