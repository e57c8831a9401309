/**
 * The ONNX contract of Sonic's sub-models, as our export (models/sonic/export/) writes them and
 * the runner reads them. There is no official ONNX export of Sonic: these names and shapes are
 * ours, chosen after the reference PyTorch code (whisper-tiny encoder hidden states, audio2token,
 * audio2bucket, CLIP ViT-H/14 image encoder, SVD-xt UNet with audio attention, SVD temporal VAE).
 *
 * Dims: B batch (3 for the guidance branches in one run), F frames in a window, H x W the
 * frame (fixed by the export: the manifest's `frame`) and h = H/8, w = W/8 its latent; the model
 * widths are named (L, A, T, D, C) and are
 * Sonic's numbers in SONIC_DIMS; the manifest may name others (the tiny stand-in graphs of the
 * tests do). Numbers are fixed. FP16 files take and give float16 wherever float32 is written.
 */

export type Dim = number | 'B' | 'F' | 'H' | 'W' | 'h' | 'w' | keyof SonicDims;

export interface TensorSpec {
  name: string;
  dims: Dim[];
  /** float32 in FP32 exports; every float32 here is float16 in FP16 exports */
  dtype: 'float32' | 'int64';
  meaning: string;
}

export interface SubModelSpec {
  /** key in the runner */
  id: 'audio_encoder' | 'audio2token' | 'audio2bucket' | 'image_encoder' | 'vae_encoder' | 'unet' | 'vae_decoder' | 'interpolator';
  /** file name in the weights folder */
  file: string;
  inputs: TensorSpec[];
  outputs: TensorSpec[];
}

/**
 * The model widths: L whisper hidden states of A values; T audio tokens of D per frame (D is also
 * CLIP's width); C motion buckets per frame (audio2bucket's context_tokens).
 */
export interface SonicDims {
  L: number;
  A: number;
  T: number;
  D: number;
  C: number;
}

/**
 * Sonic's own: whisper-tiny (embedding + 4 layers of 384), 32 tokens of 1024 (ViT-H/14 width),
 * 2 buckets (Audio2bucketModel(output_dim=1, context_tokens=2): the UNet's two motion time ids).
 */
export const SONIC_DIMS: Readonly<SonicDims> = Object.freeze({ L: 5, A: 384, T: 32, D: 1024, C: 2 });

/** Fixed by whisper and SVD. */
export const WHISPER = { framesPerSecond: 50, melBins: 80, melFrames: 3000, hiddenFrames: 1500 } as const;
export const SVD = { latentChannels: 4, vaeFactor: 8, scalingFactor: 0.18215, clipSize: 224 } as const;
/**
 * added_time_ids as SonicPipeline builds them: _get_add_time_ids(fps, motion_bucket_id,
 * motion_bucket_id_exp): the generated frame rate (12.5, not fps - 1), then the window's two
 * buckets (each the mean of its frames', times dynamic_scale). No noise-augmentation strength.
 */
export const TIME_ID_FPS = 12.5;
/** whisper frames per audio2token window (0.2 s) and per audio2bucket window (1 s) */
export const AUDIO_WINDOWS = { token: 10, bucket: 50 } as const;

