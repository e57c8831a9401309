/**
 * MotionPipeline: 16 kHz speech in, one MotionParams per video frame out.
 *
 *   audio -> LipSyncShift -> FeatureExtractor (visemes, Silero VAD, RMS)   stage 'features'
 *         -> MouthMapper + SpeechState + IdleMotion -> One-Euro smoothing   stage 'motion'
 *   phones (pushPhones: the TTS said which, and when) -> PhoneMouth: where phones cover a frame,
 *         they shape the mouth (closures, rounding, spread; co-articulated, not smoothed again)
 *         and the loudness only scales the opening a little
 *
 * Time model as in EngineTypes: frame k shows the audio [k/fps, (k+1)/fps) and is ready once the
 * timeline holds `lookaheadSamples` past its end (the features' own need plus |offset| for a
 * negative lip-sync offset). Mouth and head channels are smoothed; blinks and breathing are not.
 */
import { ANALYSIS_RATE, type FeatureFrame, type MotionParams, type Pts } from '../records.js';
import { emptyStageStats, recordStage, type StageStats } from '../engine/EngineTypes.js';
import type { AvatarConfig } from '../../config/schema.js';
import { FeatureExtractor } from './features.js';
import type { VisemeOptions } from './visemes.js';
import type { SileroVadOptions } from './vad.js';
import { LipSyncShift } from './lip-sync.js';
import { MouthMapper, type MouthMapOptions } from './mouth-map.js';
import { PhoneMouth, type PhoneShape } from './phone-mouth.js';
import type { TimedPhone } from '../phonemes/phones.js';
import { MouthRecogniser } from '../phonemes/mouth-recogniser.js';
import { SpeechState, type SpeechStateOptions } from './speech-state.js';
import { IdleMotion, type IdleMotionOptions, type IdleSample } from './idle-motion.js';
import { HEAD_CHANNELS, MOUTH_CHANNELS, MotionSmoother, OneEuroFilter, type OneEuroOptions } from './one-euro.js';

export interface MotionPipelineOptions {
  /** video frames per second */
  fps: number;
  /** scale of mouth motion (avatar.dynamic_scale) */
  dynamicScale: number;
  /** scale of head motion, blinks and breathing (avatar.motion_scale); 0 = still */
  motionScale: number;
  /** milliseconds; positive = the mouth moves later (avatar.lip_sync_offset_ms) */
  lipSyncOffsetMs: number;
  /** One-Euro smoothing of mouth and head (avatar.smoothing) */
  smoothing: Partial<OneEuroOptions>;
  /**
   * factor on smoothing.minCutoff for the mouth channels. The mouth moves at syllable rate
   * (4-8 Hz); at the head's 2 Hz it would lag the audio by a frame and stay open ~120 ms after
   * speech ends. Measured on the espeak sentence: x2 gives lag 0 and 60 % of the raw jitter.
   */
  mouthCutoffScale: number;
  /** idle motion seed (avatar.seed) */
  seed: number;
  /** plain audio shapes the mouth through the mouth recogniser (avatar.mouth_recogniser) */
  recogniser: boolean;
  visemes: Partial<Omit<VisemeOptions, 'fps'>>;
  vad: Partial<SileroVadOptions>;
  mouth: Partial<Omit<MouthMapOptions, 'fps' | 'dynamicScale'>>;
  speech: Partial<Omit<SpeechStateOptions, 'fps'>>;
  idle: Partial<Omit<IdleMotionOptions, 'fps' | 'seed' | 'motionScale'>>;
}

/** Pipeline options from the validated avatar config. */
export function motionOptionsFromConfig(avatar: AvatarConfig): Partial<MotionPipelineOptions> {
  return {
    fps: avatar.fps,
    dynamicScale: avatar.dynamic_scale,
    motionScale: avatar.motion_scale,
    lipSyncOffsetMs: avatar.lip_sync_offset_ms,
    smoothing: { minCutoff: avatar.smoothing.min_cutoff, beta: avatar.smoothing.beta, dCutoff: avatar.smoothing.d_cutoff },
    seed: avatar.seed,
    recogniser: avatar.mouth_recogniser,
  };
}

