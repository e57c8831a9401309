/**
 * Our TypeScript Sonic runner against the official pipeline's intermediates (run_official.py),
 * stage by stage on the same inputs and the same noise, then end to end from the same WAV and
 * portrait. Each stage gets the official inputs of that stage, so an error shows where it starts;
 * the end-to-end row runs our whole chain (our mel, our preprocessing, our sampler, RIFE) with only
 * the start noise taken from the official run.
 *
 * Targets (FP32, CPU): every stage within 1e-3 relative (max |ours - official| / max |official|),
 * frames >= 40 dB PSNR. Streaming differs from the offline reference on purpose (causal windows):
 * its PSNR against the offline frames and its seam measure are reported, not judged.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Box } from '../../face/PortraitTypes.js';
import { MelTimeline, MEL } from '../mel.js';
import { SVD } from '../contract.js';
import { planesToI420, toUnit } from '../frames.js';
import { prepareSonicInputs } from '../preprocess.js';
import { karrasSigmas, SVD_SCHEDULE } from '../sampler.js';
import { shiftedWindows } from '../windows.js';
import { SonicRunner, type SonicRunnerOptions } from '../runner.js';
import { readNpy, type NpyArray } from './npy.js';
import { SonicEngine } from '../../../pipeline/engine/sonic-engine.js';

export const TOLERANCE = 1e-3;
export const MIN_PSNR_DB = 40;

export interface StageRow {
  stage: string;
  maxAbs: number;
  maxRel: number;
  /** judged against TOLERANCE (false: reported only) */
  judged: boolean;
  note?: string;
}

export interface ParityReport {
  rows: StageRow[];
  psnrDb: number;
  pass: boolean;
  failure?: string;
  streaming?: { psnrDb: number; seamStep: number; insideStep: number; officialSeamStep: number; officialInsideStep: number; windows: number };
}

/** max |a - b| and that over max |b| */
export function errors(ours: ArrayLike<number>, official: ArrayLike<number>, name: string): { maxAbs: number; maxRel: number } {
  if (ours.length !== official.length) throw new Error(`${name}: ${ours.length} values against the official ${official.length}`);
  let maxAbs = 0;
  let ref = 0;
  for (let i = 0; i < official.length; i++) {
    maxAbs = Math.max(maxAbs, Math.abs(ours[i]! - official[i]!));
    ref = Math.max(ref, Math.abs(official[i]!));
  }
  return { maxAbs, maxRel: maxAbs / Math.max(ref, 1e-12) };
}

/** PSNR of values in [0, 1] */
export function psnr(ours: ArrayLike<number>, official: ArrayLike<number>, peak = 1): number {
  let se = 0;
  for (let i = 0; i < official.length; i++) se += (ours[i]! - official[i]!) ** 2;
  const mse = se / official.length;
  return mse === 0 ? Infinity : 10 * Math.log10((peak * peak) / mse);
}

interface Inputs {
  /** the folder run_official.py wrote */
  reference: string;
  /** the export of the same checkpoints (export_sonic.py) */
  weights: string;
  portrait: { rgba: Uint8Array; width: number; height: number };
  faceBox: Box;
  /** the clip, 16 kHz mono, as the official read it */
  audio: Float32Array;
  streaming?: { window: number; overlap: number };
}

