/**
 * Sonic in a kiosk-shaped frame (issue 15): Sonic generates one fixed size (its export's, a square
 * by default) from a crop of the portrait around the face (preprocess.ts's `crop`). When the
 * portrait is a framed picture (avatar.width x avatar.height, models/face/framing.ts), every
 * generated frame is resized back onto that crop and laid over the still portrait, its border
 * feathered, so the kiosk gets the whole frame: head and face from Sonic, the rest of the picture
 * as enrolled.
 *
 * Planes are [3, H, W] in [0, 1] (the unit range SonicEngine's frames use).
 */
import type { Box } from '../face/PortraitTypes.js';

export class PasteBack {
  /** the still portrait as unit planes: the frame outside the crop */
  private readonly base: Float32Array;
  /** per crop pixel: the generated frame's sample position (x0, y0 and weights) */
  private readonly x0: Int32Array;
  private readonly fx: Float32Array;
  private readonly y0: Int32Array;
  private readonly fy: Float32Array;
  /** per crop pixel: weight of the generated frame (1 inside, falling to 0 at the crop's edge) */
  private readonly alpha: Float32Array;

  /**
   * @param rgba the portrait, width x height RGBA
   * @param crop the region Sonic was conditioned on (in the portrait's pixels)
   * @param generated the size Sonic generates
   * @param featherFrac the width of the blended border, as a fraction of the crop's shorter side
   */
  constructor(
    rgba: Uint8Array,
    readonly width: number,
    readonly height: number,
    readonly crop: Box,
    readonly generated: { width: number; height: number },
    featherFrac = 0.08,
  ) {
    if (rgba.length !== width * height * 4) throw new RangeError(`PasteBack: ${rgba.length} bytes for ${width}x${height} RGBA`);
    if (!(crop.x >= 0 && crop.y >= 0 && crop.width > 0 && crop.height > 0 && crop.x + crop.width <= width && crop.y + crop.height <= height)) {
      throw new RangeError(`PasteBack: crop ${JSON.stringify(crop)} is not inside ${width}x${height}`);
    }
    const n = width * height;
    this.base = new Float32Array(3 * n);
    for (let i = 0; i < n; i++) for (let c = 0; c < 3; c++) this.base[c * n + i] = rgba[i * 4 + c]! / 255;

    const { width: gw, height: gh } = generated;
    const axis = (count: number, size: number) => {
      const i0 = new Int32Array(count);
      const f = new Float32Array(count);
      for (let k = 0; k < count; k++) {
        // pixel centres: crop pixel k sits at generated coordinate (k + 0.5) * size / count - 0.5
        const p = Math.max(0, Math.min(size - 1, ((k + 0.5) * size) / count - 0.5));
        const a = Math.min(size - 2, Math.floor(p));
        i0[k] = Math.max(0, a);
        f[k] = size === 1 ? 0 : p - i0[k]!;
      }
      return { i0, f };
    };
    const ax = axis(crop.width, gw);
    const ay = axis(crop.height, gh);
    this.x0 = ax.i0; this.fx = ax.f; this.y0 = ay.i0; this.fy = ay.f;

    // feather only the sides where the crop stops inside the frame: at the frame's own edge the
    // generated picture runs to the edge
    const band = Math.max(1, featherFrac * Math.min(crop.width, crop.height));
    const ramp = (d: number) => {
      const u = Math.max(0, Math.min(1, (d + 0.5) / band));
      return u * u * (3 - 2 * u);
    };
    this.alpha = new Float32Array(crop.width * crop.height);
    const free = { left: crop.x > 0, top: crop.y > 0, right: crop.x + crop.width < width, bottom: crop.y + crop.height < height };
    for (let y = 0; y < crop.height; y++) {
      const wy = Math.min(free.top ? ramp(y) : 1, free.bottom ? ramp(crop.height - 1 - y) : 1);
      for (let x = 0; x < crop.width; x++) {
        const wx = Math.min(free.left ? ramp(x) : 1, free.right ? ramp(crop.width - 1 - x) : 1);
        this.alpha[y * crop.width + x] = wx * wy;
      }
    }
  }

  /** The whole frame: `generated` ([3, gh, gw], unit) resized onto the crop over the still portrait. */
  compose(generated: Float32Array, out = new Float32Array(this.base.length)): Float32Array {
    const { width: gw, height: gh } = this.generated;
    const gn = gw * gh;
    if (generated.length !== 3 * gn) throw new RangeError(`PasteBack.compose: expected ${3 * gn} values, got ${generated.length}`);
    out.set(this.base);
    const n = this.width * this.height;
    const { crop } = this;
    for (let y = 0; y < crop.height; y++) {
      const r0 = this.y0[y]! * gw;
      const r1 = Math.min(gh - 1, this.y0[y]! + 1) * gw;
      const fy = this.fy[y]!;
      const row = (crop.y + y) * this.width + crop.x;
      for (let x = 0; x < crop.width; x++) {
        const a = this.alpha[y * crop.width + x]!;
        if (a === 0) continue;
        const c0 = this.x0[x]!;
        const c1 = Math.min(gw - 1, c0 + 1);
        const fx = this.fx[x]!;
        const i = row + x;
        for (let c = 0; c < 3; c++) {
          const p = c * gn;
          const top = generated[p + r0 + c0]! * (1 - fx) + generated[p + r0 + c1]! * fx;
          const bottom = generated[p + r1 + c0]! * (1 - fx) + generated[p + r1 + c1]! * fx;
          const v = top * (1 - fy) + bottom * fy;
          const o = c * n + i;
          out[o] = a * v + (1 - a) * out[o]!;
        }
      }
    }
    return out;
  }
}