/**
 * s past a frame's end up to which its frame takes the recogniser's phones: at 25 fps the 10 ms
 * phone that straddles the frame's end (a closure whose middle is in the frame's last 5 ms then
 * closes it)
 */
const HEARD_CUT = 0.008;
/** s: time constant over which lips the phones left pressed (a pause at the end of speech) let go */
const PRESS_RELEASE_S = 0.06;

/**
 * Audio past a frame's end (s) the recogniser needs so that every phone ending by the frame's end
 * + HEARD_CUT is named: the worst frame of the second (25 fps, the shipped model: 25 ms).
 */
export function recogniserLookahead(fps: number, recogniser: Pick<MouthRecogniser, 'audioToName'>): number {
  let need = 0;
  for (let k = 1; k <= fps; k++) need = Math.max(need, HEARD_CUT + recogniser.audioToName(k / fps + HEARD_CUT));
  return need;
}

export interface MotionFrame {
  readonly index: number;
  readonly pts: Pts;
  readonly params: MotionParams;
  /** the face is in its speaking state (voice with hysteresis), not idle */
  readonly speaking: boolean;
  readonly features: FeatureFrame;
}

export type MotionStageName = 'features' | 'motion';

export class MotionPipeline {
  readonly fps: number;
  /** audio past a frame's end needed before it is ready, samples at 16 kHz */
  readonly lookaheadSamples: number;
  readonly options: Readonly<MotionPipelineOptions>;
  private readonly shift: LipSyncShift;
  private readonly mouth: MouthMapper;
  private readonly state: SpeechState;
  private readonly idle: IdleMotion;
  private readonly smoother: MotionSmoother;
  private readonly idleOut: IdleSample = { blinkLeft: 0, blinkRight: 0, headYaw: 0, headPitch: 0, headRoll: 0, breath: 0 };
  private readonly zeros = new Float32Array(4096);
  /** phones from a TTS (pushPhones) */
  private readonly phones = new PhoneMouth();
  /** phones the recogniser heard in the audio, where no TTS gave any */
  private readonly heard = new PhoneMouth();
  /**
   * named but not yet handed to `heard`, in the order named (after idling, the recogniser starts
   * over up to 0.2 s before the sound, over phones it named in the silence): a frame sees the phones
   * up to its own end only, so the motion is the same however the audio was chunked (the
   * recogniser names further ahead the more audio it has)
   */
  private heardPending: TimedPhone[] = [];
  /** index of the next frame next() gives */
  private nextFrame = 0;
  /** samples the recogniser has had (the shifted timeline), and how many past a frame's end it needs */
  private heardSamples = 0;
  private readonly heardNeeds: number;
  private readonly recogniser: MouthRecogniser | undefined;
  private readonly phoneShape: PhoneShape = { open: 0, round: 0, spread: 0, closed: false, bite: false, rest: 0 };
  /** samples pushed since the last reset (the timeline's end, 16 kHz) */
  private timeline = 0;
  /** the last press the phones set: released over PRESS_RELEASE_S where they stop (lipPress is not smoothed) */
  private pressHeld = 0;

  /** 16 kHz samples on the timeline (speech + silence) since the last reset. */
  get timelineSamples(): number {
    return this.timeline;
  }
  private stages: Record<MotionStageName, StageStats> = { features: emptyStageStats(), motion: emptyStageStats() };
  private closed = false;

