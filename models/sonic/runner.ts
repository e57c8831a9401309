/**
 * The Sonic runner: drives the seven ONNX sub-models of an export (contract.ts) through the pure
 * cores (mel, sampler, windows, audio-track) and keeps per-stage timings. The engine
 * (pipeline/engine/sonic-engine.ts) uses it for the live server (streaming windows) and the
 * renderer (offline, the whole clip).
 *
 *   portrait  -> crop to multiples of 64 -> VAE encoder (noise-augmented) -> image latent
 *             -> CLIP encoder -> image embedding
 *   audio     -> log-mel (mel.ts) -> whisper encoder, 30 s at a time -> hidden states (50/s)
 *             -> audio2token per generated frame (10 whisper frames) -> tokens
 *             -> audio2bucket per generated frame (50 frames of the last state + embedding),
 *                averaged over a window -> motion bucket x dynamic_scale
 *   sampler   Euler over inference_steps; every step runs the UNet once per window with the three
 *             guidance branches in one batch (uncond: no image latent, no embedding, silence's
 *             tokens; image: image latent + embedding, silence's tokens; full: image + audio) and
 *             blends the windows
 *   VAE       decodes the latents (/ 0.18215) in chunks of decode_chunk_frames
 *
 * Buffers fed to the UNet are allocated once per window length and reused (FP16 exports get
 * float16 copies of them, also reused).
 */
import * as ort from 'onnxruntime-node';
import { join } from 'node:path';
import type { Config } from '../../config/schema.js';
import { emptyStageStats, recordStage, type StageStats } from '../../pipeline/engine/EngineTypes.js';
import { AUDIO_WINDOWS, SONIC_CONTRACT, SVD, WHISPER, checkSessionNames, checkSessionShapes, type SonicDims, type SubModelSpec } from './contract.js';
import { fromHalf, toHalf } from './fp16.js';
import { MEL, type MelTimeline } from './mel.js';
import { openWithFallback, type OpenedSession, type ProviderSettings } from './providers.js';
import { gaussian, sampleEuler, SVD_SCHEDULE, type GuidanceScales } from './sampler.js';
import { bucketWindowStart, gatherFrames, GENERATED_FPS, SAMPLES_PER_WHISPER, tokenWindowStart, type WhisperTrack } from './audio-track.js';
import { clipPixels, cropToMultiple, rgbaToPlanes } from './frames.js';
import { shiftedWindows, WindowBlender, windowWeights, type Window } from './windows.js';
import { checkWeights, manifestDims, type SonicManifest } from './weights.js';

type SubId = SubModelSpec['id'];

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

/** The portrait's conditioning, computed once per portrait. */
export interface SonicCondition {
  /** the crop of the portrait Sonic animates (sides multiples of 64) = the output frame size */
  width: number;
  height: number;
  crop: { x: number; y: number; width: number; height: number };
  /** VAE latent of the noise-augmented crop, [4, h, w] */
  latent: Float32Array;
  /** CLIP embedding, [D] */
  embeds: Float32Array;
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
  half?: { sample: Uint16Array; tokens: Uint16Array; ehs: Uint16Array; timeIds: Uint16Array; timestep: Uint16Array };
}

/** SVD's added_time_ids: fps - 1 of the generated frames, then the motion bucket, then the noise augmentation. */
export const FPS_ID = GENERATED_FPS - 1;