export async function compareWithOfficial(inp: Inputs, log: (line: string) => void = () => {}): Promise<ParityReport> {
  const ref = (name: string): NpyArray => readNpy(join(inp.reference, `${name}.npy`));
  const index = JSON.parse(readFileSync(join(inp.reference, 'index.json'), 'utf8')) as {
    frames: number; audio_len: number; width: number; height: number; steps: number; dynamic_scale: number;
    config: { n_sample_frames: number; overlap: number; shift_offset: number; decode_chunk_size: number; min_appearance_guidance_scale: number; audio_guidance_scale: number };
    unet_calls: number;
  };
  const rows: StageRow[] = [];
  const add = (stage: string, e: { maxAbs: number; maxRel: number }, judged = true, note?: string) => {
    rows.push({ stage, ...e, judged, note });
    log(`  ${stage.padEnd(34)} max abs ${e.maxAbs.toExponential(2).padStart(9)}  max rel ${e.maxRel.toExponential(2).padStart(9)}${judged ? '' : '  (reported)'}${note ? `  ${note}` : ''}`);
  };
  const N = index.frames;
  const cfg = index.config;
  const window = cfg.n_sample_frames;
  const options: SonicRunnerOptions = {
    weightsDir: inp.weights,
    providers: { order: ['cpu'], fp16: false, trtCacheDir: '.cache/sonic-trt', deviceId: 0, intraOpThreads: 2 },
    steps: index.steps,
    guidance: { image: cfg.min_appearance_guidance_scale, audio: cfg.audio_guidance_scale },
    seed: 1,
    dynamicScale: index.dynamic_scale,
    lipSyncOffsetMs: 0,
    noiseAugStrength: 0,
    decodeChunkFrames: cfg.decode_chunk_size,
  };
  const runner = await SonicRunner.open(options);
  let report: ParityReport;
  try {
    const { width: W, height: H } = runner.frame;
    if (W !== index.width || H !== index.height) throw new Error(`the export serves ${W}x${H}, the official run made ${index.width}x${index.height}`);
    const pixels = 3 * W * H;

    // 1. preprocessing (pure TypeScript against PIL and the official mask)
    const pre = prepareSonicInputs(inp.portrait.rgba, inp.portrait.width, inp.portrait.height, inp.faceBox, { width: W, height: H });
    add('preprocess: portrait [-1, 1]', errors(pre.ref, ref('ref_img').data, 'ref_img'));
    add('preprocess: face mask', errors(pre.mask, ref('face_mask').data, 'face_mask'));
    add('preprocess: CLIP input', errors(pre.clip, ref('clip_image').data, 'clip_image'));
    await runner.conditionOn({ ...inp.portrait, faceBox: inp.faceBox });

    // 2. audio
    const mel = new MelTimeline();
    mel.push(inp.audio);
    const officialMel = ref('mel');
    add('log-mel (first 30 s)', errors(mel.features(0), firstChunk(officialMel), 'mel'));
    const hidden = await runner.whisper(firstChunk(officialMel));
    const whisper = ref('whisper');
    add('whisper hidden states', errors(hidden.subarray(0, whisper.data.length), whisper.data, 'whisper'));
    const track = { start: 0, count: whisper.shape[0]!, width: runner.audioWidth, data: whisper.data };
    const [embeds] = await runner.runSubModel('image_encoder', { pixel_values: [ref('clip_image').data, [1, 3, SVD.clipSize, SVD.clipSize]] });
    add('CLIP image embedding', errors(embeds!, ref('clip_embeds').data, 'clip_embeds'));
    add('silence tokens (uncond)', errors(runner.silence, ref('silence_tokens').data, 'silence_tokens'));
    const tokens = await runner.tokens(track, 0, N);
    add('audio2token', errors(tokens, ref('tokens').data, 'tokens'));
    const officialBuckets = ref('buckets').data;
    add('audio2bucket (2 per frame)', errors(await runner.frameBuckets(track, 0, N), officialBuckets, 'buckets'));

    // 3. time ids of every UNet call, the schedule
    const ids: number[] = [];
    for (let s = 0; s < index.steps; s++) {
      for (const w of shiftedWindows(N, window, cfg.overlap, s, cfg.shift_offset)) ids.push(...runner.timeIds(officialBuckets, w.start, window, N));
    }
    add(`added_time_ids (${index.unet_calls} calls)`, errors(ids, ref('time_ids').data, 'time_ids'));
    const sigmas = karrasSigmas({ steps: index.steps, ...SVD_SCHEDULE });
    add('sigmas', errors(sigmas, ref('sigmas').data, 'sigmas'));
    add('timesteps (c_noise)', errors(Array.from(sigmas.subarray(0, index.steps), (s) => Math.fround(0.25 * Math.fround(Math.log(s)))), ref('timesteps').data, 'timesteps'));

    // 4. one UNet call on the official inputs
    const F = window;
    const h = H / SVD.vaeFactor;
    const w = W / SVD.vaeFactor;
    const clip3 = new Float32Array(3 * runner.dims.D);
    const callClip = ref('unet_call0_clip').data;
    for (let br = 0; br < 3; br++) clip3.set(callClip.subarray(br * F * runner.dims.D, (br * F + 1) * runner.dims.D), br * runner.dims.D);
    const t = ref('unet_call0_t').data[0]!;
    const [pred] = await runner.runSubModel('unet', {
      sample: [ref('unet_call0_sample').data, [3, F, 2 * SVD.latentChannels, h, w]],
      timestep: [new Float32Array([t, t, t]), [3]],
      encoder_hidden_states: [clip3, [3, 1, runner.dims.D]],
      audio_tokens: [ref('unet_call0_tokens').data, [3, F, runner.dims.T, runner.dims.D]],
      face_mask: [ref('unet_call0_mask').data, [1, 1, H, W]],
      added_time_ids: [ref('unet_call0_ids').data, [3, 3]],
    });
    add('UNet (first call, 3 x 25 frames)', errors(pred!, ref('unet_call0_out').data, 'unet'));

    // 5. the sampler over the clip, official tokens, buckets and start noise
    const noise = ref('start_noise').data;
    let worstStep = { maxAbs: 0, maxRel: 0, step: -1 };
    await runner.sampleOffline({
      total: N, window, overlap: cfg.overlap, shiftOffset: cfg.shift_offset, tokens: ref('tokens').data, buckets: officialBuckets, noise,
      onStep: (s, x) => {
        const e = errors(x, ref(`latents_step_${s}`).data, `latents_step_${s}`);
        if (e.maxRel > worstStep.maxRel) worstStep = { ...e, step: s };
      },
    });
    add('latents, every step (worst)', worstStep, true, `step ${worstStep.step}`);

    // 6. VAE decode and RIFE on the official latents and frames
    const decodedRef = ref('decoded').data;
    add('VAE decode (chunks of 8)', errors(await runner.decode(ref(`latents_step_${index.steps - 1}`).data, N), decodedRef, 'decoded'));
    const middlesRef = ref('middles').data;
    const mids = new Float32Array(middlesRef.length);
    for (let g = 0; g + 1 < N; g++) {
      const m = await runner.interpolate(toUnit(decodedRef.subarray(g * pixels, (g + 1) * pixels)), toUnit(decodedRef.subarray((g + 1) * pixels, (g + 2) * pixels)));
      mids.set(m, g * pixels);
    }
    add('RIFE middle frames', errors(mids, middlesRef, 'middles'));

    // 7. end to end: our mel, preprocessing, tokens, buckets, sampler, decode, RIFE; the official start noise
    const clip = await runner.offlineClip(mel, { window, overlap: cfg.overlap, shiftOffset: cfg.shift_offset, noise });
    if (clip.frames !== N) throw new Error(`the clip has ${clip.frames} generated frames here, ${N} in the official run`);
    add('end to end: latents', errors(clip.latents, ref(`latents_step_${index.steps - 1}`).data, 'latents'));
    const ours25 = await frames25(runner, clip.latents, N);
    const official25 = interleave(ref('video').data, middlesRef, N, pixels);
    add('end to end: 25 fps frames [0, 1]', errors(ours25, official25, 'frames'));
    const psnrDb = psnr(ours25, official25);
    log(`  ${'end to end: PSNR'.padEnd(34)} ${psnrDb.toFixed(2)} dB over ${2 * N - 1} frames of ${W}x${H}`);

    const failed = rows.find((r) => r.judged && !(r.maxRel <= TOLERANCE));
    report = {
      rows,
      psnrDb,
      pass: !failed && psnrDb >= MIN_PSNR_DB,
      failure: failed ? `${failed.stage}: max relative error ${failed.maxRel.toExponential(2)} > ${TOLERANCE}` : psnrDb < MIN_PSNR_DB ? `frames: PSNR ${psnrDb.toFixed(2)} dB < ${MIN_PSNR_DB}` : undefined,
    };

    // 8. streaming, reported: the engine's causal windows with the same start noise
    if (inp.streaming) report.streaming = await streaming(inp, options, noise, official25, N, pixels);
  } finally {
    await runner.close();
  }
  return report;
}

