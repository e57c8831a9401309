/**
 * Mouth classes heard in plain audio (a microphone, a file, TTS audio without phones): a small MLP
 * (models/mouth-classes, trained on espeak-ng and flite voices with their exact phone timings) reads 12
 * frames of mouth features (mouth-features.ts: 100 ms before, 10 ms after) and names the mouth
 * class of every 10 ms. Its answers become short timed phones for PhoneMouth, which shapes the
 * mouth from them as it does from a TTS's phones.
 *
 * A closure is only believed when two frames in a row hear it (a lone 10 ms "p" is named a
 * consonant), so the lips do not snap shut on a click, nor the teeth flash onto the lip (the same
 * for f / v); it is shown from its second frame to its last (no phone is named twice). The model's "closed" score carries a bias
 * (closedBias) set by train.py so that a voice it never heard still has its p / b / m found.
 *
 * After half a second of silence it stops computing, and starts over (fresh feature statistics,
 * as every training sentence did) with 0.2 s of silence before the next sound: an idle session
 * costs nothing here.
 *
 * Timing: phone j is the 10 ms around the centre of feature window j; it is named once the window
 * `after` frames later is in, 17.5 ms after the phone's end with the shipped model (after = 1):
 * `audioToName` says how much audio that takes, for the motion pipeline's lookahead.
 * Cost: about 74 k multiply-adds per 10 ms.
 */
import { readFileSync } from 'node:fs';
import { MOUTH_CLASSES, CLASS_PHONE } from './mouth-classes.js';
import { RATE, WIN } from './mfcc.js';
import { MOUTH_FEATURE_DIM, MOUTH_FEATURE_STEP, MouthFeatures } from './mouth-features.js';
import type { TimedPhone } from './phones.js';

interface Layer {
  in: number;
  out: number;
  w: Float32Array;
  b: Float32Array;
}

export interface MouthModel {
  classes: string[];
  before: number;
  after: number;
  mean: Float32Array;
  std: Float32Array;
  layers: Layer[];
  /** added to the "closed" score before the pick (train.py's calibration on a voice it never heard) */
  closedBias: number;
}

const MODEL_URL = new URL('../../models/mouth-classes/mouth-mlp.json', import.meta.url);
let cached: MouthModel | undefined;

/** The shipped model (models/mouth-classes/mouth-mlp.json), checked against the class list. */
export function loadMouthModel(): MouthModel {
  if (cached) return cached;
  const j = JSON.parse(readFileSync(MODEL_URL, 'utf8')) as {
    classes: string[]; before: number; after: number; dim: number; mean: number[]; std: number[]; layers: { in: number; out: number; w: number[]; b: number[] }[]; closedBias?: number;
  };
  if (j.dim !== MOUTH_FEATURE_DIM || j.classes.join() !== MOUTH_CLASSES.join()) throw new Error(`${MODEL_URL.pathname}: made for other features or classes; retrain it (models/mouth-classes/train.py)`);
  const width = (j.before + 1 + j.after) * j.dim;
  if (j.mean.length !== width || j.layers[0]?.in !== width) throw new Error(`${MODEL_URL.pathname}: input width does not match its context`);
  cached = {
    classes: j.classes, before: j.before, after: j.after, mean: Float32Array.from(j.mean), std: Float32Array.from(j.std),
    layers: j.layers.map((l) => ({ in: l.in, out: l.out, w: Float32Array.from(l.w), b: Float32Array.from(l.b) })),
    closedBias: j.closedBias ?? 0,
  };
  return cached;
}

const CLOSED = MOUTH_CLASSES.indexOf('closed');
const STEP = MOUTH_FEATURE_STEP;
/** s from the start of feature window j to its centre, the centre of phone j */
const PHONE_CENTRE = WIN / 2 / RATE;
/** silence after which the recogniser idles, and the silence it starts over with (samples) */
const IDLE_AFTER = 8000;
const LEAD = 3200;
/** silence fed to the features (never more than IDLE_AFTER or LEAD samples at once) */
const ZEROS = new Float32Array(Math.max(IDLE_AFTER, LEAD));
const CONSONANT = MOUTH_CLASSES.indexOf('consonant');
const LABIODENTAL = MOUTH_CLASSES.indexOf('labiodental');

export class MouthRecogniser {
  private readonly model: MouthModel;
  private readonly features = new MouthFeatures();
  /** the last before + 1 + after feature frames, oldest first */
  private readonly ctx: Float32Array[] = [];
  private readonly input: Float32Array;
  private readonly acts: Float32Array[];
  /** seconds on the caller's timeline where this recogniser's audio starts */
  private base = 0;
  /** index of the next frame to name */
  private next = 0;
  private prevLabel = -1;
  /** samples fed since `base`, and trailing silent ones among them */
  private fed = 0;
  private silentRun = 0;
  /** idling: silent samples not fed since */
  private idle: number | undefined;

  constructor(model = loadMouthModel()) {
    this.model = model;
    this.input = new Float32Array(model.layers[0]!.in);
    this.acts = model.layers.map((l) => new Float32Array(l.out));
  }