  private constructor(private readonly features: FeatureExtractor, o: MotionPipelineOptions) {
    this.options = Object.freeze(o);
    this.fps = o.fps;
    this.shift = new LipSyncShift({ offsetMs: o.lipSyncOffsetMs, sampleRate: ANALYSIS_RATE });
    this.mouth = new MouthMapper({ ...o.mouth, fps: o.fps, dynamicScale: o.dynamicScale });
    this.state = new SpeechState({ ...o.speech, fps: o.fps });
    this.idle = new IdleMotion({ ...o.idle, fps: o.fps, seed: o.seed, motionScale: o.motionScale });
    const base = new OneEuroFilter(o.smoothing).options;
    const mouth: Partial<OneEuroOptions> = { ...base, minCutoff: base.minCutoff * o.mouthCutoffScale };
    this.smoother = new MotionSmoother(base, [...MOUTH_CHANNELS, ...HEAD_CHANNELS], Object.fromEntries(MOUTH_CHANNELS.map((c) => [c, mouth])));
    this.recogniser = o.recogniser ? new MouthRecogniser() : undefined;
    this.heardNeeds = this.recogniser ? Math.ceil(recogniserLookahead(o.fps, this.recogniser) * ANALYSIS_RATE) : 0;
    this.lookaheadSamples = Math.max(features.lookaheadSamples, this.heardNeeds) + this.shift.lookaheadSamples;
  }

  static async create(options: Partial<MotionPipelineOptions> = {}): Promise<MotionPipeline> {
    const o: MotionPipelineOptions = {
      fps: 25, dynamicScale: 1, motionScale: 1, lipSyncOffsetMs: 0, smoothing: {}, mouthCutoffScale: 2, seed: 1, recogniser: true,
      visemes: {}, vad: {}, mouth: {}, speech: {}, idle: {}, ...options,
    };
    if (!(o.mouthCutoffScale > 0) || !Number.isFinite(o.mouthCutoffScale)) throw new RangeError(`MotionPipeline: mouthCutoffScale must be > 0, got ${o.mouthCutoffScale}`);
    if (!(o.lipSyncOffsetMs >= -200 && o.lipSyncOffsetMs <= 200)) throw new RangeError(`MotionPipeline: lipSyncOffsetMs must be in [-200, 200], got ${o.lipSyncOffsetMs}`);
    const features = await FeatureExtractor.create({ fps: o.fps, visemes: o.visemes, vad: o.vad });
    try {
      return new MotionPipeline(features, o);
    } catch (e) {
      await features.close();
      throw e;
    }
  }

  get lookaheadMs(): number { return (this.lookaheadSamples * 1000) / ANALYSIS_RATE; }
  /** The features' share of the lookahead, ms. */
  get featureLookaheadMs(): number { return this.features.lookaheadMs; }

  /** Appends speech (16 kHz mono float) to the timeline. */
  pushAudio(samples: Float32Array): void {
    this.checkOpen();
    if (!(samples instanceof Float32Array)) throw new TypeError('MotionPipeline.pushAudio: samples must be a Float32Array (16 kHz mono)');
    const shifted = this.shift.process(samples);
    this.features.push(shifted);
    this.hear(shifted);
    this.timeline += samples.length;
  }

  /** The (shifted) audio to the recogniser; what it names goes to `heard`. */
  private hear(samples: Float32Array): void {
    if (!this.recogniser) return;
    this.heardSamples += samples.length;
    for (const p of this.recogniser.push(samples)) this.heardPending.push(p);
  }

  /** `count` samples of silence to the recogniser. */
  private hearSilence(count: number): void {
    if (!this.recogniser) return;
    this.heardSamples += count;
    for (const p of this.recogniser.pushSilence(count)) this.heardPending.push(p);
  }

  /**
   * Phones of speech on the timeline (times in seconds from `atSample`, the 16 kHz sample where
   * that speech starts; by default the timeline's end, i.e. push them just before their audio).
   * The lip-sync offset moves them as it moves the audio.
   */
  pushPhones(phones: readonly TimedPhone[], atSample = this.timeline): void {
    this.checkOpen();
    if (!Number.isFinite(atSample) || atSample < 0) throw new RangeError(`MotionPipeline.pushPhones: atSample must be >= 0, got ${atSample}`);
    this.phones.add(phones, atSample / ANALYSIS_RATE + this.options.lipSyncOffsetMs / 1000);
  }

