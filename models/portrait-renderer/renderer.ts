/**
 * The "portrait" renderer: MotionParams -> one I420 frame of the enrolled portrait.
 * Only the region of interest (ROI) around the head is computed: an ONNX graph run by
 * onnxruntime-node (portrait-graph.ts) says where each pixel samples the photo and what is drawn
 * over the mouth and eyes; warp.ts samples and composites. The rest of the frame is the static
 * portrait, converted to I420 once. Per frame JS only fills a few scalars and copies rows.
 */
import ort from 'onnxruntime-node';
import type { FrameRenderer } from '../../pipeline/engine/EngineTypes.js';
import { i420Size, type MotionParams } from '../../pipeline/records.js';
import type { Box, EnrolledPortrait } from '../face/PortraitTypes.js';
import { headDisplacement } from './basis.js';
import { planesToI420, rgbaToYuvPlanes } from './colour.js';
import { faceGeometry, type FaceGeometry } from './geometry.js';
import { photoColours, type PhotoColours } from './photo-colours.js';
import { buildPortraitGraph, EYE_INPUTS, MOUTH, MOUTH_INPUTS, type PortraitGraph } from './portrait-graph.js';
import { PlaneWarper } from './warp.js';

export interface PortraitRendererOptions {
  /** ONNX Runtime intra-op threads (default 1) */
  intraOpThreads: number;
  /** margin around the face oval on each side, fraction of the face width (default 0.12) */
  roiMargin: number;
}

const DEFAULTS: PortraitRendererOptions = { intraOpThreads: 1, roiMargin: 0.12 };

const PARAM_KEYS = ['jawOpen', 'lipWidth', 'lipRound', 'lipPress', 'lipBite', 'blinkLeft', 'blinkRight', 'headYaw', 'headPitch', 'headRoll', 'breath'] as const;

/** Largest head angle accepted, degrees: the fields are small-angle approximations. */
export const MAX_HEAD_DEGREES = 15;

export class PortraitRenderer implements FrameRenderer {
  readonly width: number;
  readonly height: number;
  /** the warped region, portrait pixels (even-aligned) */
  readonly roi: Readonly<Box>;
  /** op types of the graph, in order */
  readonly graphNodes: readonly string[];
  /** the colours taken from the photo for what the renderer draws (teeth, lids, the mouth's inside) */
  readonly colours: Readonly<PhotoColours>;
  /** wall time of the last render, ms */
  lastRenderMs = 0;

  private closed = false;
  private queue: Promise<void> = Promise.resolve();
  private readonly background: Uint8Array;
  private readonly coeffs = new Float32Array(5);
  private readonly blink = new Float32Array(2);
  private readonly mouth = new Float32Array(MOUTH_INPUTS.length);
  private readonly eyes = new Float32Array(2 * EYE_INPUTS.length);
  private readonly feeds: Record<string, ort.Tensor>;
  private readonly fetches: Record<string, ort.Tensor>;

  /** Use createPortraitRenderer(). */
  constructor(
    private readonly session: ort.InferenceSession,
    private readonly geo: FaceGeometry,
    portraitI420: Uint8Array,
    width: number,
    height: number,
    nodes: string[],
    colours: PhotoColours,
    outputs: PortraitGraph['outputs'],
    private readonly warper: PlaneWarper,
  ) {
    this.colours = Object.freeze(colours);
    this.width = width;
    this.height = height;
    this.roi = Object.freeze({ ...geo.roi });
    this.graphNodes = Object.freeze(nodes);
    this.background = portraitI420;
    this.coeffs[0] = 1;
    this.feeds = {
      coeffs: new ort.Tensor('float32', this.coeffs, [1, 5]),
      blink: new ort.Tensor('float32', this.blink, [1, 2]),
      mouth: new ort.Tensor('float32', this.mouth, [this.mouth.length]),
      eyes: new ort.Tensor('float32', this.eyes, [this.eyes.length]),
    };
    const R = geo.roi, f = (data: Float32Array, dims: number[]) => new ort.Tensor('float32', data, dims);
    this.fetches = {
      [outputs.grid]: f(warper.grid, [1, R.height, R.width, 2]),
      [outputs.gridh]: f(warper.gridh, [1, R.height / 2, R.width / 2, 2]),
    };
    [outputs.mouth, outputs.eyes].forEach((names, k) => {
      const w = warper.boxWeights[k]!, b = warper.boxes[k]!;
      this.fetches[names.w0] = f(w.w0, [1, 1, b.height, b.width]);
      this.fetches[names.add] = f(w.add, [1, 1, b.height, b.width]);
      this.fetches[names.w0h] = f(w.w0h, [1, 1, b.height / 2, b.width / 2]);
      this.fetches[names.addh] = f(w.addh, [1, 2, b.height / 2, b.width / 2]);
    });
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
    // the graph writes the grids and box weights straight into the warper's memory
    await this.session.run(this.feeds, this.fetches);
    const wp = this.warper;
    wp.run();
    out.set(this.background);
    const roi = this.geo.roi;
    this.paste(out, wp.y, wp.uv, roi.x, roi.y, roi.width, roi.height);
    this.lastRenderMs = performance.now() - t0;
  }

