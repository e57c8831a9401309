/**
 * The Sonic runner: drives the eight ONNX sub-models of an export (contract.ts) through the pure
 * cores (preprocess, mel, sampler, windows, audio-track) as the official pipeline does (sonic.py
 * test() and SonicPipeline), and keeps per-stage timings. The engine
 * (pipeline/engine/sonic-engine.ts) uses it for the live server (streaming windows) and the
 * renderer (offline, the whole clip); the parity harness (models/sonic/parity/) checks it stage by
 * stage against the official code.
 *
 *   portrait  -> preprocess.ts (PIL Lanczos to the export's frame, face mask x 1.1, CLIP input)
 *             -> VAE encoder: mean latent; x 0.18215 = the sampler's start, unscaled = the UNet's
 *                image condition (of the portrait + noise_aug * noise; 0 by default, as sonic.yaml)
 *             -> CLIP encoder -> image embedding
 *   audio     -> log-mel (mel.ts) -> whisper encoder, 30 s at a time -> hidden states (50/s),
 *                kept up to floor(samples / 640) * 2 frames (the official audio_len * 2)
 *             -> audio2token per generated frame (10 whisper frames) -> tokens
 *             -> audio2bucket per generated frame (50 frames of the last state + embedding) -> C
 *                buckets; a window's are the mean of its frames' x dynamic_scale
 *   sampler   x = start latent + sigma_max * noise; Euler over inference_steps; every step runs the
 *             UNet per window with the three guidance branches in one batch (uncond: no image
 *             latent, no embedding, silence's tokens; image: image latent + embedding, silence's
 *             tokens; full: image + audio), the face mask and time ids [12.5, b0, b1]
 *   VAE       decodes the latents (/ 0.18215) in chunks of decode_chunk_frames (the last smaller)
 *   RIFE      the middle frame between consecutive frames: 12.5 -> 25 fps
 *
 * Buffers fed to the UNet are allocated once per window length and reused (FP16 exports get
 * float16 copies of them, also reused).
 */
import * as ort from 'onnxruntime-node';
import { join } from 'node:path';
import type { Config } from '../../config/schema.js';
import type { Box } from '../face/PortraitTypes.js';
import { emptyStageStats, recordStage, type StageStats } from '../../pipeline/engine/EngineTypes.js';
import { AUDIO_WINDOWS, SONIC_CONTRACT, SVD, TIME_ID_FPS, WHISPER, checkSessionNames, checkSessionShapes, type SonicDims, type SubModelSpec } from './contract.js';
import { fromHalf, toHalf } from './fp16.js';
import { MEL, type MelTimeline } from './mel.js';
import { openWithFallback, type OpenedSession, type ProviderSettings } from './providers.js';
import { gaussian, sampleEuler, SVD_SCHEDULE, type GuidanceScales } from './sampler.js';
import { bucketWindowStart, gatherFrames, SAMPLES_PER_WHISPER, tokenWindowStart, type WhisperTrack } from './audio-track.js';
import { prepareSonicInputs } from './preprocess.js';
import { shiftedWindows, type Window } from './windows.js';
import { checkWeights, manifestDims, type SonicManifest } from './weights.js';

export type SubId = SubModelSpec['id'];

export interface SonicRunnerOptions {
  weightsDir: string;
  providers: ProviderSettings;
  steps: number;
  guidance: GuidanceScales;
  seed: number;
  dynamicScale: number;
  lipSyncOffsetMs: number;
  noiseAugStrength: number;
  decodeChunkFrames: number;
  /** compare every file's SHA-256 with the manifest at open (slow for GB files) */
  verifyChecksums?: boolean;
}

export function runnerOptionsFromConfig(config: Config): SonicRunnerOptions {
  const s = config.sonic;
  return {
    weightsDir: s.weights_dir,
    providers: { order: s.providers, fp16: s.fp16, trtCacheDir: s.trt_cache_dir, deviceId: s.device_id, intraOpThreads: config.runtime.intra_op_threads },
    steps: config.avatar.inference_steps,
    guidance: { image: s.image_guidance, audio: s.audio_guidance },
    seed: config.avatar.seed,
    dynamicScale: config.avatar.dynamic_scale,
    lipSyncOffsetMs: config.avatar.lip_sync_offset_ms,
    noiseAugStrength: s.noise_aug_strength,
    decodeChunkFrames: s.decode_chunk_frames,
  };
}

