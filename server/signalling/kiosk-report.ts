/**
 * What a kiosk page reports about its playback (decoded frames, fps, A/V offset, picture size):
 * the shape (zod) and whether it is plausible for the session it watches (pure). Reports reach
 * /metrics, so a page that sends impossible figures (1000 fps, 1e15 dropped frames, an offset of
 * ten seconds) is not believed: its report is dropped.
 */
import { z } from 'zod';

const finite = z.number().finite();
export const kioskReportSchema = z.object({
  framesDecoded: finite.nonnegative(),
  framesDropped: finite.nonnegative(),
  fps: finite.nonnegative(),
  audioSamples: finite.nonnegative(),
  avOffsetMs: finite.nullable(),
  audioDelayMs: finite.nonnegative().nullable().optional(),
  width: finite.nonnegative(),
  height: finite.nonnegative(),
});
export type KioskReportShape = z.infer<typeof kioskReportSchema>;

/** |A/V offset| a browser can really show before it resynchronises (ms) */
export const MAX_AV_OFFSET_MS = 5000;

/**
 * Why a report cannot be true for a session of `fps` frames a second at width x height that the
 * kiosk has watched for `connectedMs`, or undefined when it can: fps at most twice the session's,
 * frames at most twice what the session sent since the kiosk connected (plus a second of slack),
 * |offset| and audio delay <= 5 s, the picture at most twice the session's size.
 */
export function implausible(r: KioskReportShape, s: { fps: number; width: number; height: number; connectedMs: number }): string | undefined {
  if (r.fps > 2 * s.fps) return `fps ${r.fps} > twice the session's ${s.fps}`;
  const maxFrames = 2 * s.fps * (s.connectedMs / 1000 + 1);
  if (r.framesDecoded > maxFrames || r.framesDropped > maxFrames) return `more frames (${r.framesDecoded} decoded, ${r.framesDropped} dropped) than the session sent`;
  if (r.avOffsetMs !== null && Math.abs(r.avOffsetMs) > MAX_AV_OFFSET_MS) return `A/V offset ${r.avOffsetMs} ms`;
  if (r.audioDelayMs != null && r.audioDelayMs > MAX_AV_OFFSET_MS) return `audio delay ${r.audioDelayMs} ms`;
  if (r.width > 2 * s.width || r.height > 2 * s.height) return `picture ${r.width}x${r.height} larger than the session's ${s.width}x${s.height}`;
  return undefined;
}
