/**
 * Colours the renderer draws with, taken from the portrait itself so that what it adds (eyelids,
 * teeth, the mouth's inside) sits in the photo's own light and white balance:
 * - eyelids: the skin above each eye;
 * - the upper teeth: the photo's own teeth where its lips are apart (a smile), else its eye
 *   whites, a little darker and warmer (teeth are not as white as sclera), else a default with a
 *   little of the skin's hue;
 * - `chroma`: how much colour the photo has (a black-and-white photo gets a grey mouth inside);
 * - `shade`: how brightly the photo lights the face against a well-lit reference (at most 1), for
 *   the mouth's inside (tongue, cavity, the line between pressed lips) and the default teeth, which
 *   a dim photo shows dimmer. It is read from the mid-face's brighter pixels (the brightest channel:
 *   cheeks, nose, highlights), not from the skin's luma: a well-lit darker or redder skin is not a
 *   dim photo (its luma read grey teeth into a well-lit ruddy face until 2026-12-05).
 * The eye and lip samples are in the portrait's pixels, read in a feature's local frame (geometry.ts).
 */
import type { EnrolledPortrait } from '../face/PortraitTypes.js';
import { rgbToYuv } from './colour.js';
import { frameSamples, type FaceGeometry } from './geometry.js';

type Rgb = [number, number, number];

/** Drawn teeth when the photo offers nothing better (sRGB). */
export const DEFAULT_TEETH: Rgb = [206, 198, 182];
/** How much of the skin's hue the default teeth take. */
export const SKIN_CAST = 0.15;
/** Teeth from eye whites: per channel. */
const SCLERA_TO_TEETH: Rgb = [0.88, 0.86, 0.81];
/** The mid-face's 90th percentile of the brightest channel in a well-lit photo: the reference of `shade`. */
const REFERENCE_LIGHT = 220;

export interface PhotoColours {
  lids: [Rgb, Rgb];
  teeth: Rgb;
  /** where the teeth colour came from */
  teethFrom: 'photo' | 'eyes' | 'default';
  /** the mid-face's light / reference, within 0.5 .. 1 */
  shade: number;
  /**
   * How much colour the photo has, 0 .. 1: 0 for a black-and-white photo, whose drawn mouth inside,
   * lip line, default teeth and lashes are then drawn grey (shape.ts); 1 for any colour photo.
   * From the lid skin's saturation (chroma / luma): colour photos' skin reads 0.1-0.35 (light to
   * dark, ruddy), a greyscale photo's under 0.02 (compression noise).
   */
  chroma: number;
}

const luma = (c: readonly number[]) => (c[0]! + 2 * c[1]! + c[2]!) / 4;

/** Mean colour of a non-empty list. */
const meanRgb = (s: Rgb[]): Rgb => [0, 1, 2].map((c) => s.reduce((acc, x) => acc + x[c]!, 0) / s.length) as Rgb;

/** Mean of the brightest `share` of the samples (undefined when there are none). */
function brightMean(s: Rgb[], share: number): Rgb | undefined {
  if (s.length === 0) return undefined;
  const sorted = [...s].sort((a, b) => luma(a) - luma(b));
  return meanRgb(sorted.slice(Math.min(sorted.length - 1, Math.floor(sorted.length * (1 - share)))));
}

/** Near-neutral (white-ish, not skin): channel spread under a quarter of the brightest channel. */
const neutral = (c: Rgb) => Math.max(...c) - Math.min(...c) < 0.25 * Math.max(...c);

/**
 * Eyelid colour: skin above the eye, between the lid and the brow. Creases and brows are darker
 * than lid skin, so the mean of the brighter half of the samples is taken.
 */
function lidColour(p: EnrolledPortrait, e: FaceGeometry['eyes'][0]): Rgb {
  const open = e.upper + e.lower;
  return brightMean(frameSamples(p, e.frame, -0.4 * e.halfWidth, 0.4 * e.halfWidth, -e.upper - 1.2 * open, -e.upper - 0.3 * open), 0.5) ?? [200, 160, 140];
}