  /** Releases the session after any render in flight; safe to call twice. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.queue;
    await this.session.release();
  }

  /** Per-frame graph inputs from the motion parameters (see portrait-graph.ts for their meaning). */
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
    const lipH = Math.max(2, (m.lowerOuter - m.upperOuter) / 2);
    const mouth = this.mouth;
    mouth[0] = mdu;
    mouth[1] = mdv;
    mouth[2] = 1 / (aEff * aEff);
    // the photo's own gap between the lips (a smile showing teeth): a press brings the upper lip down
    // onto the lower one by that much (the upper-lip field run backwards), so the lips meet
    const gap = Math.max(0, m.lowerInner - m.upperInner);
    const press = clamp(p.lipPress, 0, 1);
    // f / v: the upper teeth show resting on the lower lip. The lips part by the bite's height: a
    // photo whose lips meet lifts the upper lip off drawn teeth; a photo showing its own teeth
    // raises the lower lip over their lower part. The jaw stays shut.
    const bite = clamp(p.lipBite, 0, 1) * (1 - press);
    const biteH = MOUTH.bite * a;
    mouth[3] = jaw * MOUTH.drop * a * (1 - bite) - bite * Math.max(0, gap - biteH);
    mouth[4] = jaw * MOUTH.lift * a * (1 - bite) - press * gap + bite * Math.max(0, biteH - gap);
    mouth[5] = aEff / a - 1;
    // the pout parts the lips a little: not while they are pressed (a /b/ before /u/ still closes)
    mouth[6] = rnd * 0.15 * lipH * (1 - press);
    mouth[7] = clamp(Math.max(jaw * 6, bite), 0, 1);
    // drawn teeth only where the portrait shows none of its own between the lips
    mouth[8] = Math.max(clamp((jaw - 0.15) / 0.25, 0, 1), bite) * clamp(1 - gap / (MOUTH.teeth * a), 0, 1);
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
 * Build the renderer of one enrolled portrait: derives the geometry, builds the graph and opens an
 * ONNX Runtime session (CPU). Throws an Error naming what is wrong with a bad portrait or option.
 */
export async function createPortraitRenderer(portrait: EnrolledPortrait, opts: Partial<PortraitRendererOptions> = {}): Promise<PortraitRenderer> {
  const o = { ...DEFAULTS, ...opts };
  if (!Number.isInteger(o.intraOpThreads) || o.intraOpThreads < 1 || o.intraOpThreads > 64) {
    throw new RangeError(`intraOpThreads must be an integer in 1..64, got ${o.intraOpThreads}`);
  }
  if (!portrait || typeof portrait !== 'object' || !portrait.landmarks) throw new TypeError('createPortraitRenderer: portrait with landmarks required');
  const geo = faceGeometry(portrait, { roiMargin: o.roiMargin });
  const planes = rgbaToYuvPlanes(portrait.rgba, portrait.width, portrait.height);
  const colours = photoColours(portrait, geo);
  const graph = buildPortraitGraph(geo, colours);
  // the boxes never overlap: geometry.ts keeps each inside its band, and the bands apart
  const warper = new PlaneWarper(geo.roi.width, geo.roi.height, ...roiPlanes(planes, portrait.width, geo.roi), [geo.mouthBox, geo.eyesBox]);
  const session = await ort.InferenceSession.create(graph.model, {
    intraOpNumThreads: o.intraOpThreads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    // not 'all': its NCHWc layout transform wraps each 1x1 Conv in reorders that cost ~0.3 ms here
    graphOptimizationLevel: 'extended',
  });
  return new PortraitRenderer(session, geo, planesToI420(planes), portrait.width, portrait.height, graph.nodes, colours, graph.outputs, warper);
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
