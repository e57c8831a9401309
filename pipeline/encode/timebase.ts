/** FFmpeg-style rational time bases: [numerator, denominator] seconds per tick. */
export type Rational = [number, number];

/** Converts a timestamp from one time base to another, rounding to the nearest tick. */
export function rescale(value: number, from: Rational, to: Rational): number {
  return Math.round((value * from[0] * to[1]) / (from[1] * to[0]));
}
