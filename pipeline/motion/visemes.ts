/**
 * Audio -> 15 viseme weights per video frame, with @met4citizen/headaudio (MIT): its MFCC front end
 * (pre-emphasis, 32-tap low-pass, 512-sample Hamming blocks every 256 samples at 16 kHz), its
 * energy gate, and its Gaussian viseme prototypes (dist/model-en-mixed.bin).
 *
 * HeadAudio's own output is the nearest prototype, majority-voted over the last 6 blocks; the vote
 * alone delays a change by about 3 blocks (48 ms). Instead we read its feature vectors and turn the
 * Mahalanobis distances to every prototype into soft weights, w ~ exp(-d / (2 T)), summed per
 * viseme: same model, no vote delay, and a mouth that blends between shapes.
 *
 * Timing: a block describes the audio around its centre, which is 256 + 15.5 samples (the block's
 * half plus the low-pass's group delay) before the last sample that completed it. Frame k averages
 * the blocks centred inside it, so it is complete 271 samples (16.9 ms) after its end: `lookaheadSamples`.
 * Gated blocks (HeadAudio's energy gate: below -50 dB, or not yet above -40 dB) count as silence.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { readFileSync } from 'node:fs';
import { Processor, type HeadAudioEvent, type HeadAudioPrototype } from '@met4citizen/headaudio/modules/processor.mjs';
import { Training } from '@met4citizen/headaudio/modules/training.mjs';
import * as HA from '@met4citizen/headaudio/modules/parameters.mjs';
import { ANALYSIS_RATE } from '../records.js';
import { FrameGrid, HopAverager, RecordQueue } from './frame-grid.js';

/** Viseme order of FeatureFrame.visemes (Oculus order). */
export const VISEMES = ['sil', 'PP', 'FF', 'TH', 'DD', 'kk', 'CH', 'SS', 'nn', 'RR', 'aa', 'E', 'I', 'O', 'U'] as const;
export type VisemeName = (typeof VISEMES)[number];
export const VISEME_COUNT = VISEMES.length;
export const VISEME_INDEX: Readonly<Record<VisemeName, number>> = Object.freeze(
  Object.fromEntries(VISEMES.map((v, i) => [v, i])) as Record<VisemeName, number>,
);
/** HeadAudio's viseme ids, in its order (README, appendix A). */
const HEADAUDIO_VISEMES: readonly VisemeName[] = ['aa', 'E', 'I', 'O', 'U', 'PP', 'SS', 'TH', 'DD', 'FF', 'kk', 'nn', 'RR', 'CH', 'sil'];
const TO_OCULUS = HEADAUDIO_VISEMES.map((v) => VISEME_INDEX[v]);

/** HeadAudio block length and hop, samples at 16 kHz. */
export const VISEME_WINDOW = HA.MFCC_SAMPLES_N;
export const VISEME_HOP = HA.MFCC_SAMPLES_HOP;
/**
 * Samples from a block's centre to the count of input samples that completes it: the block holds
 * processed samples n-512 .. n-1 (centre n-256.5), and the symmetric 32-tap low-pass delays the
 * processed stream by 15.5 samples, so the centre is input sample n - 272.
 */
const CENTRE_DELAY = VISEME_WINDOW / 2 + 0.5 + (HA.AUDIO_DOWNSAMPLE_FILTER_N - 1) / 2;

export interface VisemeOptions {
  /** video frames per second */
  fps: number;
  /** path of a HeadAudio binary model (default: the package's dist/model-en-mixed.bin) */
  modelPath: string;
  /** softness of the weights: 1 = Gaussian likelihoods; larger = flatter, smaller = closer to one-hot */
  temperature: number;
  /** HeadAudio's speaker pitch (warps its mel filters), Hz */
  speakerMeanHz: number;
  /** HeadAudio's bias towards silence (distance to silence prototypes is divided by it) */
  silSensitivity: number;
}

export function defaultVisemeModelPath(): string {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve('@met4citizen/headaudio/package.json')), 'dist', 'model-en-mixed.bin');
}