/** A portrait for Sonic: RGBA pixels and the face box (the official pipeline's detector box) in them. */
export interface SonicPortrait {
  rgba: Uint8Array;
  width: number;
  height: number;
  faceBox: Box;
}

/** The portrait's conditioning, computed once per portrait. */
export interface SonicCondition {
  /** the export's frame size = the output frame size */
  width: number;
  height: number;
  /** the region of the portrait that was used (all of it when its aspect is the export's) */
  crop: Box;
  /** VAE latent (mean) of the portrait, [4, h, w]: x 0.18215 the sampler's start */
  latent: Float32Array;
  /** the UNet's image condition: the latent of the noise-augmented portrait (= latent at noise_aug 0) */
  imageLatent: Float32Array;
  /** CLIP embedding, [D] */
  embeds: Float32Array;
  /** the face mask [H, W] in [0, 1] */
  mask: Float32Array;
}

/** The three guidance branches' predictions for one window. */
interface Branches {
  uncond: Float32Array;
  image: Float32Array;
  full: Float32Array;
}

/** UNet feeds for one window length, allocated once. */
interface UnetBuffers {
  frames: number;
  sample: Float32Array;
  tokens: Float32Array;
  ehs: Float32Array;
  timeIds: Float32Array;
  timestep: Float32Array;
  half?: { sample: Uint16Array; tokens: Uint16Array; ehs: Uint16Array; timeIds: Uint16Array; timestep: Uint16Array; mask: Uint16Array };
}

/** Generated frames of a clip of `samples` 16 kHz samples, as sonic.py: audio_len = samples // 640, frames = audio_len // 2. */
export function clipFrames(samples: number): { audioLen: number; frames: number; whisperFrames: number } {
  const audioLen = Math.floor(samples / 640);
  return { audioLen, frames: Math.floor(audioLen / 2), whisperFrames: audioLen * 2 };
}

/** added_time_ids of a window: [12.5, b0, b1, ...], the buckets being its frames' mean x dynamic_scale. */
export function windowTimeIds(frameBuckets: Float32Array, C: number, first: number, size: number, total: number, dynamicScale: number): Float32Array {
  const out = new Float32Array(1 + C);
  out[0] = TIME_ID_FPS;
  for (let f = 0; f < size; f++) {
    const g = (((first + f) % total) + total) % total;
    for (let c = 0; c < C; c++) out[1 + c]! += frameBuckets[g * C + c]!;
  }
  for (let c = 0; c < C; c++) out[1 + c] = (out[1 + c]! / size) * dynamicScale;
  return out;
}

export class SonicRunner {
  readonly stats: Record<string, StageStats> = {};
  /** whisper hidden-state width, L * A */
  readonly audioWidth: number;
  private readonly unetBuffers = new Map<number, UnetBuffers>();
  private condition: SonicCondition | undefined;
  /** audio2token of silence (all-zero whisper frames): the uncond and image branches' tokens, [T, D] */
  private silenceTokens: Float32Array | undefined;
  private noiseOverride: Float32Array | undefined;
  private closed = false;

  private constructor(
    readonly options: SonicRunnerOptions,
    readonly manifest: SonicManifest,
    readonly dims: SonicDims,
    private readonly sessions: Record<SubId, OpenedSession>,
  ) {
    this.audioWidth = dims.L * dims.A;
  }

  /** Checks the weights folder and opens every sub-model on the first provider that works. */
  static async open(options: SonicRunnerOptions): Promise<SonicRunner> {
    const manifest = await checkWeights(options.weightsDir, { verify: options.verifyChecksums });
    const dims = manifestDims(manifest);
    if (dims.C !== 2) throw new Error(`${options.weightsDir}: the export declares ${dims.C} motion buckets per frame; SVD's UNet takes three time ids (fps and two buckets), so 2`);
    const { width: W, height: H } = manifest.frame;
    const shapeDims = { ...dims, W, H, w: W / SVD.vaeFactor, h: H / SVD.vaeFactor };
    const sessions: Partial<Record<SubId, OpenedSession>> = {};
    try {
      for (const spec of SONIC_CONTRACT) {
        const opened = await openWithFallback(join(options.weightsDir, spec.file), options.providers);
        sessions[spec.id] = opened;
        checkSessionNames(spec, opened.session.inputNames, opened.session.outputNames);
        checkSessionShapes(spec, shapeDims, metadata(opened.session.inputMetadata), metadata(opened.session.outputMetadata));
      }
    } catch (e) {
      await Promise.all(Object.values(sessions).map((s) => s.session.release()));
      throw e;
    }
    return new SonicRunner(options, manifest, dims, sessions as Record<SubId, OpenedSession>);
  }