export class SonicRunner {
  readonly stats: Record<string, StageStats> = {};
  /** whisper hidden-state width, L * A */
  readonly audioWidth: number;
  private readonly unetBuffers = new Map<number, UnetBuffers>();
  private condition: SonicCondition | undefined;
  /** audio2token of silence (all-zero whisper frames): the uncond and image branches' tokens, [T, D] */
  private silenceTokens: Float32Array | undefined;
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
    const sessions: Partial<Record<SubId, OpenedSession>> = {};
    try {
      for (const spec of SONIC_CONTRACT) {
        const opened = await openWithFallback(join(options.weightsDir, spec.file), options.providers);
        sessions[spec.id] = opened;
        checkSessionNames(spec, opened.session.inputNames, opened.session.outputNames);
        checkSessionShapes(spec, dims, metadata(opened.session.inputMetadata), metadata(opened.session.outputMetadata));
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

  /** Where each sub-model runs, and the providers skipped on the way with their reason. */
  providerReport(): Record<SubId, { provider: string; skipped: { provider: string; reason: string }[] }> {
    return Object.fromEntries(Object.entries(this.sessions).map(([id, s]) => [id, { provider: s.provider, skipped: s.skipped }])) as Record<
      SubId,
      { provider: string; skipped: { provider: string; reason: string }[] }
    >;
  }

  /** Latent values per generated frame (4 * h * w) once conditioned. */
  get frameSize(): number {
    const c = this.requireCondition();
    return SVD.latentChannels * (c.height / SVD.vaeFactor) * (c.width / SVD.vaeFactor);
  }

  /** audio2token of silence, [T, D] (what the uncond and image branches hear) */
  get silence(): Float32Array {
    if (!this.silenceTokens) throw new Error('SonicRunner: conditionOn(portrait) first');
    return this.silenceTokens;
  }

  /** Encodes the portrait (VAE latent and CLIP embedding); later calls replace it. */
  async conditionOn(rgba: Uint8Array, width: number, height: number): Promise<SonicCondition> {
    const crop = cropToMultiple(width, height);
    const planes = rgbaToPlanes(rgba, width, crop);
    const clip = clipPixels(planes, crop.width, crop.height, SVD.clipSize);
    const [embedsOut] = await this.run('image_encoder', { pixel_values: [clip, [1, 3, SVD.clipSize, SVD.clipSize]] });
    const noisy = planes.slice();
    if (this.options.noiseAugStrength > 0) {
      const n = gaussian(noisy.length, this.options.seed ^ 0x5eed);
      for (let i = 0; i < noisy.length; i++) noisy[i]! += this.options.noiseAugStrength * n[i]!;
    }
    const [latent] = await this.run('vae_encoder', { image: [noisy, [1, 3, crop.height, crop.width]] });
    this.condition = { width: crop.width, height: crop.height, crop, latent: latent!, embeds: embedsOut! };
    this.unetBuffers.clear();
    const [silence] = await this.run('audio2token', { audio_window: [new Float32Array(AUDIO_WINDOWS.token * this.audioWidth), [1, AUDIO_WINDOWS.token, this.dims.L, this.dims.A]] });
    this.silenceTokens = silence!;
    return this.condition;
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
    const [hidden] = await this.run('audio_encoder', { input_features: [features, [1, MEL.bins, MEL.frames]] });
    // whisper frames past the audio pushed so far are padding: the track ends with the audio
    const audioFrames = Math.ceil(mel.sampleCount / SAMPLES_PER_WHISPER) - startMel / 2;
    return { start: startMel / 2, count: Math.max(0, Math.min(WHISPER.hiddenFrames, audioFrames)), width: this.audioWidth, data: hidden! };
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

  /**
   * Motion bucket of the window [first, first + size): the mean of its frames', scaled by
   * dynamic_scale. Offline windows wrap around the clip (their tokens do): with `wrapAt` (the
   * clip's generated frames), frame first + i is taken modulo it, so its audio does too.
   */
  async motionBucket(track: WhisperTrack, first: number, size: number, wrapAt?: number): Promise<number> {
    const c = this.requireCondition();
    const A = this.dims.A;
    const win = new Float32Array(size * AUDIO_WINDOWS.bucket * A);
    // the last hidden state of each whisper frame
    const last = { at: (this.dims.L - 1) * A, width: A };
    for (let i = 0; i < size; i++) {
      const g = wrapAt ? (first + i) % wrapAt : first + i;
      gatherFrames(track, bucketWindowStart(g, this.options.lipSyncOffsetMs), AUDIO_WINDOWS.bucket, win, i * AUDIO_WINDOWS.bucket, last);
    }
    const embeds = new Float32Array(size * this.dims.D);
    for (let i = 0; i < size; i++) embeds.set(c.embeds, i * this.dims.D);
    const [buckets] = await this.run('audio2bucket', {
      audio_window: [win, [size, AUDIO_WINDOWS.bucket, 1, A]],
      image_embeds: [embeds, [size, this.dims.D]],
    });
    let sum = 0;
    for (let i = 0; i < size; i++) sum += buckets![i]!;
    return (sum / size) * this.options.dynamicScale;
  }

  /** The starting noise of generated frame g (the same offline and streaming, for one seed). */
  frameNoise(g: number): Float32Array {
    return gaussian(this.frameSize, (Math.imul(this.options.seed + 1, 0x9e3779b1) ^ Math.imul(g + 1, 0x85ebca6b)) >>> 0);
  }

  /**
   * Offline: the whole clip of `total` generated frames, every window at every step, the windows
   * shifted by `shiftOffset` frames per step. `tokens` [total, T, D]; `bucketAt(first)` the bucket
   * of the window starting at frame `first` (mod total).
   */
  async sampleOffline(o: {
    total: number;
    window: number;
    overlap: number;
    shiftOffset: number;
    tokens: Float32Array;
    bucketAt: (first: number) => Promise<number>;
    onStep?: (step: number) => void;
  }): Promise<Float32Array> {
    const fs = this.frameSize;
    const tokenSize = this.dims.T * this.dims.D;
    const noise = new Float32Array(o.total * fs);
    for (let g = 0; g < o.total; g++) noise.set(this.frameNoise(g), g * fs);
    const single = o.total <= o.window;
    const size = single ? o.total : o.window;
    const weights = single ? new Float32Array(size).fill(1) : windowWeights(size, o.overlap, true, true);
    const winX = new Float32Array(size * fs);
    const winTokens = new Float32Array(size * tokenSize);
    return sampleEuler({
      size: o.total * fs,
      schedule: { steps: this.options.steps, ...SVD_SCHEDULE },
      guidance: this.options.guidance,
      seed: this.options.seed,
      noise,
      onStep: (s) => o.onStep?.(s),
      denoise: async (scaled, cNoise, step) => {
        const windows: Window[] = single ? [{ start: 0, size }] : shiftedWindows(o.total, size, o.overlap, step, o.shiftOffset);
        const blend = { uncond: new WindowBlender(o.total, fs), image: new WindowBlender(o.total, fs), full: new WindowBlender(o.total, fs) };
        for (const w of windows) {
          for (let f = 0; f < size; f++) {
            const at = (w.start + f) % o.total;
            winX.set(scaled.subarray(at * fs, (at + 1) * fs), f * fs);
            winTokens.set(o.tokens.subarray(at * tokenSize, (at + 1) * tokenSize), f * tokenSize);
          }
          const p = await this.unet(winX, cNoise, winTokens, await o.bucketAt(w.start % o.total), size);
          blend.uncond.add(w, p.uncond, weights);
          blend.image.add(w, p.image, weights);
          blend.full.add(w, p.full, weights);
        }
        return { uncond: blend.uncond.result(), image: blend.image.result(), full: blend.full.result() };
      },
    });
  }

  /**
   * Streaming: one causal window of `size` generated frames from frame `first`. Its first
   * `pinned.frames` frames are shared with the previous window: at every step they are set to
   * the previous window's result noised to the step's sigma, so the new window continues it.
   */
  async sampleWindow(o: { first: number; size: number; tokens: Float32Array; bucket: number; pinned?: { frames: number; latents: Float32Array } }): Promise<Float32Array> {
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
      beforeStep: pinnedValues
        ? (x, sigma) => {
            for (let i = 0; i < pinnedValues; i++) x[i] = o.pinned!.latents[i]! + sigma * noise[i]!;
          }
        : undefined,
      denoise: (scaled, cNoise) => this.unet(scaled, cNoise, o.tokens, o.bucket, o.size),
    });
    this.record('sample_window', performance.now() - t0);
    return x;
  }

  /** Decodes `frames` generated frames of latents into planes [frames, 3, H, W] in [-1, 1]. */
  async decode(latents: Float32Array, frames: number): Promise<Float32Array> {
    const c = this.requireCondition();
    const fs = this.frameSize;
    const h = c.height / SVD.vaeFactor;
    const w = c.width / SVD.vaeFactor;
    const px = 3 * c.width * c.height;
    const out = new Float32Array(frames * px);
    // an export with a fixed frame count (SVD's temporal decoder) decodes exactly that many: pad
    const fixed = this.decoderFrames;
    const chunk = fixed ?? this.options.decodeChunkFrames;
    for (let f = 0; f < frames; f += chunk) {
      const n = Math.min(chunk, frames - f);
      const run = fixed ?? n;
      const scaled = new Float32Array(run * fs);
      scaled.set(latents.subarray(f * fs, (f + n) * fs));
      for (let k = n; k < run; k++) scaled.copyWithin(k * fs, (n - 1) * fs, n * fs); // repeat the last frame
      for (let i = 0; i < scaled.length; i++) scaled[i]! /= SVD.scalingFactor;
      const [rgb] = await this.run('vae_decoder', { latents: [scaled, [run, SVD.latentChannels, h, w]] });
      out.set(rgb!.subarray(0, n * px), f * px);
    }
    return out;
  }

  /** The decoder's frame count when the export fixes it (SVD's temporal decoder), else undefined. */
  get decoderFrames(): number | undefined {
    const m = this.sessions.vae_decoder.session.inputMetadata?.[0];
    const d = m && m.isTensor ? m.shape[0] : undefined;
    return typeof d === 'number' && d > 0 ? d : undefined;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all(Object.values(this.sessions).map((s) => s.session.release()));
  }

  /** One UNet run over a window: the three guidance branches in one batch of 3. */
  private async unet(scaled: Float32Array, cNoise: number, tokens: Float32Array, bucket: number, frames: number): Promise<Branches> {
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
    for (let br = 0; br < 3; br++) b.timeIds.set([FPS_ID, bucket, this.options.noiseAugStrength], br * 3);
    const h = c.height / SVD.vaeFactor;
    const w = c.width / SVD.vaeFactor;
    const t0 = performance.now();
    const [pred] = await this.run('unet', {
      sample: [b.sample, [3, frames, 2 * SVD.latentChannels, h, w], b.half?.sample],
      timestep: [b.timestep, [3], b.half?.timestep],
      encoder_hidden_states: [b.ehs, [3, 1, this.dims.D], b.half?.ehs],
      audio_tokens: [b.tokens, [3, frames, this.dims.T, this.dims.D], b.half?.tokens],
      added_time_ids: [b.timeIds, [3, 3], b.half?.timeIds],
    }, false);
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
      for (let f = 0; f < frames; f++) b.sample.set(c.latent, br * frames * 2 * fs + f * 2 * fs + fs);
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
