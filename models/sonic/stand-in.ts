/**
 * Tiny stand-in graphs that follow the Sonic ONNX contract (contract.ts) with small widths, built
 * in TypeScript: they let the runner, the engine, the render CLI and the server run end to end on
 * a CPU, in tests and benchmarks, without Sonic's weights. They are NOT Sonic: the picture they
 * make is the portrait, blurred (8x8 latent cells), with a per-frame tint driven by the audio.
 *
 *   audio_encoder  [B,80,3000] -> pool 2 in time -> linear 80 -> L*A -> tanh -> [B,1500,L,A]
 *   audio2token    [B,10,L,A]  -> linear -> tanh -> [B,T,D]
 *   audio2bucket   mean |audio| and mean image embedding -> 127 * sigmoid(..), two of them -> [B,2]
 *   image_encoder  global mean of the 3 channels -> linear 3 -> D -> tanh
 *   vae_encoder    8x8 average pool; RGB kept, a 4th channel = their mean
 *   unet           a v-prediction denoiser towards a target latent
 *                    target = k_img * image latent + CLIP term
 *                             + audio tokens' mean (linear, x bucket0 / 127) x face mask (8x8 mean)
 *                             + k_bucket * (bucket0 / 127 - 0.5) + k_bucket1 * (bucket1 / 127 - 0.5)
 *                             + k_fps * (time id 0 - 12.5)
 *                  (the bucket terms are window-wide offsets, as motion intensity is window-wide in
 *                  Sonic: what makes window seams visible; the fps term is 0 with the right time id)
 *                    v = (a * s + mix * (mean over frames of s - s)) / sigma - target * sqrt(sigma^2 + 1) / sigma
 *                  with a = 1 and mix = 0 it is the ideal denoiser: the sampler lands exactly on the
 *                  guided target (the tests check the runner's guidance wiring against that).
 *                  k_img = 0.18215 / 2, so the default image guidance 2.0 gives back the portrait.
 *   vae_decoder    RGB channels, upsampled x8 (linear); any frame count
 *   interpolator   the mean of the two frames (a cross-fade: RIFE's contract, not RIFE)
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DType, GraphBuilder } from '../portrait-renderer/graph-builder.js';
import { AUDIO_WINDOWS, SONIC_CONTRACT, SVD, WHISPER, type SonicDims, type SubModelSpec } from './contract.js';
import { gaussian } from './sampler.js';
import { sha256File, type SonicManifest } from './weights.js';

export const STAND_IN_DIMS: Readonly<SonicDims> = Object.freeze({ L: 2, A: 8, T: 4, D: 16, C: 2 });

export interface StandInOptions {
  dims?: SonicDims;
  /** float16 inputs and outputs (an FP16 export's interface) */
  fp16?: boolean;
  /** the UNet's own-sample coefficient: 1 = ideal denoiser; the default 0.9 leaves the seed a visible effect */
  a?: number;
  /** temporal mixing across a window's frames (0 = frames independent); default 0.05 */
  mix?: number;
  /** the frame size the manifest declares (the stand-in graphs take any) */
  frame?: { width: number; height: number };
}

/** The stand-ins' weights, deterministic, exported so tests can compute references on their own. */
export function standInWeights(dims: SonicDims) {
  const w = (n: number, seed: number, scale: number) => gaussian(n, seed).map((v) => v * scale);
  return {
    encoder: w(WHISPER.melBins * dims.L * dims.A, 11, 0.3 / Math.sqrt(WHISPER.melBins)),
    token: w(AUDIO_WINDOWS.token * dims.L * dims.A * dims.T * dims.D, 12, 1 / Math.sqrt(AUDIO_WINDOWS.token * dims.L * dims.A)),
    clip: w(3 * dims.D, 13, 0.5),
    /** UNet: audio tokens' mean (D) -> 4 latent channels, and CLIP (D) -> 4 */
    unetAudio: w(dims.D * SVD.latentChannels, 14, 0.04 / Math.sqrt(dims.D)),
    unetClip: w(dims.D * SVD.latentChannels, 15, 0.01 / Math.sqrt(dims.D)),
    kImg: SVD.scalingFactor / 2,
    /** window-wide offsets from the two motion buckets: k * (bucket / 127 - 0.5) on every channel */
    kBucket: 0.05,
    kBucket1: 0.03,
    /** an offset from a wrong fps time id: k * (id0 - 12.5) */
    kFps: 0.02,
  };
}

