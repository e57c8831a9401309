/**
 * The "portrait" renderer: MotionParams -> one I420 frame of the enrolled portrait.
 * Only the region of interest (ROI) around the head is computed, in WebAssembly (warp.ts): per frame
 * warp/fields.c turns 25 scalars into where each pixel samples the photo and what is drawn over the
 * mouth and eyes (the portrait's static tables from fields.ts), then warp.c samples and composites.
 * The rest of the frame is the static portrait, converted to I420 once. Per frame JS only fills the
 * scalars and copies rows.
 */
import type { FrameRenderer } from '../../pipeline/engine/EngineTypes.js';
import { i420Size, type MotionParams } from '../../pipeline/records.js';
import type { Box, EnrolledPortrait } from '../face/PortraitTypes.js';
import { headDisplacement } from './basis.js';
import { planesToI420, rgbaToYuvPlanes } from './colour.js';
import { faceGeometry, type FaceGeometry } from './geometry.js';
import { photoColours, type PhotoColours } from './photo-colours.js';
import { fieldsRecord, INPUT_AT } from './fields.js';
import { EYE_INPUTS, MOUTH, mouthLengths } from './shape.js';
import { PlaneWarper } from './warp.js';

export interface PortraitRendererOptions {
  /** margin around the face oval on each side, fraction of the face width (default 0.12) */
  roiMargin: number;
}

const DEFAULTS: PortraitRendererOptions = { roiMargin: 0.12 };

const PARAM_KEYS = ['jawOpen', 'lipWidth', 'lipRound', 'lipPress', 'lipBite', 'blinkLeft', 'blinkRight', 'headYaw', 'headPitch', 'headRoll', 'breath'] as const;

/** Largest head angle accepted, degrees: the fields are small-angle approximations. */
export const MAX_HEAD_DEGREES = 15;

export class PortraitRenderer implements FrameRenderer {
  readonly width: number;
  readonly height: number;
  /** the warped region, portrait pixels (even-aligned) */
  readonly roi: Readonly<Box>;
  /** the colours taken from the photo for what the renderer draws (teeth, lids, the mouth's inside) */
  readonly colours: Readonly<PhotoColours>;
  /** wall time of the last render, ms */
  lastRenderMs = 0;

  private closed = false;
  private queue: Promise<void> = Promise.resolve();
  private readonly background: Uint8Array;
  /** the frame's inputs, views of the warper's (fields.ts INPUT_AT) */
  private readonly coeffs: Float32Array;
  private readonly blink: Float32Array;
  private readonly mouth: Float32Array;
  private readonly eyes: Float32Array;

  /** Use createPortraitRenderer(). */
  constructor(
    private readonly geo: FaceGeometry,
    portraitI420: Uint8Array,
    width: number,
    height: number,
    colours: PhotoColours,
    private readonly warper: PlaneWarper,
  ) {
    this.colours = Object.freeze(colours);
    this.width = width;
    this.height = height;
    this.roi = Object.freeze({ ...geo.roi });
    this.background = portraitI420;
    const inputs = warper.inputs!;
    this.coeffs = inputs.subarray(INPUT_AT.coeffs, INPUT_AT.blink);
    this.blink = inputs.subarray(INPUT_AT.blink, INPUT_AT.mouth);
    this.mouth = inputs.subarray(INPUT_AT.mouth, INPUT_AT.eyes);
    this.eyes = inputs.subarray(INPUT_AT.eyes, INPUT_AT.eyes + 2 * EYE_INPUTS.length);
    this.coeffs[0] = 1;
  }

  /** A new I420 frame (width*height*3/2 bytes). */
  async render(params: Readonly<MotionParams>): Promise<Uint8Array> {
    const out = new Uint8Array(i420Size(this.width, this.height));
    await this.renderInto(params, out);
    return out;
  }