  get fp16(): boolean {
    return this.manifest.precision === 'fp16';
  }

  /** The frame size the export serves (its manifest's). */
  get frame(): { width: number; height: number } {
    return this.manifest.frame;
  }

  /** Where each sub-model runs, and the providers skipped on the way with their reason. */
  providerReport(): Record<SubId, { provider: string; skipped: { provider: string; reason: string }[] }> {
    return Object.fromEntries(Object.entries(this.sessions).map(([id, s]) => [id, { provider: s.provider, skipped: s.skipped }])) as Record<
      SubId,
      { provider: string; skipped: { provider: string; reason: string }[] }
    >;
  }

  /** Latent values per generated frame (4 * h * w). */
  get frameSize(): number {
    return SVD.latentChannels * (this.frame.height / SVD.vaeFactor) * (this.frame.width / SVD.vaeFactor);
  }

  /** audio2token of silence, [T, D] (what the uncond and image branches hear) */
  get silence(): Float32Array {
    if (!this.silenceTokens) throw new Error('SonicRunner: conditionOn(portrait) first');
    return this.silenceTokens;
  }

  /** Encodes the portrait (preprocessing, VAE latent, CLIP embedding, face mask); later calls replace it. */
  async conditionOn(p: SonicPortrait): Promise<SonicCondition> {
    const t0 = performance.now();
    const inp = prepareSonicInputs(p.rgba, p.width, p.height, p.faceBox, this.frame);
    this.record('preprocess', performance.now() - t0);
    const { width: W, height: H } = inp;
    const [embeds] = await this.run('image_encoder', { pixel_values: [inp.clip, [1, 3, SVD.clipSize, SVD.clipSize]] });
    const [latent] = await this.run('vae_encoder', { image: [inp.ref, [1, 3, H, W]] });
    let imageLatent = latent!;
    if (this.options.noiseAugStrength > 0) {
      const n = gaussian(inp.ref.length, this.options.seed ^ 0x5eed);
      const noisy = inp.ref.map((v, i) => v + this.options.noiseAugStrength * n[i]!);
      [imageLatent] = (await this.run('vae_encoder', { image: [noisy, [1, 3, H, W]] })) as [Float32Array];
    }
    this.condition = { width: W, height: H, crop: inp.crop, latent: latent!, imageLatent, embeds: embeds!, mask: inp.mask };
    this.unetBuffers.clear();
    const [silence] = await this.run('audio2token', { audio_window: [new Float32Array(AUDIO_WINDOWS.token * this.audioWidth), [1, AUDIO_WINDOWS.token, this.dims.L, this.dims.A]] });
    this.silenceTokens = silence!;
    return this.condition;
  }

  /** The whisper encoder on one [80, 3000] log-mel input: hidden states [1500, L, A]. */
  async whisper(features: Float32Array): Promise<Float32Array> {
    const [hidden] = await this.run('audio_encoder', { input_features: [features, [1, MEL.bins, MEL.frames]] });
    return hidden!;
  }

  /**
   * Whisper hidden states of the 30 s of mel frames from `startMel` (even): 1500 whisper frames
   * from whisper frame startMel / 2.
   */
  async encodeAudio(mel: MelTimeline, startMel: number): Promise<WhisperTrack> {
    if (startMel % 2 !== 0) throw new RangeError(`encodeAudio: startMel must be even, got ${startMel}`);
    const t0 = performance.now();
    const features = mel.features(startMel);
    this.record('mel', performance.now() - t0);
    const hidden = await this.whisper(features);
    // whisper frames past the audio pushed so far are padding: the track ends with the audio
    const audioFrames = Math.ceil(mel.sampleCount / SAMPLES_PER_WHISPER) - startMel / 2;
    return { start: startMel / 2, count: Math.max(0, Math.min(WHISPER.hiddenFrames, audioFrames)), width: this.audioWidth, data: hidden };
  }