const models = new Map<string, HeadAudioPrototype[]>();

/** Loads (once per path) the Gaussian prototypes of a HeadAudio binary model. */
export function loadVisemeModel(path: string): HeadAudioPrototype[] {
  const cached = models.get(path);
  if (cached) return cached;
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new Error(`viseme model not readable at ${path}: ${(e as Error).message}`);
  }
  const recordBytes = HA.RECORD_LEN * 4;
  if (bytes.length === 0 || bytes.length % recordBytes !== 0) {
    throw new Error(`viseme model ${path}: ${bytes.length} bytes is not a whole number of ${recordBytes}-byte prototype records`);
  }
  const ab = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
  const decoder = new Training();
  const protos: HeadAudioPrototype[] = [];
  for (let pos = 0; pos + recordBytes <= ab.byteLength; pos += recordBytes) {
    const p = decoder.decodeBinaryRecord(new Float32Array(ab, pos, HA.RECORD_LEN));
    if (!(p.viseme >= 0 && p.viseme < HA.MODEL_VISEMES_N)) throw new Error(`viseme model ${path}: prototype ${protos.length} has viseme id ${p.viseme}`);
    protos.push(p);
  }
  models.set(path, protos);
  return protos;
}

const SILENCE: Float32Array = (() => {
  const s = new Float32Array(VISEME_COUNT);
  s[VISEME_INDEX.sil] = 1;
  return s;
})();

/** Streaming core: push 16 kHz mono, read one Float32Array(15) of viseme weights per video frame. */
export class VisemeTracker {
  readonly options: Readonly<VisemeOptions>;
  /** audio past a frame's end needed before the frame is complete, samples at 16 kHz */
  readonly lookaheadSamples: number;
  readonly grid: FrameGrid;
  private readonly prototypes: HeadAudioPrototype[];
  private readonly protoViseme: Int32Array;
  private readonly dist: Float64Array;
  private readonly weights = new Float32Array(VISEME_COUNT);
  private readonly queue = new RecordQueue(VISEME_COUNT);
  private readonly averager: HopAverager;
  private processor!: Processor;
  private origin = 0;
  private consumed = 0;
  private firstFrame = 0;
  private emitted = 0;
  /** blocks analysed since the last reset, and how many of them the energy gate passed */
  blocks = 0;
  voicedBlocks = 0;

  constructor(options: Partial<VisemeOptions> = {}) {
    const o: VisemeOptions = { fps: 25, modelPath: '', temperature: 1, speakerMeanHz: 150, silSensitivity: 1.2, ...options };
    if (!o.modelPath) o.modelPath = defaultVisemeModelPath();
    if (!(o.temperature > 0)) throw new RangeError(`VisemeTracker: temperature must be > 0, got ${o.temperature}`);
    if (!(o.speakerMeanHz >= 50 && o.speakerMeanHz <= 500)) throw new RangeError(`VisemeTracker: speakerMeanHz must be in [50, 500] Hz, got ${o.speakerMeanHz}`);
    if (!(o.silSensitivity > 0)) throw new RangeError(`VisemeTracker: silSensitivity must be > 0, got ${o.silSensitivity}`);
    this.options = Object.freeze(o);
    this.grid = new FrameGrid(ANALYSIS_RATE, o.fps);
    this.prototypes = loadVisemeModel(o.modelPath);
    this.protoViseme = Int32Array.from(this.prototypes, (p) => TO_OCULUS[p.viseme]);
    this.dist = new Float64Array(this.prototypes.length);
    // Centres are whole samples; the last one inside a frame (<= end-1) completes at end-1+CENTRE_DELAY.
    this.lookaheadSamples = CENTRE_DELAY - 1;
    this.averager = new HopAverager(this.grid, VISEME_COUNT, SILENCE, this.queue);
    this.reset();
  }

  /** Index of the next frame read() returns. */
  get nextFrame(): number { return this.firstFrame + this.emitted; }
  /** Samples pushed since the last reset, counted from the reset frame's start. */
  get samplesPushed(): number { return this.consumed; }