export function buildStandIn(id: SubModelSpec['id'], o: StandInOptions = {}): Uint8Array {
  const dims = o.dims ?? STAND_IN_DIMS;
  const W = standInWeights(dims);
  const g = new GraphBuilder(`sonic-stand-in-${id}`);
  const fdt = o.fp16 ? DType.FLOAT16 : DType.FLOAT;
  const inp = (name: string, shape: (number | string)[]) => {
    g.input(name, fdt, shape);
    return o.fp16 ? g.node('Cast', [name], { to: DType.FLOAT }) : name;
  };
  const out = (value: string, name: string, shape: (number | string)[]) => {
    const v = o.fp16 ? g.node('Cast', [value], { to: DType.FLOAT16 }, name) : g.node('Identity', [value], {}, name);
    g.output(v, fdt, shape);
  };
  const i64 = (p: string, v: number[]) => g.int64s(p, v);
  const C = SVD.latentChannels;
  switch (id) {
    case 'audio_encoder': {
      const x = inp('input_features', ['B', WHISPER.melBins, WHISPER.melFrames]);
      const pooled = g.node('AveragePool', [x], { kernel_shape: [2], strides: [2] });
      const t = g.node('Transpose', [pooled], { perm: [0, 2, 1] });
      const h = g.node('Tanh', [g.node('MatMul', [t, g.floats('enc', W.encoder, [WHISPER.melBins, dims.L * dims.A])])]);
      out(g.node('Reshape', [h, i64('shape', [0, WHISPER.hiddenFrames, dims.L, dims.A])]), 'hidden_states', ['B', WHISPER.hiddenFrames, dims.L, dims.A]);
      break;
    }
    case 'audio2token': {
      const x = inp('audio_window', ['B', AUDIO_WINDOWS.token, dims.L, dims.A]);
      const flat = g.node('Reshape', [x, i64('flat', [0, -1])]);
      const t = g.node('Tanh', [g.node('MatMul', [flat, g.floats('tok', W.token, [AUDIO_WINDOWS.token * dims.L * dims.A, dims.T * dims.D])])]);
      out(g.node('Reshape', [t, i64('shape', [0, dims.T, dims.D])]), 'tokens', ['B', dims.T, dims.D]);
      break;
    }
    case 'audio2bucket': {
      const a = inp('audio_window', ['B', AUDIO_WINDOWS.bucket, 1, dims.A]);
      const e = inp('image_embeds', ['B', dims.D]);
      const level = g.node('Reshape', [g.node('ReduceMean', [g.node('Abs', [a]), i64('axes', [1, 2, 3])], { keepdims: 1 }), i64('b1', [-1, 1])]);
      const img = g.node('ReduceMean', [e, i64('axes', [1])], { keepdims: 1 });
      const z = g.node('Add', [g.node('Mul', [level, g.scalar('k', 60)]), g.node('Add', [g.node('Mul', [img, g.scalar('ki', 0.1)]), g.scalar('b', -9.6)])]);
      const z1 = g.node('Add', [g.node('Mul', [z, g.scalar('k1', 0.5)]), g.scalar('b1c', 0.3)]);
      const both = g.node('Concat', [z, z1], { axis: 1 });
      out(g.node('Mul', [g.node('Sigmoid', [both]), g.scalar('range', 127)]), 'motion_bucket', ['B', 2]);
      break;
    }
    case 'image_encoder': {
      const x = inp('pixel_values', ['B', 3, SVD.clipSize, SVD.clipSize]);
      const m = g.node('Reshape', [g.node('GlobalAveragePool', [x]), i64('shape', [0, 3])]);
      out(g.node('Tanh', [g.node('MatMul', [m, g.floats('clip', W.clip, [3, dims.D])])]), 'image_embeds', ['B', dims.D]);
      break;
    }
    case 'vae_encoder': {
      const x = inp('image', ['B', 3, 'H', 'W']);
      const pooled = g.node('AveragePool', [x], { kernel_shape: [SVD.vaeFactor, SVD.vaeFactor], strides: [SVD.vaeFactor, SVD.vaeFactor] });
      const third = 1 / 3;
      const conv = g.floats('enc', [1, 0, 0, 0, 1, 0, 0, 0, 1, third, third, third], [C, 3, 1, 1]);
      out(g.node('Conv', [pooled, conv]), 'latent', ['B', C, 'h', 'w']);
      break;
    }
    case 'vae_decoder': {
      const F = 'F';
      const x = inp('latents', [F, C, 'h', 'w']);
      const conv = g.floats('dec', [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0], [3, C, 1, 1]);
      const rgb = g.node('Conv', [x, conv]);
      const up = g.node('Resize', [rgb, '', g.floats('scales', [1, 1, SVD.vaeFactor, SVD.vaeFactor], [4])], { mode: 'linear' });
      out(g.node('Clip', [up, g.scalar('lo', -1), g.scalar('hi', 1)]), 'frames', [F, 3, 'H', 'W']);
      break;
    }
    case 'unet': {
      const a = o.a ?? 0.9;
      const mix = o.mix ?? 0.05;
      const sample = inp('sample', ['B', 'F', 2 * C, 'h', 'w']);
      const timestep = inp('timestep', ['B']);
      const ehs = inp('encoder_hidden_states', ['B', 1, dims.D]);
      const tokens = inp('audio_tokens', ['B', 'F', dims.T, dims.D]);
      const mask = inp('face_mask', [1, 1, 'H', 'W']);
      const timeIds = inp('added_time_ids', ['B', 3]);
      // the face mask at the latent's size, [1, 1, 1, h, w]
      const maskLatent = g.node('Unsqueeze', [g.node('AveragePool', [mask], { kernel_shape: [SVD.vaeFactor, SVD.vaeFactor], strides: [SVD.vaeFactor, SVD.vaeFactor] }), i64('m1', [1])]);
      const b5 = i64('b5', [-1, 1, 1, 1, 1]);
      const sigma = g.node('Reshape', [g.node('Exp', [g.node('Mul', [timestep, g.scalar('four', 4)])]), b5]);
      const [s, c] = g.nodeN('Split', [sample, i64('split', [C, C])], { axis: 2 }, 2);
      const tokMean = g.node('ReduceMean', [tokens, i64('axesT', [2])], { keepdims: 0 });
      const audio = g.node('Unsqueeze', [g.node('MatMul', [tokMean, g.floats('wa', W.unetAudio, [dims.D, C])]), i64('hw', [3, 4])]);
      const bucket = g.node('Reshape', [g.node('Slice', [timeIds, i64('s0', [1]), i64('s1', [2]), i64('ax', [1])]), b5]);
      const bucket1 = g.node('Reshape', [g.node('Slice', [timeIds, i64('s2', [2]), i64('s3', [3]), i64('ax1', [1])]), b5]);
      const fps = g.node('Reshape', [g.node('Slice', [timeIds, i64('s4', [0]), i64('s5', [1]), i64('ax2', [1])]), b5]);
      const clip = g.node('Unsqueeze', [g.node('MatMul', [ehs, g.floats('we', W.unetClip, [dims.D, C])]), i64('hw2', [3, 4])]);
      const b01 = g.node('Div', [bucket, g.scalar('b127', 127)]);
      const windowWide0 = g.node('Mul', [g.node('Sub', [b01, g.scalar('half', 0.5)]), g.scalar('kbucket', W.kBucket)]);
      const b11 = g.node('Div', [bucket1, g.scalar('b127b', 127)]);
      const windowWide1 = g.node('Mul', [g.node('Sub', [b11, g.scalar('half1', 0.5)]), g.scalar('kbucket1', W.kBucket1)]);
      const fpsTerm = g.node('Mul', [g.node('Sub', [fps, g.scalar('fps0', 12.5)]), g.scalar('kfps', W.kFps)]);
      const windowWide = g.node('Add', [g.node('Add', [windowWide0, windowWide1]), fpsTerm]);
      const target = g.node('Add', [
        g.node('Add', [g.node('Mul', [c!, g.scalar('kimg', W.kImg)]), windowWide]),
        g.node('Add', [g.node('Mul', [g.node('Mul', [audio, b01]), maskLatent]), clip]),
      ]);
      const meanF = g.node('ReduceMean', [s!, i64('axesF', [1])], { keepdims: 1 });
      const own = g.node('Add', [g.node('Mul', [s!, g.scalar('a', a)]), g.node('Mul', [g.node('Sub', [meanF, s!]), g.scalar('mix', mix)])]);
      const root = g.node('Sqrt', [g.node('Add', [g.node('Mul', [sigma, sigma]), g.scalar('one', 1)])]);
      const v = g.node('Div', [g.node('Sub', [own, g.node('Mul', [target, root])]), sigma]);
      out(v, 'noise_pred', ['B', 'F', C, 'h', 'w']);
      break;
    }
    case 'interpolator': {
      const a = inp('frame0', ['B', 3, 'H', 'W']);
      const b = inp('frame1', ['B', 3, 'H', 'W']);
      out(g.node('Mul', [g.node('Add', [a, b]), g.scalar('halfab', 0.5)]), 'middle', ['B', 3, 'H', 'W']);
      break;
    }
  }
  return g.build(20, 'kiosk-avatar-server sonic stand-in');
}

const IDS: SubModelSpec['id'][] = SONIC_CONTRACT.map((s) => s.id);

/** Writes the stand-in files and their manifest (with SHA-256, dims and frame size) into `dir`. */
export async function writeStandInWeights(dir: string, o: StandInOptions = {}): Promise<SonicManifest> {
  mkdirSync(dir, { recursive: true });
  const files: Record<string, string> = {};
  for (const id of IDS) {
    const file = `${id}.onnx`;
    writeFileSync(join(dir, file), buildStandIn(id, o));
    files[file] = await sha256File(join(dir, file));
  }
  const manifest: SonicManifest = {
    format: 'sonic-onnx/2',
    precision: o.fp16 ? 'fp16' : 'fp32',
    files,
    dims: { ...(o.dims ?? STAND_IN_DIMS) },
    frame: { ...(o.frame ?? { width: 128, height: 128 }) },
    producer: 'stand-in (models/sonic/stand-in.ts): tiny graphs with the Sonic contract, not Sonic',
  };
  writeFileSync(join(dir, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  return manifest;
}