  /** Whisper hidden states of a whole clip, 30 s at a time (as the reference), up to `whisperFrames` or the audio's end. */
  async encodeClip(mel: MelTimeline, whisperFrames: number): Promise<WhisperTrack> {
    const frames = Math.min(whisperFrames, Math.ceil(mel.sampleCount / SAMPLES_PER_WHISPER));
    const data = new Float32Array(Math.max(1, frames) * this.audioWidth);
    for (let start = 0; start < frames; start += WHISPER.hiddenFrames) {
      const span = await this.encodeAudio(mel, start * 2);
      const n = Math.min(WHISPER.hiddenFrames, frames - start);
      data.set(span.data.subarray(0, n * this.audioWidth), start * this.audioWidth);
    }
    return { start: 0, count: frames, width: this.audioWidth, data };
  }

  /** Audio tokens of generated frames [first, first + n): [n, T, D]. */
  async tokens(track: WhisperTrack, first: number, n: number): Promise<Float32Array> {
    const win = new Float32Array(n * AUDIO_WINDOWS.token * this.audioWidth);
    for (let i = 0; i < n; i++) gatherFrames(track, tokenWindowStart(first + i, this.options.lipSyncOffsetMs), AUDIO_WINDOWS.token, win, i * AUDIO_WINDOWS.token);
    const [tokens] = await this.run('audio2token', { audio_window: [win, [n, AUDIO_WINDOWS.token, this.dims.L, this.dims.A]] });
    return tokens!;
  }

  /** Motion buckets of generated frames [first, first + n), C per frame (x 16 + 16 is in the graph): [n, C]. */
  async frameBuckets(track: WhisperTrack, first: number, n: number): Promise<Float32Array> {
    const c = this.requireCondition();
    const A = this.dims.A;
    const win = new Float32Array(n * AUDIO_WINDOWS.bucket * A);
    // the last hidden state of each whisper frame
    const last = { at: (this.dims.L - 1) * A, width: A };
    for (let i = 0; i < n; i++) gatherFrames(track, bucketWindowStart(first + i, this.options.lipSyncOffsetMs), AUDIO_WINDOWS.bucket, win, i * AUDIO_WINDOWS.bucket, last);
    const embeds = new Float32Array(n * this.dims.D);
    for (let i = 0; i < n; i++) embeds.set(c.embeds, i * this.dims.D);
    const [buckets] = await this.run('audio2bucket', {
      audio_window: [win, [n, AUDIO_WINDOWS.bucket, 1, A]],
      image_embeds: [embeds, [n, this.dims.D]],
    });
    return buckets!;
  }

  /** added_time_ids of the window [first, first + size) of a clip of `total` frames whose per-frame buckets are given. */
  timeIds(frameBuckets: Float32Array, first: number, size: number, total: number): Float32Array {
    return windowTimeIds(frameBuckets, this.dims.C, first, size, total, this.options.dynamicScale);
  }

  /**
   * Frame g's start noise from `noise` ([frames, 4, h, w]) while g is inside it, seeded beyond
   * (the parity harness injects the official run's noise; undefined goes back to the seed).
   */
  useNoise(noise: Float32Array | undefined): void {
    this.noiseOverride = noise;
  }

  /** The starting noise of generated frame g (the same offline and streaming, for one seed). */
  frameNoise(g: number): Float32Array {
    const fs = this.frameSize;
    if (this.noiseOverride && (g + 1) * fs <= this.noiseOverride.length) return this.noiseOverride.slice(g * fs, (g + 1) * fs);
    return gaussian(this.frameSize, (Math.imul(this.options.seed + 1, 0x9e3779b1) ^ Math.imul(g + 1, 0x85ebca6b)) >>> 0);
  }

  /** The sampler's start latent (portrait latent x 0.18215) repeated over `frames` frames. */
  private startLatent(frames: number): Float32Array {
    const c = this.requireCondition();
    const fs = this.frameSize;
    const out = new Float32Array(frames * fs);
    for (let i = 0; i < fs; i++) out[i] = c.latent[i]! * SVD.scalingFactor;
    for (let f = 1; f < frames; f++) out.copyWithin(f * fs, 0, fs);
    return out;
  }