/** the first 30 s of a [80, 3000 k] mel */
function firstChunk(mel: NpyArray): Float32Array {
  const frames = mel.shape[1]!;
  const out = new Float32Array(MEL.bins * MEL.frames);
  for (let m = 0; m < MEL.bins; m++) out.set(mel.data.subarray(m * frames, m * frames + MEL.frames), m * MEL.frames);
  return out;
}

/** [video 0, middle 0, video 1, ..., video N-1] */
function interleave(video: Float32Array, middles: Float32Array, n: number, pixels: number): Float32Array {
  const out = new Float32Array((2 * n - 1) * pixels);
  for (let g = 0; g < n; g++) {
    out.set(video.subarray(g * pixels, (g + 1) * pixels), 2 * g * pixels);
    if (g + 1 < n) out.set(middles.subarray(g * pixels, (g + 1) * pixels), (2 * g + 1) * pixels);
  }
  return out;
}

/** our 25 fps frames in [0, 1]: decoded frames clamped, RIFE between them */
async function frames25(runner: SonicRunner, latents: Float32Array, n: number): Promise<Float32Array> {
  const decoded = await runner.decode(latents, n);
  const pixels = decoded.length / n;
  const out = new Float32Array((2 * n - 1) * pixels);
  const video = toUnit(decoded);
  for (let g = 0; g < n; g++) {
    const a = video.subarray(g * pixels, (g + 1) * pixels);
    out.set(a, 2 * g * pixels);
    if (g + 1 < n) out.set(await runner.interpolate(a, video.subarray((g + 1) * pixels, (g + 2) * pixels)), (2 * g + 1) * pixels);
  }
  return out;
}

