/**
 * A photo that smiles showing its teeth (the astronaut: the lips 18 px apart at 512 px): to close
 * the lips at a p / b / m (lipPress) the lower lip rises most of the way and the upper lip comes
 * down the rest (shape.ts MOUTH.pressRise), and the upper lip's fields stop below the nose (the
 * mouth geometry's lipTop). Before (until 2026-12-05), the upper lip came down the whole gap and its
 * field reached past the nose tip: the nose was dragged down with it (mean change 25 luma levels
 * there, up to 81). At an f / v (lipBite) the lower lip rises over the lower part of the teeth;
 * before, it only lost its top rows and the teeth showed as at rest.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { enrolPortrait } from '../../models/face/enrol.js';
import type { EnrolledPortrait } from '../../models/face/PortraitTypes.js';
import { createPortraitRenderer, type PortraitRenderer } from '../../models/portrait-renderer/renderer.js';
import { REST_POSE, type MotionParams } from '../../pipeline/records.js';
import { ASTRONAUT } from '../helpers/speech.js';

let p: EnrolledPortrait;
let r: PortraitRenderer;
let rest: Uint8Array;
beforeAll(async () => {
  p = await enrolPortrait(ASTRONAUT, { minResolution: 512, expandRatio: 0.5 });
  r = await createPortraitRenderer(p);
  rest = await r.render(REST_POSE);
}, 60_000);
afterAll(() => r?.close());

const render = (pose: Partial<MotionParams>) => r.render({ ...REST_POSE, ...pose });

/** mean and largest luma change between two frames over rows y0..y1 and the middle half of the mouth */
function change(a: Uint8Array, b: Uint8Array, y0: number, y1: number): { mean: number; max: number } {
  const m = p.landmarks.mouth, cx = (m.left.x + m.right.x) / 2, half = Math.abs(m.left.x - m.right.x) / 4;
  let s = 0, n = 0, max = 0;
  for (let y = Math.round(y0); y < y1; y++) {
    for (let x = Math.round(cx - half); x < cx + half; x++) {
      const d = Math.abs(a[y * p.width + x]! - b[y * p.width + x]!);
      s += d;
      n++;
      max = Math.max(max, d);
    }
  }
  return { mean: s / n, max };
}

/**
 * rows of the mouth's middle column (7 px wide) as bright as teeth, between the photo's inner lips
 * (the skin above the upper lip is as bright as this photo's teeth: rows above are not counted)
 */
function teethRows(f: Uint8Array): number {
  const m = p.landmarks.mouth, cx = Math.round((m.left.x + m.right.x) / 2);
  let rows = 0;
  for (let y = Math.round(m.upperInner.y); y <= m.lowerInner.y + 2; y++) {
    let s = 0;
    for (let x = cx - 3; x <= cx + 3; x++) s += f[y * p.width + x]!;
    if (s / 7 >= 185) rows++;
  }
  return rows;
}

describe('a smile showing teeth', () => {
  it('a press closes the lips and leaves the nose, the chin and the neck where they are', async () => {
    const lm = p.landmarks, m = lm.mouth;
    const pressed = await render({ lipPress: 1 });
    // (the teeth hidden by a press: portrait-renderer.test.ts, on a synthetic smile)
    const nose = change(rest, pressed, lm.noseTip.y, (lm.noseTip.y + m.upperOuter.y) / 2);
    const neck = change(rest, pressed, lm.chin.y, lm.chin.y + 20);
    console.log(`[smile] press: luma change from the nose tip halfway down to the lip ${nose.mean.toFixed(2)} (max ${nose.max}), below the chin ${neck.mean.toFixed(2)}`);
    expect(nose.mean).toBeLessThan(3); // 0.42 measured; 25.2 when the upper lip came down the whole gap
    expect(neck.mean).toBeLessThan(0.5);
    // the lips meet inside the photo's gap, clear of the lower lip's edge (where they met when only
    // the upper lip moved): the darkest row of the middle column is the shadow line between them
    const cx = Math.round((m.left.x + m.right.x) / 2);
    let darkest = 0, dark = 256;
    for (let y = Math.round(m.upperOuter.y); y <= m.lowerOuter.y; y++) {
      if (pressed[y * p.width + cx]! < dark) { dark = pressed[y * p.width + cx]!; darkest = y; }
    }
    const gap = m.lowerInner.y - m.upperInner.y;
    expect(darkest).toBeGreaterThan(m.upperInner.y);
    expect(darkest).toBeLessThan(m.lowerInner.y - 0.25 * gap);
  });

  it('an f / v raises the lower lip over the lower part of the teeth', async () => {
    const bite = await render({ lipBite: 1 });
    const before = teethRows(rest), after = teethRows(bite);
    console.log(`[smile] f / v: rows of teeth in the middle of the mouth ${after}, at rest ${before}`);
    expect(before).toBeGreaterThanOrEqual(8);
    expect(after).toBeGreaterThanOrEqual(1); // the upper teeth's edge shows on the lower lip
    expect(after).toBeLessThanOrEqual(before / 2);
  });
});
