/**
 * What the portrait renderer draws, as constants: the per-frame scalars of the mouth and eyes (in
 * the order renderer.ts fills them), the mouth's shape, the colours of what it adds. Used by
 * fields.ts (the WebAssembly fields) and portrait-graph.ts (their ONNX reference).
 */
import { rgbToYuv } from './colour.js';
import type { MouthGeometry } from './geometry.js';
import type { PhotoColours } from './photo-colours.js';

/** Per-frame mouth scalars, in this order (see renderer.ts for how they are computed). */
export const MOUTH_INPUTS = ['du', 'dv', 'invA2', 'drop', 'lift', 'stretch', 'pout', 'opacity', 'teeth', 'seam'] as const;
/** Per-frame scalars of each eye (left eye first, then right eye). */
export const EYE_INPUTS = ['du', 'dv', 'edge', 'opacity'] as const;

/**
 * Colours of the composites, sRGB, for a well-lit photo: the mouth's inside is scaled by the
 * photo's `shade`; the teeth and lids are the photo's own (photo-colours.ts).
 */
export const COLOURS = {
  tongue: [138, 58, 62],
  throat: [16, 5, 6],
  cavity: [70, 20, 24],
  seam: [78, 32, 34],
  lash: [38, 27, 24],
} as const;

/** Mouth shape constants (multiples of the mouth half-width a unless noted). */
export const MOUTH = {
  /** lower lip drop at jawOpen = 1 */
  drop: 0.8,
  /** upper lip lift at jawOpen = 1 */
  lift: 0.12,
  /** visible height of the upper teeth */
  teeth: 0.2,
  /**
   * share of the photo's own gap between the lips (a smile showing teeth) that the lower lip rises
   * by at a press; the upper lip comes down by the rest, so the lips meet near the upper teeth's
   * edge. Until 2026-12-05 the upper lip came down the whole gap and dragged the nose with it; at
   * 0.5 the face mesh read the astronaut's closures at 540x960 less often (the philtrum, stretched
   * under a nose that stays, reads as a gap: 7 of 12 against 11 of 12 at 0.85)
   */
  pressRise: 0.85,
  /** the lips' gap at lipBite = 1 (f, v: the upper teeth showing over the lower lip) */
  bite: 0.13,
  /** px: softness of the cavity edge */
  feather: 1.2,
  /** px: width of the lip seam step of the jaw field */
  seam: 1,
  /** half-width of the shadow line where pressed lips meet (times a, kept within 1-1.5 px), and its darkest opacity */
  seamLine: 0.04,
  seamOpacity: 0.7,
} as const;

/**
 * The drawn teeth (fields.c writes the same numbers out): the gaps between the upper teeth, at
 * these multiples of the frame's mouth half-width from the middle (incisors, laterals, canines,
 * premolars as a front view foreshortens them); the upper teeth are 60 % as long at the corners as in
 * the middle, darken by up to 55 % towards the corners and 30 % under the lip, a gap by 5-50 % (more
 * at the biting edge).
 */
export const TEETH_GAPS = [0, 0.3, 0.55, 0.76, 0.92] as const;

/**
 * The lower teeth (fields.c writes the same numbers out): their edges show above the lower lip once
 * the mouth opens wide, on photos whose lips meet and on smiles alike. In upper-teeth heights
 * (MOUTH.teeth * a): they appear when the opening in the middle passes `from` and reach their full
 * `height` above the lower lip's middle at `full`. Their edges make a flat arch, `rise` of that
 * height higher at the corners; the lower lip curves up faster, so it covers them from about 0.4 a
 * out (and they end by P = 1 - (u / a)^2 = `edge`). `light` of the teeth colour (the upper teeth
 * shade them), darker towards the corners as the upper teeth, with narrower gaps (at these
 * multiples of a) `gapDark` darker.
 */
export const LOWER_TEETH = { from: 1.5, full: 3.5, height: 0.5, rise: 0.5, edge: 0.3, light: 0.8, gapDark: 0.25, gaps: [0, 0.17, 0.34, 0.5] } as const;

/** Lengths of the mouth's shape derived from its geometry, px. */
export function mouthLengths(m: MouthGeometry): { lipH: number; ramp: number; seamW: number } {
  return {
    /** half the lips' height: the pout's scale */
    lipH: Math.max(2, (m.lowerOuter - m.upperOuter) / 2),
    /** under the lower lip the jaw's pull grows from the lip to the chin over this; > drop keeps the mapping monotonic */
    ramp: Math.max(1.4 * MOUTH.drop * m.a, 0.9 * (m.chin - m.lowerInner)),
    /** half-width of the shadow line where pressed lips meet */
    seamW: Math.min(1.5, Math.max(1, MOUTH.seamLine * m.a)),
  };
}

/**
 * The composites' colours in the photo's light and colourfulness, as Y, U, V + 0.5 (so that truncation rounds), in the
 * order of their weights: mouth teeth, tongue, throat, cavity, seam; eyes left lid, left lid dark,
 * right lid, right lid dark, lash.
 */
export function compositeColours(colours: PhotoColours): { mouth: number[][]; eyes: number[][] } {
  const yuv = (rgb: readonly number[]) => rgbToYuv(rgb[0]!, rgb[1]!, rgb[2]!).map((c) => c + 0.5);
  // what the renderer makes up takes the photo's colourfulness (grey in a black-and-white photo);
  // what it took from the photo (lids, the photo's own teeth) is as the photo has it
  const drawn = (rgb: readonly number[]) => yuv(rgb).map((c, k) => (k === 0 ? c : 128.5 + (c - 128.5) * colours.chroma));
  const shaded = (c: readonly number[]) => c.map((x) => x * colours.shade);
  const dark = (c: readonly number[]) => c.map((x) => x * 0.82);
  const [cl, cr] = colours.lids;
  return {
    mouth: [colours.teethFrom === 'photo' ? yuv(colours.teeth) : drawn(colours.teeth), ...[shaded(COLOURS.tongue), COLOURS.throat, shaded(COLOURS.cavity), shaded(COLOURS.seam)].map(drawn)],
    eyes: [...[cl, dark(cl), cr, dark(cr)].map(yuv), drawn(COLOURS.lash)],
  };
}