  /**
   * Offline (SonicPipeline): the whole clip of `total` generated frames; at every step every
   * window of `window` frames (frames modulo total) is denoised and a frame's result is the mean of
   * the windows that hold it; the windows start shiftOffset frames earlier at each step.
   * `tokens` [total, T, D]; `buckets` [total, C] per frame; `noise` [total, 4, h, w] (else seeded).
   */
  async sampleOffline(o: {
    total: number;
    window: number;
    overlap: number;
    shiftOffset: number;
    tokens: Float32Array;
    buckets: Float32Array;
    noise?: Float32Array;
    onStep?: (step: number, latents: Float32Array) => void;
    onWindow?: (step: number, w: Window, timeIds: Float32Array) => void;
  }): Promise<Float32Array> {
    const fs = this.frameSize;
    const tokenSize = this.dims.T * this.dims.D;
    const noise = o.noise ?? new Float32Array(o.total * fs);
    if (!o.noise) for (let g = 0; g < o.total; g++) noise.set(this.frameNoise(g), g * fs);
    const size = o.window;
    const winX = new Float32Array(size * fs);
    const winTokens = new Float32Array(size * tokenSize);
    const sums = { uncond: new Float32Array(o.total * fs), image: new Float32Array(o.total * fs), full: new Float32Array(o.total * fs) };
    const counts = new Float32Array(o.total);
    return sampleEuler({
      size: o.total * fs,
      schedule: { steps: this.options.steps, ...SVD_SCHEDULE },
      guidance: this.options.guidance,
      seed: this.options.seed,
      noise,
      init: this.startLatent(o.total),
      onStep: (s, _sigma, x) => {
        if (o.onStep) o.onStep(s, x);
      },
      denoise: async (scaled, cNoise, step) => {
        for (const b of Object.values(sums)) b.fill(0);
        counts.fill(0);
        for (const w of shiftedWindows(o.total, size, o.overlap, step, o.shiftOffset)) {
          for (let f = 0; f < size; f++) {
            const at = (w.start + f) % o.total;
            winX.set(scaled.subarray(at * fs, (at + 1) * fs), f * fs);
            winTokens.set(o.tokens.subarray(at * tokenSize, (at + 1) * tokenSize), f * tokenSize);
          }
          const ids = this.timeIds(o.buckets, w.start, size, o.total);
          o.onWindow?.(step, w, ids);
          const p = await this.unet(winX, cNoise, winTokens, ids, size);
          for (let f = 0; f < size; f++) {
            const at = (w.start + f) % o.total;
            counts[at]! += 1;
            for (const k of ['uncond', 'image', 'full'] as const) {
              const dst = sums[k];
              const src = p[k];
              for (let i = 0; i < fs; i++) dst[at * fs + i]! += src[f * fs + i]!;
            }
          }
        }
        for (let g = 0; g < o.total; g++) {
          const inv = 1 / counts[g]!;
          for (const b of Object.values(sums)) for (let i = g * fs; i < (g + 1) * fs; i++) b[i]! *= inv;
        }
        return sums;
      },
    });
  }

  /**
   * Streaming: one causal window of `size` generated frames from frame `first`, with the window's
   * time ids. Its first `pinned.frames` frames are shared with the previous window: at every step
   * they are set to the previous window's result noised to the step's sigma, so the new window
   * continues it.
   */
  async sampleWindow(o: { first: number; size: number; tokens: Float32Array; timeIds: Float32Array; pinned?: { frames: number; latents: Float32Array } }): Promise<Float32Array> {
    const fs = this.frameSize;
    const noise = new Float32Array(o.size * fs);
    for (let f = 0; f < o.size; f++) noise.set(this.frameNoise(o.first + f), f * fs);
    const pinnedValues = o.pinned ? o.pinned.frames * fs : 0;
    const t0 = performance.now();
    const x = await sampleEuler({
      size: o.size * fs,
      schedule: { steps: this.options.steps, ...SVD_SCHEDULE },
      guidance: this.options.guidance,
      seed: this.options.seed,
      noise,
      init: this.startLatent(o.size),
      beforeStep: pinnedValues
        ? (x, sigma) => {
            for (let i = 0; i < pinnedValues; i++) x[i] = o.pinned!.latents[i]! + sigma * noise[i]!;
          }
        : undefined,
      denoise: (scaled, cNoise) => this.unet(scaled, cNoise, o.tokens, o.timeIds, o.size),
    });
    this.record('sample_window', performance.now() - t0);
    return x;
  }