/** mean |Y step| between consecutive output frames, at window seams and elsewhere */
function steps(ys: Uint8Array[], seams: Set<number>): { seam: number; inside: number } {
  let seam = 0;
  let ns = 0;
  let inside = 0;
  let ni = 0;
  for (let k = 1; k < ys.length; k++) {
    let d = 0;
    for (let i = 0; i < ys[k]!.length; i++) d += Math.abs(ys[k]![i]! - ys[k - 1]![i]!);
    d /= ys[k]!.length;
    if (seams.has(k)) {
      seam += d;
      ns += 1;
    } else {
      inside += d;
      ni += 1;
    }
  }
  return { seam: ns ? seam / ns : NaN, inside: ni ? inside / ni : NaN };
}

async function streaming(inp: Inputs, runnerOptions: SonicRunnerOptions, noise: Float32Array, official25: Float32Array, n: number, pixels: number): Promise<NonNullable<ParityReport['streaming']>> {
  const { window, overlap } = inp.streaming!;
  const engine = await SonicEngine.open({ ...inp.portrait, faceBox: inp.faceBox }, { runner: runnerOptions, fps: 25, window, overlap, offline: { window, overlap: 0, shiftOffset: 7 } });
  try {
    engine.runner.useNoise(noise);
    engine.pushAudio(inp.audio);
    engine.pushSilence(3 * 16_000); // lets the last windows run
    const out: Uint8Array[] = [];
    while (out.length < 2 * n - 1 && engine.framesReady() > 0) for (const f of await engine.renderReady(2 * n - 1 - out.length)) out.push(f.i420);
    const { width: W, height: H } = engine.info;
    const official = Array.from({ length: 2 * n - 1 }, (_, k) => planesToI420(official25.subarray(k * pixels, (k + 1) * pixels), W, H, undefined, 'unit'));
    const ys = (list: Uint8Array[]) => list.map((f) => f.subarray(0, W * H));
    let se = 0;
    let count = 0;
    for (let k = 0; k < out.length; k++) {
      for (let i = 0; i < out[k]!.length; i++) se += (out[k]![i]! - official[k]![i]!) ** 2;
      count += out[k]!.length;
    }
    const stride = window - overlap;
    const seams = new Set<number>();
    for (let j = 1; j * stride < n; j++) seams.add(2 * j * stride);
    const s = steps(ys(out), seams);
    const o = steps(ys(official.slice(0, out.length)), seams);
    return { psnrDb: 10 * Math.log10((255 * 255) / (se / count)), seamStep: s.seam, insideStep: s.inside, officialSeamStep: o.seam, officialInsideStep: o.inside, windows: Math.ceil(n / stride) };
  } finally {
    await engine.close();
  }
}