  /**
   * Render into `out` (i420Size(width, height) bytes), which is overwritten entirely.
   * Calls are serialised: the input tensors are shared, so overlapping runs must not interleave.
   */
  renderInto(params: Readonly<MotionParams>, out: Uint8Array): Promise<void> {
    const run = this.queue.then(() => this.renderNow(params, out));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async renderNow(params: Readonly<MotionParams>, out: Uint8Array): Promise<void> {
    if (this.closed) throw new Error('PortraitRenderer is closed');
    if (!(out instanceof Uint8Array) || out.length !== i420Size(this.width, this.height)) {
      throw new TypeError(`out must be a Uint8Array of ${i420Size(this.width, this.height)} bytes`);
    }
    const t0 = performance.now();
    this.setInputs(checkParams(params));
    const wp = this.warper;
    wp.run();
    out.set(this.background);
    const roi = this.geo.roi;
    this.paste(out, wp.y, wp.uv, roi.x, roi.y, roi.width, roi.height);
    this.lastRenderMs = performance.now() - t0;
  }

  /** Closes after any render in flight; safe to call twice. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.queue;
  }

  /** Per-frame inputs from the motion parameters (see warp/fields.c for their use). */
  private setInputs(p: Readonly<MotionParams>): void {
    const geo = this.geo;
    const c = this.coeffs;
    c[1] = p.headYaw;
    c[2] = p.headPitch;
    c[3] = p.headRoll;
    c[4] = p.breath;
    const jaw = clamp(p.jawOpen, 0, 1), wid = clamp(p.lipWidth, -1, 1), rnd = clamp(p.lipRound, 0, 1);
    const bl = clamp(p.blinkLeft, 0, 1), br = clamp(p.blinkRight, 0, 1);
    this.blink[0] = bl;
    this.blink[1] = br;

    const m = geo.mouth, a = m.a;
    // spread widens more than a negative width narrows: rounding narrows by itself, and more narrowing
    // drags the jaw line in
    const aEff = a * (1 + (wid > 0 ? 0.22 : 0.12) * wid - 0.3 * rnd - 0.06 * jaw);
    const [mdu, mdv] = this.localShift(p, m.frame);
    const { lipH } = mouthLengths(m);
    const mouth = this.mouth;
    mouth[0] = mdu;
    mouth[1] = mdv;
    mouth[2] = 1 / (aEff * aEff);
    // the photo's own gap between the lips (a smile showing teeth): a press closes it, the lower lip
    // rising by MOUTH.pressRise of it and the upper lip coming down by the rest (the fields run
    // backwards), so the lips meet
    const gap = Math.max(0, m.lowerInner - m.upperInner);
    const press = clamp(p.lipPress, 0, 1);
    // f / v: the upper teeth show resting on the lower lip. The lips part by the bite's height: a
    // photo whose lips meet lifts the upper lip off drawn teeth; a photo showing its own teeth
    // raises the lower lip over their lower part. The jaw stays shut.
    const bite = clamp(p.lipBite, 0, 1) * (1 - press);
    const biteH = MOUTH.bite * a;
    mouth[3] = jaw * MOUTH.drop * a * (1 - bite) - bite * Math.max(0, gap - biteH) - press * MOUTH.pressRise * gap;
    mouth[4] = jaw * MOUTH.lift * a * (1 - bite) - press * (1 - MOUTH.pressRise) * gap + bite * Math.max(0, biteH - gap);
    mouth[5] = aEff / a - 1;
    // the pout parts the lips a little: not while they are pressed (a /b/ before /u/ still closes)
    mouth[6] = rnd * 0.15 * lipH * (1 - press);
    mouth[7] = clamp(Math.max(jaw * 6, bite), 0, 1);
    // drawn teeth only where the portrait shows none of its own between the lips; solid from a
    // small opening on (until 2026-12-05 from 0.4: a spread vowel's teeth at 0.3 were half cavity, grey)
    mouth[8] = Math.max(clamp((jaw - 0.1) / 0.15, 0, 1), bite) * clamp(1 - gap / (MOUTH.teeth * a), 0, 1);
    // the shadow line where pressed lips meet: only where the press brought them together (a photo
    // whose lips meet at rest has its own line there)
    mouth[9] = press * clamp(gap / 2, 0, 1) * (1 - clamp(jaw * 6, 0, 1));

    [bl, br].forEach((b, k) => {
      const eye = geo.eyes[k]!;
      const [du, dv] = this.localShift(p, eye.frame);
      const e = this.eyes;
      e[k * 4] = du;
      e[k * 4 + 1] = dv;
      e[k * 4 + 2] = b * (eye.upper + eye.lower) - eye.upper;
      e[k * 4 + 3] = clamp(b * 8, 0, 1);
    });
  }

  /** Head-motion displacement at a feature's centre, in that feature's local frame. */
  private localShift(p: Readonly<MotionParams>, f: { cx: number; cy: number; ux: number; uy: number }): [number, number] {
    const [dx, dy] = headDisplacement(this.geo, p, f.cx, f.cy);
    return [dx * f.ux + dy * f.uy, -dx * f.uy + dy * f.ux];
  }

  private paste(out: Uint8Array, y: Uint8Array, uv: Uint8Array, x0: number, y0: number, w: number, h: number): void {
    const W = this.width, H = this.height;
    for (let j = 0; j < h; j++) out.set(y.subarray(j * w, (j + 1) * w), (y0 + j) * W + x0);
    const cw = W >> 1, w2 = w >> 1, h2 = h >> 1, cx = x0 >> 1, cy = y0 >> 1;
    const uOff = W * H, vOff = uOff + cw * (H >> 1), plane = w2 * h2;
    for (let j = 0; j < h2; j++) {
      out.set(uv.subarray(j * w2, (j + 1) * w2), uOff + (cy + j) * cw + cx);
      out.set(uv.subarray(plane + j * w2, plane + (j + 1) * w2), vOff + (cy + j) * cw + cx);
    }
  }
}

function clamp(x: number, lo: number, hi: number): number {
  return x < lo ? lo : x > hi ? hi : x;
}

function checkParams(p: Readonly<MotionParams>): Readonly<MotionParams> {
  if (!p || typeof p !== 'object') throw new TypeError('render(params): params must be a MotionParams object');
  for (const k of PARAM_KEYS) {
    const v = p[k];
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new TypeError(`render(params): params.${k} must be a finite number, got ${String(v)}`);
  }
  for (const k of ['headYaw', 'headPitch', 'headRoll'] as const) {
    if (Math.abs(p[k]) > MAX_HEAD_DEGREES) throw new RangeError(`render(params): params.${k} = ${p[k]} is beyond +-${MAX_HEAD_DEGREES} degrees`);
  }
  return p;
}

/**
 * Build the renderer of one enrolled portrait: derives the geometry and the static tables, and
 * lays them out in the warper's memory. Throws an Error naming what is wrong with a bad portrait or option.
 */
export async function createPortraitRenderer(portrait: EnrolledPortrait, opts: Partial<PortraitRendererOptions> = {}): Promise<PortraitRenderer> {
  const o = { ...DEFAULTS, ...opts };
  if (!portrait || typeof portrait !== 'object' || !portrait.landmarks) throw new TypeError('createPortraitRenderer: portrait with landmarks required');
  const geo = faceGeometry(portrait, { roiMargin: o.roiMargin });
  const planes = rgbaToYuvPlanes(portrait.rgba, portrait.width, portrait.height);
  const colours = photoColours(portrait, geo);
  // the boxes never overlap: geometry.ts keeps each inside its band, and the bands apart
  const warper = new PlaneWarper(geo.roi.width, geo.roi.height, ...roiPlanes(planes, portrait.width, geo.roi), [geo.mouthBox, geo.eyesBox], fieldsRecord(geo, colours));
  return new PortraitRenderer(geo, planesToI420(planes), portrait.width, portrait.height, colours, warper);
}

/** The ROI's Y (full resolution) and U then V (half) of the portrait's planes, as bytes. */
function roiPlanes(p: { y: Float32Array; u: Float32Array; v: Float32Array }, width: number, roi: Readonly<Box>): [Uint8Array, Uint8Array] {
  const w = roi.width, h = roi.height, w2 = w / 2, h2 = h / 2, cw = width / 2;
  const y = new Uint8Array(w * h), uv = new Uint8Array(2 * w2 * h2);
  for (let j = 0; j < h; j++) y.set(p.y.subarray((roi.y + j) * width + roi.x, (roi.y + j) * width + roi.x + w), j * w);
  for (let j = 0; j < h2; j++) {
    const s = (roi.y / 2 + j) * cw + roi.x / 2;
    uv.set(p.u.subarray(s, s + w2), j * w2);
    uv.set(p.v.subarray(s, s + w2), w2 * h2 + j * w2);
  }
  return [y, uv];
}