  /** Decodes `frames` generated frames of latents into planes [frames, 3, H, W] in [-1, 1], decode_chunk_frames at a time. */
  async decode(latents: Float32Array, frames: number): Promise<Float32Array> {
    const { width: W, height: H } = this.frame;
    const fs = this.frameSize;
    const px = 3 * W * H;
    const out = new Float32Array(frames * px);
    const chunk = this.options.decodeChunkFrames;
    for (let f = 0; f < frames; f += chunk) {
      const n = Math.min(chunk, frames - f);
      const scaled = latents.slice(f * fs, (f + n) * fs);
      for (let i = 0; i < scaled.length; i++) scaled[i]! /= SVD.scalingFactor;
      const [rgb] = await this.run('vae_decoder', { latents: [scaled, [n, SVD.latentChannels, H / SVD.vaeFactor, W / SVD.vaeFactor]] });
      out.set(rgb!.subarray(0, n * px), f * px);
    }
    return out;
  }

  /**
   * RIFE between two frames given as planes [3, H, W] in [0, 1] (Sonic.process: the decoded video
   * clamped, video * 0.5 + 0.5; frames.ts toUnit): the middle frame, in [0, 1].
   */
  async interpolate(a: Float32Array, b: Float32Array): Promise<Float32Array> {
    const { width: W, height: H } = this.frame;
    const [mid] = await this.run('interpolator', { frame0: [a, [1, 3, H, W]], frame1: [b, [1, 3, H, W]] });
    return mid!;
  }

  /**
   * The offline clip as sonic.py test() builds it from 16 kHz audio: its generated frames, per-frame
   * tokens and buckets, and the sampled latents. `noise` [frames, 4, h, w] replaces the seeded noise.
   */
  async offlineClip(
    mel: MelTimeline,
    o: { window: number; overlap: number; shiftOffset: number; noise?: Float32Array; onStep?: (step: number, latents: Float32Array) => void; onWindow?: (step: number, w: Window, timeIds: Float32Array) => void },
  ): Promise<{ frames: number; track: WhisperTrack; tokens: Float32Array; buckets: Float32Array; latents: Float32Array }> {
    const { frames, whisperFrames } = clipFrames(mel.sampleCount);
    if (frames < 1) throw new RangeError(`SonicRunner.offlineClip: ${mel.sampleCount} samples make no frame (Sonic needs at least 80 ms of audio)`);
    const track = await this.encodeClip(mel, whisperFrames);
    const tokenSize = this.dims.T * this.dims.D;
    const tokens = new Float32Array(frames * tokenSize);
    const buckets = new Float32Array(frames * this.dims.C);
    for (let g = 0; g < frames; g += 64) {
      const n = Math.min(64, frames - g);
      tokens.set(await this.tokens(track, g, n), g * tokenSize);
      buckets.set(await this.frameBuckets(track, g, n), g * this.dims.C);
    }
    const latents = await this.sampleOffline({ total: frames, window: o.window, overlap: o.overlap, shiftOffset: o.shiftOffset, tokens, buckets, noise: o.noise, onStep: o.onStep, onWindow: o.onWindow });
    return { frames, track, tokens, buckets, latents };
  }

  /** One sub-model run on float32 feeds (the parity harness's isolated stage checks). */
  async runSubModel(id: SubId, feeds: Record<string, [Float32Array, number[]]>): Promise<Float32Array[]> {
    return this.run(id, feeds, false);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all(Object.values(this.sessions).map((s) => s.session.release()));
  }