/**
 * How brightly the face is lit: the 90th percentile of max(R, G, B) between the outer eye corners,
 * from the upper lids down to the mouth corners (skin, the nose; glasses and brows are a minority).
 */
function faceLight(p: EnrolledPortrait): number {
  const L = p.landmarks;
  const x0 = Math.max(0, Math.round(Math.min(L.leftEye.outer.x, L.rightEye.outer.x)));
  const x1 = Math.min(p.width - 1, Math.round(Math.max(L.leftEye.outer.x, L.rightEye.outer.x)));
  const y0 = Math.max(0, Math.round((L.leftEye.upper.y + L.rightEye.upper.y) / 2));
  const y1 = Math.min(p.height - 1, Math.round((L.mouth.left.y + L.mouth.right.y) / 2));
  const hist = new Uint32Array(256);
  let n = 0;
  for (let y = y0; y <= y1; y++) {
    for (let x = x0; x <= x1; x++) {
      const i = (y * p.width + x) * 4;
      hist[Math.max(p.rgba[i]!, p.rgba[i + 1]!, p.rgba[i + 2]!)]! += 1;
      n += 1;
    }
  }
  if (n === 0) return REFERENCE_LIGHT;
  let v = 255;
  for (let above = 0; v > 0 && (above += hist[v]!) < 0.1 * n; v--);
  return v;
}

/** Chroma / luma of a colour (the renderer's YUV), 0 for a grey. */
function saturation(c: Rgb): number {
  const [y, u, v] = rgbToYuv(c[0], c[1], c[2]);
  return Math.hypot(u - 128, v - 128) / Math.max(1, y - 16);
}

export function photoColours(p: EnrolledPortrait, geo: FaceGeometry): PhotoColours {
  const lids = geo.eyes.map((e) => lidColour(p, e)) as [Rgb, Rgb];
  const skin = (luma(lids[0]) + luma(lids[1])) / 2;
  // a dim photo shows the mouth's inside dimmer; a bright one does not light it up (it is in shadow)
  const shade = Math.min(1, Math.max(0.5, faceLight(p) / REFERENCE_LIGHT));
  const chroma = Math.min(1, Math.max(0, (saturation(lids[0]) + saturation(lids[1])) / 2 - 0.02) / 0.05);
  const done = (teeth: Rgb, teethFrom: PhotoColours['teethFrom']): PhotoColours => ({ lids, teeth, teethFrom, shade, chroma });
  const m = geo.mouth, a = m.a, gap = m.lowerInner - m.upperInner;
  // the photo's own upper teeth: the upper part of the gap between its lips
  if (gap >= 3) {
    const t = brightMean(frameSamples(p, m.frame, -0.4 * a, 0.4 * a, m.upperInner + 0.2 * gap, m.upperInner + 0.6 * gap), 0.5);
    if (t && neutral(t) && luma(t) >= 0.8 * skin) return done(t, 'photo');
  }
  // eye whites: the brightest fifth of each eye's opening (iris and pupil are darker)
  const whites = geo.eyes.flatMap((e) => {
    const w = brightMean(frameSamples(p, e.frame, -0.75 * e.halfWidth, 0.75 * e.halfWidth, -0.4 * e.upper, 0.4 * e.lower), 0.2);
    return w && neutral(w) && luma(w) >= 0.9 * skin ? [w] : [];
  });
  if (whites.length > 0) {
    return done(meanRgb(whites).map((x, c) => Math.min(255, x * SCLERA_TO_TEETH[c]!)) as Rgb, 'eyes');
  }
  // the default, in the photo's light and a little of its cast: mixed with the lid skin's hue at
  // the default's brightness (a warm photo's teeth are warm too, not a grey bar against red lips)
  const skinHue = lids[0].map((x, c) => (x + lids[1][c]!) / 2) as Rgb;
  const toDefault = luma(DEFAULT_TEETH) / Math.max(1, luma(skinHue));
  const teeth = DEFAULT_TEETH.map((x, c) => Math.min(255, ((1 - SKIN_CAST) * x + SKIN_CAST * Math.min(255, skinHue[c]! * toDefault)) * shade)) as Rgb;
  return done(teeth, 'default');
}
