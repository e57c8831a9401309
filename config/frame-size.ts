/**
 * The frame sizes the server renders (avatar.width x avatar.height, `npm run render -- --size`, a
 * job's `size`): even numbers from 128, at most 1080x1920 either way round. One rule for all three.
 */
export const FRAME_SIZE_RULE = 'WIDTHxHEIGHT, even numbers from 128, at most 1080x1920 (or 1920x1080)';

export function frameSizeFits(width: number, height: number): boolean {
  const even = (v: number) => Number.isInteger(v) && v % 2 === 0 && v >= 128;
  return even(width) && even(height) && Math.max(width, height) <= 1920 && Math.min(width, height) <= 1080;
}

/** "720x1280" -> { width, height }; undefined when it is not a size the rule allows. */
export function parseFrameSize(text: string): { width: number; height: number } | undefined {
  const m = /^(\d{2,4})x(\d{2,4})$/.exec(text.trim());
  if (!m) return undefined;
  const size = { width: Number(m[1]), height: Number(m[2]) };
  return frameSizeFits(size.width, size.height) ? size : undefined;
}