  /** One UNet run over a window: the three guidance branches in one batch of 3. */
  private async unet(scaled: Float32Array, cNoise: number, tokens: Float32Array, timeIds: Float32Array, frames: number): Promise<Branches> {
    const c = this.requireCondition();
    const b = this.buffersFor(frames);
    const fs = this.frameSize;
    const perBranch = frames * 2 * fs;
    // sample: per branch and frame, the 4 noisy channels (here) then the 4 image-latent channels (set once in buffersFor)
    for (let br = 0; br < 3; br++) {
      for (let f = 0; f < frames; f++) b.sample.set(scaled.subarray(f * fs, (f + 1) * fs), br * perBranch + f * 2 * fs);
    }
    b.tokens.set(tokens.subarray(0, frames * this.dims.T * this.dims.D), 2 * frames * this.dims.T * this.dims.D);
    b.timestep.fill(cNoise);
    for (let br = 0; br < 3; br++) b.timeIds.set(timeIds.subarray(0, 3), br * 3);
    const h = c.height / SVD.vaeFactor;
    const w = c.width / SVD.vaeFactor;
    const t0 = performance.now();
    const [pred] = await this.run(
      'unet',
      {
        sample: [b.sample, [3, frames, 2 * SVD.latentChannels, h, w], b.half?.sample],
        timestep: [b.timestep, [3], b.half?.timestep],
        encoder_hidden_states: [b.ehs, [3, 1, this.dims.D], b.half?.ehs],
        audio_tokens: [b.tokens, [3, frames, this.dims.T, this.dims.D], b.half?.tokens],
        face_mask: [c.mask, [1, 1, c.height, c.width], b.half?.mask],
        added_time_ids: [b.timeIds, [3, 3], b.half?.timeIds],
      },
      false,
    );
    this.record('unet', performance.now() - t0);
    const n = frames * fs;
    return { uncond: pred!.subarray(0, n), image: pred!.subarray(n, 2 * n), full: pred!.subarray(2 * n, 3 * n) };
  }

  private buffersFor(frames: number): UnetBuffers {
    let b = this.unetBuffers.get(frames);
    if (b) return b;
    const c = this.requireCondition();
    const fs = this.frameSize;
    const td = this.dims.T * this.dims.D;
    b = {
      frames,
      sample: new Float32Array(3 * frames * 2 * fs),
      tokens: new Float32Array(3 * frames * td),
      ehs: new Float32Array(3 * this.dims.D),
      timeIds: new Float32Array(9),
      timestep: new Float32Array(3),
    };
    // the image and full branches see the image latent in every frame (the uncond branch keeps zeros)
    for (let br = 1; br < 3; br++) {
      for (let f = 0; f < frames; f++) b.sample.set(c.imageLatent, br * frames * 2 * fs + f * 2 * fs + fs);
    }
    // the uncond and image branches hear silence: its tokens, every frame
    for (let f = 0; f < 2 * frames; f++) b.tokens.set(this.silenceTokens!, f * td);
    b.ehs.set(c.embeds, this.dims.D); // uncond keeps zeros
    b.ehs.set(c.embeds, 2 * this.dims.D);
    if (this.fp16) {
      b.half = {
        sample: new Uint16Array(b.sample.length),
        tokens: new Uint16Array(b.tokens.length),
        ehs: new Uint16Array(b.ehs.length),
        timeIds: new Uint16Array(9),
        timestep: new Uint16Array(3),
        mask: new Uint16Array(c.mask.length),
      };
    }
    this.unetBuffers.set(frames, b);
    return b;
  }

  /**
   * Runs a sub-model: feeds are [float32 data, dims, optional preallocated float16 buffer];
   * FP16 exports get float16 tensors and give float16 outputs, converted back here.
   * `timed`: record the run under the sub-model's name.
   */
  private async run(id: SubId, feeds: Record<string, [Float32Array, number[], Uint16Array?]>, timed = true): Promise<Float32Array[]> {
    if (this.closed) throw new Error('SonicRunner: closed');
    const t0 = performance.now();
    const tensors: Record<string, ort.Tensor> = {};
    for (const [name, [data, dims, half]] of Object.entries(feeds)) {
      tensors[name] = this.fp16 ? new ort.Tensor('float16', toHalf(data, half), dims) : new ort.Tensor('float32', data, dims);
    }
    const session = this.sessions[id].session;
    const out = await session.run(tensors);
    const result = session.outputNames.map((n) => {
      const t = out[n]!;
      return t.type === 'float16' ? fromHalf(t.data as Uint16Array) : (t.data as Float32Array);
    });
    if (timed) this.record(id, performance.now() - t0);
    return result;
  }

  private record(stage: string, ms: number): void {
    recordStage((this.stats[stage] ??= emptyStageStats()), ms);
  }

  private requireCondition(): SonicCondition {
    if (!this.condition) throw new Error('SonicRunner: conditionOn(portrait) first');
    return this.condition;
  }
}

function metadata(m: readonly ort.InferenceSession.ValueMetadata[] | undefined): { name: string; shape?: ReadonlyArray<number | string> }[] {
  return (m ?? []).map((v) => ({ name: v.name, shape: v.isTensor ? v.shape : undefined }));
}