export const SONIC_CONTRACT: readonly SubModelSpec[] = [
  {
    id: 'audio_encoder',
    file: 'audio_encoder.onnx',
    inputs: [{ name: 'input_features', dims: ['B', WHISPER.melBins, WHISPER.melFrames], dtype: 'float32', meaning: 'log-mel spectrogram of 30 s of 16 kHz audio (whisper feature extractor)' }],
    outputs: [{ name: 'hidden_states', dims: ['B', WHISPER.hiddenFrames, 'L', 'A'], dtype: 'float32', meaning: 'every encoder hidden state, 50 per second' }],
  },
  {
    id: 'audio2token',
    file: 'audio2token.onnx',
    inputs: [{ name: 'audio_window', dims: ['B', AUDIO_WINDOWS.token, 'L', 'A'], dtype: 'float32', meaning: '10 whisper frames (0.2 s) centred on a video frame' }],
    outputs: [{ name: 'tokens', dims: ['B', 'T', 'D'], dtype: 'float32', meaning: 'audio tokens for the UNet audio attention' }],
  },
  {
    id: 'audio2bucket',
    file: 'audio2bucket.onnx',
    inputs: [
      { name: 'audio_window', dims: ['B', AUDIO_WINDOWS.bucket, 1, 'A'], dtype: 'float32', meaning: "the last hidden state of 50 whisper frames (1 s) around a generated frame" },
      { name: 'image_embeds', dims: ['B', 'D'], dtype: 'float32', meaning: 'CLIP embedding of the portrait' },
    ],
    outputs: [{ name: 'motion_bucket', dims: ['B', 'C'], dtype: 'float32', meaning: "the frame's C motion buckets (the export folds in the reference's x 16 + 16); the runner averages a window's, scales them by dynamic_scale and puts them in added_time_ids after the fps" }],
  },
  {
    id: 'image_encoder',
    file: 'image_encoder.onnx',
    inputs: [{ name: 'pixel_values', dims: ['B', 3, SVD.clipSize, SVD.clipSize], dtype: 'float32', meaning: 'the portrait, CLIP-normalised' }],
    outputs: [{ name: 'image_embeds', dims: ['B', 'D'], dtype: 'float32', meaning: 'CLIP ViT-H/14 image embedding' }],
  },
  {
    id: 'vae_encoder',
    file: 'vae_encoder.onnx',
    inputs: [{ name: 'image', dims: ['B', 3, 'H', 'W'], dtype: 'float32', meaning: 'the portrait crop in [-1, 1]' }],
    outputs: [{ name: 'latent', dims: ['B', SVD.latentChannels, 'h', 'w'], dtype: 'float32', meaning: "its latent's mean: x 0.18215 the sampler's start (i2i), unscaled the UNet's image condition" }],
  },
  {
    id: 'unet',
    file: 'unet.onnx',
    inputs: [
      { name: 'sample', dims: ['B', 'F', 2 * SVD.latentChannels, 'h', 'w'], dtype: 'float32', meaning: 'noisy latents (4) scaled by c_in, with the image latent (4) concatenated' },
      { name: 'timestep', dims: ['B'], dtype: 'float32', meaning: 'c_noise = ln(sigma) / 4' },
      { name: 'encoder_hidden_states', dims: ['B', 1, 'D'], dtype: 'float32', meaning: 'CLIP image embedding (zeros in the unconditioned branch)' },
      { name: 'audio_tokens', dims: ['B', 'F', 'T', 'D'], dtype: 'float32', meaning: 'per-frame audio tokens (in the uncond and image branches: the tokens of silence, audio2token of zeros, as the reference)' },
      { name: 'face_mask', dims: [1, 1, 'H', 'W'], dtype: 'float32', meaning: "where audio attention may act: the face box x 1.1, at the frame's size (ip_adapter_masks)" },
      { name: 'added_time_ids', dims: ['B', 3], dtype: 'float32', meaning: '12.5 (the generated fps), bucket 0, bucket 1' },
    ],
    outputs: [{ name: 'noise_pred', dims: ['B', 'F', SVD.latentChannels, 'h', 'w'], dtype: 'float32', meaning: 'v-prediction' }],
  },
  {
    id: 'vae_decoder',
    file: 'vae_decoder.onnx',
    inputs: [{ name: 'latents', dims: ['F', SVD.latentChannels, 'h', 'w'], dtype: 'float32', meaning: 'denoised latents of a chunk of frames (any count: the temporal decoder takes it from the input), divided by the VAE scaling factor 0.18215' }],
    outputs: [{ name: 'frames', dims: ['F', 3, 'H', 'W'], dtype: 'float32', meaning: 'RGB in [-1, 1]' }],
  },
  {
    id: 'interpolator',
    file: 'interpolator.onnx',
    inputs: [
      { name: 'frame0', dims: ['B', 3, 'H', 'W'], dtype: 'float32', meaning: 'a generated frame, RGB in [0, 1]' },
      { name: 'frame1', dims: ['B', 3, 'H', 'W'], dtype: 'float32', meaning: 'the next generated frame' },
    ],
    outputs: [{ name: 'middle', dims: ['B', 3, 'H', 'W'], dtype: 'float32', meaning: "RIFE (IFNet HDv3, Sonic's checkpoints/RIFE): the frame between them, in [0, 1]" }],
  },
];

/** What a session opened on a file must expose: the contract's input and output names. */
export function checkSessionNames(spec: SubModelSpec, inputNames: readonly string[], outputNames: readonly string[]): void {
  const missingIn = spec.inputs.map((t) => t.name).filter((n) => !inputNames.includes(n));
  const missingOut = spec.outputs.map((t) => t.name).filter((n) => !outputNames.includes(n));
  if (missingIn.length || missingOut.length) {
    throw new Error(
      `${spec.file} does not follow the Sonic ONNX contract (models/sonic/contract.ts): ` +
        `${missingIn.length ? `missing inputs ${missingIn.join(', ')} (it has ${inputNames.join(', ')}); ` : ''}` +
        `${missingOut.length ? `missing outputs ${missingOut.join(', ')} (it has ${outputNames.join(', ')})` : ''}`.replace(/; $/, ''),
    );
  }
}

/**
 * The model's declared shapes against the contract: every fixed number, and every named width
 * or frame side (from `dims`), must match where the model declares a number (symbolic dims pass).
 */
export function checkSessionShapes(
  spec: SubModelSpec,
  dims: Readonly<SonicDims> & Partial<Record<'H' | 'W' | 'h' | 'w', number>>,
  inputs: readonly { name: string; shape?: ReadonlyArray<number | string> }[],
  outputs: readonly { name: string; shape?: ReadonlyArray<number | string> }[],
): void {
  const problems: string[] = [];
  const check = (want: TensorSpec, have: { shape?: ReadonlyArray<number | string> } | undefined) => {
    if (!have?.shape || have.shape.length === 0) return; // shape not declared
    if (have.shape.length !== want.dims.length) {
      problems.push(`${want.name} has rank ${have.shape.length}, the contract says ${want.dims.length} [${want.dims.join(', ')}]`);
      return;
    }
    want.dims.forEach((d, i) => {
      const expected = typeof d === 'number' ? d : (dims as Record<string, number | undefined>)[d];
      const got = have.shape![i];
      if (expected !== undefined && typeof got === 'number' && got > 0 && got !== expected) {
        problems.push(`${want.name} dim ${i} (${d}) is ${got}, expected ${expected}`);
      }
    });
  };
  for (const t of spec.inputs) check(t, inputs.find((m) => m.name === t.name));
  for (const t of spec.outputs) check(t, outputs.find((m) => m.name === t.name));
  if (problems.length) throw new Error(`${spec.file} does not follow the Sonic ONNX contract (models/sonic/contract.ts): ${problems.join('; ')}`);
}