  push(samples: Float32Array): void {
    if (!(samples instanceof Float32Array)) throw new TypeError('VisemeTracker.push: samples must be a Float32Array');
    if (samples.length === 0) return;
    this.processor.process(samples);
    this.consumed += samples.length;
    this.averager.completeUpTo(this.origin + this.consumed - this.lookaheadSamples);
  }

  /** Complete frames waiting to be read. */
  framesReady(): number { return this.queue.length; }

  /** Copies the next complete frame's weights into `out` (15 values) and returns its index. */
  read(out: Float32Array): number {
    if (out.length !== VISEME_COUNT) throw new RangeError(`VisemeTracker.read: out must hold ${VISEME_COUNT} values`);
    if (this.queue.length === 0) throw new Error('VisemeTracker.read: no complete frame (check framesReady())');
    this.queue.shift(out);
    return this.firstFrame + this.emitted++;
  }

  /** Starts again at frame `firstFrame` (its start is sample 0 of the next push) with a fresh model state. */
  reset(firstFrame = 0): void {
    this.firstFrame = firstFrame;
    this.origin = this.grid.start(firstFrame);
    this.consumed = 0;
    this.emitted = 0;
    this.blocks = 0;
    this.voicedBlocks = 0;
    this.queue.clear();
    this.averager.reset(firstFrame);
    this.processor = new Processor(
      {
        sampleRate: ANALYSIS_RATE,
        speakerMeanHz: this.options.speakerMeanHz,
        processorOptions: { vadEventsEnabled: true, featureEventsEnabled: true },
        parameterData: { silSensitivity: this.options.silSensitivity },
      },
      { port: { postMessage: (m) => this.onEvent(m) } },
    );
    this.processor._onmessage({ data: { event: 'model', model: this.prototypes } });
  }

  private onEvent(m: HeadAudioEvent): void {
    // Events are posted synchronously from inside process(), so sampleCount is the block's last sample.
    if (m.event === 'vad') {
      this.blocks += 1;
      if (m.inactive) this.averager.add(this.centre(), SILENCE);
    } else if (m.event === 'feature') {
      this.voicedBlocks += 1;
      this.softWeights(m.vector as Float32Array);
      this.averager.add(this.centre(), this.weights);
    }
  }

  private centre(): number {
    return this.origin + this.processor.sampleCount - CENTRE_DELAY;
  }

  private softWeights(v: Float32Array): void {
    const c = this.processor.classifier;
    const protos = this.prototypes;
    const sil = VISEME_INDEX.sil;
    let dmin = Infinity;
    for (let i = 0; i < protos.length; i++) {
      let d = c.distanceMahalanobis(v, protos[i].mu, protos[i].sigmaInvLower);
      if (this.protoViseme[i] === sil) d /= this.options.silSensitivity; // as HeadAudio's classifier does
      this.dist[i] = d;
      if (d < dmin) dmin = d;
    }
    const w = this.weights;
    w.fill(0);
    const k = 1 / (2 * this.options.temperature);
    let total = 0;
    for (let i = 0; i < protos.length; i++) {
      const p = Math.exp(-(this.dist[i] - dmin) * k);
      w[this.protoViseme[i]] += p;
      total += p;
    }
    for (let i = 0; i < VISEME_COUNT; i++) w[i] /= total;
  }
}

/** Offline helper: viseme weights of every whole frame of `audio` (16 kHz), one Float32Array(15) per frame. */
export function visemesPerFrame(audio: Float32Array, options: Partial<VisemeOptions> = {}): Float32Array[] {
  const t = new VisemeTracker(options);
  t.push(audio);
  // pad so the last whole frame completes
  t.push(new Float32Array(t.lookaheadSamples));
  const whole = t.grid.framesIn(audio.length);
  const out: Float32Array[] = [];
  while (t.framesReady() > 0 && out.length < whole) {
    const w = new Float32Array(VISEME_COUNT);
    t.read(w);
    out.push(w);
  }
  return out;
}