  /** Appends `count` samples of silence. */
  pushSilence(count: number): void {
    this.checkOpen();
    if (!Number.isInteger(count) || count < 0) throw new RangeError(`MotionPipeline.pushSilence: count must be an integer >= 0, got ${count}`);
    this.timeline += count;
    if (this.shift.offsetSamples === 0) {
      this.features.pushSilence(count);
      this.hearSilence(count);
      return;
    }
    // through the lip-sync shift, which may still hold speech
    for (let left = count; left > 0; left -= this.zeros.length) {
      const shifted = this.shift.process(this.zeros.subarray(0, Math.min(left, this.zeros.length)));
      this.features.push(shifted);
      this.hear(shifted);
    }
  }

  /** Pads the timeline with silence so every frame that holds pushed audio becomes ready (the end of the input). */
  flush(): void {
    this.checkOpen();
    if (this.shift.offsetSamples > 0) this.pushSilence(this.shift.offsetSamples);
    this.features.flush();
    // the recogniser settles its last phones on silence, as the features do
    this.hearSilence(this.heardNeeds + Math.ceil(ANALYSIS_RATE / this.fps));
  }

  framesReady(): number {
    const n = this.features.framesReady();
    if (!this.recogniser || n === 0) return n;
    // and the recogniser has heard recogniserLookahead past the frame's end (its phones are final)
    const settled = Math.floor(((this.heardSamples - this.heardNeeds) * this.fps) / ANALYSIS_RATE + 1e-9);
    return Math.max(0, Math.min(n, settled - this.nextFrame));
  }

  /** Computes up to `max` ready frames (all by default), in order. */
  async next(max = Infinity): Promise<MotionFrame[]> {
    this.checkOpen();
    const t0 = performance.now();
    const feats = await this.features.next(Math.min(max, this.framesReady()));
    if (feats.length === 0) return [];
    const perFrame = (performance.now() - t0) / feats.length;
    const dt = 1 / this.fps;
    const out: MotionFrame[] = [];
    for (const f of feats) {
      recordStage(this.stages.features, perFrame);
      const t1 = performance.now();
      const speaking = this.state.process(f.vad);
      const params: MotionParams = { jawOpen: 0, lipWidth: 0, lipRound: 0, lipPress: 0, lipBite: 0, blinkLeft: 0, blinkRight: 0, headYaw: 0, headPitch: 0, headRoll: 0, breath: 0 };
      this.mouth.process(f, params);
      const t0 = f.index * dt;
      // a TTS's phones first; else what the recogniser heard, where there is voice (the voice
      // probability too, not only the speaking state, which waits a few frames: a first /b/ would
      // be lost) or where it heard a closure (silent itself: the hold before a /p/)
      this.takeHeard(t0 + dt);
      let shape = this.phones.shape(t0, t0 + dt, this.phoneShape);
      if (!shape) {
        const heard = this.heard.shape(t0, t0 + dt, this.phoneShape);
        if (heard && (speaking || f.vad >= this.mouth.options.vadLow || heard.closed)) shape = heard;
      }
      Object.assign(params, this.idle.process(f.index, speaking, this.idleOut));
      this.smoother.filter(params, dt);
      if (shape) {
        this.phoneMouth(shape, params);
        this.pressHeld = params.lipPress;
      } else if (this.pressHeld > 0) {
        // the speech ended on rested lips: the photo's own mouth comes back over a few frames, not at once
        this.pressHeld = this.pressHeld < 0.01 ? 0 : this.pressHeld * Math.exp(-dt / PRESS_RELEASE_S);
        params.lipPress = this.pressHeld;
      }
      this.phones.forgetBefore(t0);
      this.heard.forgetBefore(t0);
      out.push({ index: f.index, pts: f.pts, params, speaking, features: f });
      this.nextFrame = f.index + 1;
      recordStage(this.stages.motion, performance.now() - t1);
    }
    return out;
  }