  /**
   * Seconds of audio past time `t` (from the start of what it hears) the recogniser needs before
   * every phone that ends by `t` is named: phone j ends at j * STEP + PHONE_CENTRE + STEP / 2 and is
   * named when feature window j + after, which ends at (j + after) * STEP + WIN / RATE, is in.
   */
  audioToName(t: number): number {
    const last = Math.floor((t - PHONE_CENTRE - STEP / 2) / STEP + 1e-9);
    return Math.max(0, (last + this.model.after) * STEP + WIN / RATE - t);
  }

  /**
   * Appends 16 kHz samples; returns the phones named so far, times in seconds on the caller's
   * timeline, each final (none is named again).
   */
  push(samples: Float32Array): TimedPhone[] {
    // sample-exact, whatever the chunking: every run of zeros is silence (it counts towards idling
    // wherever it falls, not only at a chunk's ends: a whole file pushed at once idles in its
    // pauses as 20 ms chunks do), every other run is sound
    const out: TimedPhone[] = [];
    const n = samples.length;
    let i = 0;
    while (i < n) {
      let j = i;
      if (samples[i] === 0) {
        while (j < n && samples[j] === 0) j++;
        for (const p of this.pushSilence(j - i)) out.push(p);
      } else {
        while (j < n && samples[j] !== 0) j++;
        if (this.idle !== undefined) {
          // start over a little before this sound, as a training sentence starts
          const at = this.base + (this.fed + this.idle - LEAD) / RATE;
          this.reset(at);
          for (const p of this.feed(ZEROS.subarray(0, LEAD))) out.push(p);
        }
        for (const p of this.feed(samples.subarray(i, j))) out.push(p);
        this.silentRun = 0;
      }
      i = j;
    }
    return out;
  }

  /** Appends `count` samples of silence; returns what they complete (see push). */
  pushSilence(count: number): TimedPhone[] {
    if (this.idle !== undefined) {
      this.idle += count;
      return [];
    }
    const n = Math.max(0, Math.min(count, IDLE_AFTER - this.silentRun));
    const out = n > 0 ? this.feed(ZEROS.subarray(0, n)) : [];
    this.silentRun += n;
    if (count > n) this.idle = count - n;
    return out;
  }

  private feed(samples: Float32Array): TimedPhone[] {
    this.fed += samples.length;
    const out: TimedPhone[] = [];
    const m = this.model;
    for (const f of this.features.push(samples)) {
      if (this.ctx.length === 0) for (let k = 0; k < m.before; k++) this.ctx.push(f); // the start repeats the first frame, as in training
      this.ctx.push(f);
      if (this.ctx.length > m.before + 1 + m.after) this.ctx.shift();
      if (this.ctx.length < m.before + 1 + m.after) continue;
      const label = this.classify();
      const t = this.next;
      this.next += 1;
      const centre = this.base + t * STEP + PHONE_CENTRE;
      const start = centre - STEP / 2, end = centre + STEP / 2;
      // a closure (or a bite) from its second frame on: the lips open where it was last heard (a
      // release is where speech starts: held longer, the mouth opened late), and every phone is
      // final when it is named (a frame takes the same phones whatever the chunking, with no
      // lookahead for the two-frame rule); a lone frame of either is a consonant
      const shown = (label === CLOSED || label === LABIODENTAL) && this.prevLabel !== label ? CONSONANT : label;
      out.push({ phone: CLASS_PHONE[MOUTH_CLASSES[shown]!], start, end });
      this.prevLabel = label;
    }
    return out;
  }

  /** Starts over (no audio, no context), its next sample at `atSeconds` on the caller's timeline. */
  reset(atSeconds = 0): void {
    this.features.reset();
    this.ctx.length = 0;
    this.base = atSeconds;
    this.next = 0;
    this.prevLabel = -1;
    this.fed = 0;
    this.silentRun = 0;
    this.idle = undefined;
  }

  private classify(): number {
    const m = this.model;
    const x = this.input;
    const d = MOUTH_FEATURE_DIM;
    for (let k = 0; k < this.ctx.length; k++) {
      const f = this.ctx[k]!;
      for (let i = 0; i < d; i++) x[k * d + i] = (f[i]! - m.mean[k * d + i]!) / m.std[k * d + i]!;
    }
    let a = x;
    m.layers.forEach((l, li) => {
      const z = this.acts[li]!;
      z.set(l.b);
      for (let i = 0; i < l.in; i++) {
        const v = a[i]!;
        if (v === 0) continue;
        const row = i * l.out;
        for (let o = 0; o < l.out; o++) z[o] += v * l.w[row + o]!;
      }
      if (li < m.layers.length - 1) for (let o = 0; o < l.out; o++) if (z[o]! < 0) z[o] = 0;
      a = z;
    });
    a[CLOSED] += m.closedBias;
    let best = 0;
    for (let o = 1; o < a.length; o++) if (a[o]! > a[best]!) best = o;
    return best;
  }
}