  /**
   * Hands the named phones that end by `t` + HEARD_CUT to `heard`, a later one replacing what it
   * overlaps (PhoneMouth.add does so across calls). The lookahead (recogniserLookahead) makes sure
   * all of them are named by the time the frame is ready, and none further on is taken: the frame
   * sees the same phones whatever the chunking.
   */
  private takeHeard(t: number): void {
    let n = 0;
    while (n < this.heardPending.length && this.heardPending[n]!.end <= t + HEARD_CUT) n++;
    if (n === 0) return;
    const taken: TimedPhone[] = [];
    for (const p of this.heardPending.slice(0, n)) {
      while (taken.length > 0 && taken[taken.length - 1]!.end > p.start) taken.pop();
      taken.push(p);
    }
    this.heard.add(taken, 0);
    this.heardPending = this.heardPending.slice(n);
  }

  /**
   * The phones' mouth in place of the audio's: already smooth (co-articulated), so the mouth
   * filters are set to it rather than run over it (a closure must reach 0 on its frame).
   */
  private phoneMouth(shape: PhoneShape, params: MotionParams): void {
    const s = this.options.dynamicScale;
    // the opening: mostly the phones' target (scaled by the loudness), partly the audio's own opening
    // (already in params: the loudness rhythm the eye follows); a closure is a closure
    const loud = 0.3 + 0.7 * this.mouth.level;
    params.jawOpen = shape.closed ? 0 : Math.min(1, 0.3 * params.jawOpen + 0.7 * s * shape.open * loud);
    // in a pause inside speech the lips come to rest together: a photo that smiles showing its teeth
    // closes them between phrases rather than holding its grin (on lips that meet in the photo a
    // press changes nothing); at the end of the speech the smoother hands the mouth back to the photo
    params.lipPress = Math.min(1, s) * (shape.closed ? 1 : shape.rest);
    params.lipBite = shape.bite && !shape.closed ? Math.min(1, s) : 0;
    // pressed lips flatten: a /b/ before /u/ closes with less of the rounding (read as an opening)
    params.lipRound = Math.min(1, s * shape.round * (shape.closed ? 0.4 : 1));
    params.lipWidth = Math.max(-1, Math.min(1, s * shape.spread));
    for (const c of MOUTH_CHANNELS) this.smoother.reset(params[c], [c]);
  }

  /**
   * Barge-in: audio not yet shown becomes silence, the speaking state ends, mouth smoothing restarts
   * at rest, so the next frame has the mouth closed (jawOpen = 0). Head motion, blinks and breathing
   * go on without a jump. Frame indices and the timeline length are kept.
   */
  interrupt(): void {
    this.checkOpen();
    this.features.interrupt(); // first: it refuses while next() runs, before anything has changed
    this.shift.silence();
    this.phones.clear();
    this.heard.clear();
    this.heardPending = [];
    this.recogniser?.reset(this.heardSamples / ANALYSIS_RATE); // what it holds will not be shown
    this.mouth.reset();
    this.state.reset();
    this.smoother.reset(0, MOUTH_CHANNELS);
    this.pressHeld = 0;
    this.smoother.settle(HEAD_CHANNELS);
  }

  /** Back to frame 0, an empty timeline and the seed's first idle motion. */
  reset(): void {
    this.checkOpen();
    this.shift.reset();
    this.features.reset();
    this.phones.clear();
    this.heard.clear();
    this.heardPending = [];
    this.recogniser?.reset(0);
    this.pressHeld = 0;
    this.nextFrame = 0;
    this.heardSamples = 0;
    this.timeline = 0;
    this.mouth.reset();
    this.state.reset();
    this.idle.reset();
    this.smoother.reset();
    this.stages = { features: emptyStageStats(), motion: emptyStageStats() };
  }

  /** Per-frame time spent in each stage, ms. */
  stats(): Record<MotionStageName, StageStats> {
    return { features: { ...this.stages.features }, motion: { ...this.stages.motion } };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.features.close();
  }

  private checkOpen(): void {
    if (this.closed) throw new Error('MotionPipeline: closed');
  }
}
