/**
 * The Sonic runner on real ONNX Runtime sessions of stand-in graphs that follow the Sonic contract
 * (models/sonic/stand-in.ts). The GPU providers cannot run here: these sessions open on CPU after
 * TensorRT and CUDA fail to load, which the first test asserts.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SVD } from '../../models/sonic/contract.js';
import { MelTimeline } from '../../models/sonic/mel.js';
import { DEFAULT_PROVIDERS } from '../../models/sonic/providers.js';
import { SonicRunner, type SonicRunnerOptions } from '../../models/sonic/runner.js';
import { STAND_IN_DIMS, standInWeights, writeStandInWeights } from '../../models/sonic/stand-in.js';
import { syntheticPortrait } from '../helpers/synthetic-portrait.js';

const portrait = syntheticPortrait({ width: 128, height: 160 });
let dir: string;
const weights = { standard: '', ideal: '', fp16: '' };

function options(over: Partial<SonicRunnerOptions> = {}): SonicRunnerOptions {
  return {
    weightsDir: weights.standard,
    providers: DEFAULT_PROVIDERS,
    steps: 8,
    guidance: { image: 2, audio: 7.5 },
    seed: 7,
    dynamicScale: 1,
    lipSyncOffsetMs: 0,
    noiseAugStrength: 0.02,
    decodeChunkFrames: 3,
    ...over,
  };
}

/** 2 s of a vowel-like tone that swells: the audio the tests condition on */
function speech(): MelTimeline {
  const m = new MelTimeline();
  m.push(Float32Array.from({ length: 32_000 }, (_, i) => (i / 32_000) * 0.5 * Math.sin(i * 0.12) * (1 + 0.5 * Math.sin(i * 0.013))));
  return m;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sonic-runner-'));
  weights.standard = join(dir, 'standard');
  weights.ideal = join(dir, 'ideal');
  weights.fp16 = join(dir, 'fp16');
  await writeStandInWeights(weights.standard);
  await writeStandInWeights(weights.ideal, { a: 1, mix: 0 });
  await writeStandInWeights(weights.fp16, { fp16: true });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('Sonic runner on stand-in graphs', () => {
  it('opens every sub-model (TensorRT and CUDA skipped with their reason on this CPU host), and shapes flow end to end', async () => {
    const r = await SonicRunner.open(options());
    try {
      const report = r.providerReport();
      expect(Object.keys(report).sort()).toEqual(['audio2bucket', 'audio2token', 'audio_encoder', 'image_encoder', 'unet', 'vae_decoder', 'vae_encoder']);
      for (const p of Object.values(report)) {
        expect(p.provider).toBe('cpu');
        expect(p.skipped.map((s) => s.provider)).toEqual(['tensorrt', 'cuda']);
      }
      const c = await r.conditionOn(portrait.rgba, portrait.width, portrait.height);
      expect([c.width, c.height]).toEqual([128, 128]); // 160 rows cropped to a multiple of 64
      expect(c.crop).toEqual({ x: 0, y: 16, width: 128, height: 128 });
      expect(c.latent.length).toBe(4 * 16 * 16);
      expect(c.embeds.length).toBe(STAND_IN_DIMS.D);
      const track = await r.encodeAudio(speech(), 0);
      expect(track.data.length).toBe(1500 * STAND_IN_DIMS.L * STAND_IN_DIMS.A);
      const tokens = await r.tokens(track, 0, 6);
      expect(tokens.length).toBe(6 * STAND_IN_DIMS.T * STAND_IN_DIMS.D);
      const bucket = await r.motionBucket(track, 0, 6);
      expect(bucket).toBeGreaterThan(0);
      expect(bucket).toBeLessThan(127);
      const lat = await r.sampleWindow({ first: 0, size: 6, tokens, bucket });
      expect(lat.length).toBe(6 * r.frameSize);
      expect(lat.every(Number.isFinite)).toBe(true);
      const planes = await r.decode(lat, 6);
      expect(planes.length).toBe(6 * 3 * 128 * 128);
      // 8 steps: one UNet run per step for one window; the decoder in chunks of 3
      expect(r.stats.unet!.count).toBe(8);
      expect(r.stats.vae_decoder!.count).toBe(2);
    } finally {
      await r.close();
    }
  });

  it('offline: the motion bucket of a window that wraps past the clip end reads the clip start, as its tokens do', async () => {
    const r = await SonicRunner.open(options());
    try {
      await r.conditionOn(portrait.rgba, portrait.width, portrait.height);
      const track = await r.encodeClip(speech(), 200);
      const total = 25; // 2 s at 12.5 generated frames/s
      const wrapped = await r.motionBucket(track, total - 2, 4, total);
      const parts = ((await r.motionBucket(track, total - 2, 2)) + (await r.motionBucket(track, 0, 2))) / 2;
      const unwrapped = await r.motionBucket(track, total - 2, 4);
      console.log(`bucket of frames 23, 24, 0, 1: ${wrapped.toFixed(3)}; of its two halves ${parts.toFixed(3)}; reading past the end instead ${unwrapped.toFixed(3)}`);
      expect(wrapped).toBeCloseTo(parts, 4);
      expect(Math.abs(wrapped - unwrapped)).toBeGreaterThan(1e-3);
    } finally {
      await r.close();
    }
  });

    it('lands on the three-way guided target with an ideal denoiser: uncond + g_img (image - uncond) + g_audio (full - image), checked against a float64 reference', async () => {
    for (const [guidance, dynamicScale] of [[{ image: 2, audio: 7.5 }, 1], [{ image: 1.2, audio: 3 }, 2]] as const) {
      const r = await SonicRunner.open(options({ weightsDir: weights.ideal, guidance, dynamicScale, steps: 12 }));
      try {
        const c = await r.conditionOn(portrait.rgba, portrait.width, portrait.height);
        const track = await r.encodeAudio(speech(), 0);
        const F = 5;
        const tokens = await r.tokens(track, 10, F);
        const bucket = await r.motionBucket(track, 10, F);
        const lat = await r.sampleWindow({ first: 10, size: F, tokens, bucket });
        // reference: the stand-in UNet's target per branch, from its weights, in float64
        const W = standInWeights(STAND_IN_DIMS);
        const { T, D } = STAND_IN_DIMS;
        const hw = (c.width / 8) * (c.height / 8);
        const clip = [0, 1, 2, 3].map((ch) => c.embeds.reduce((acc, e, d) => acc + e * W.unetClip[d * 4 + ch]!, 0));
        let maxErr = 0;
        let maxAbs = 0;
        let maxAudio = 0;
        for (let f = 0; f < F; f++) {
          const audioTerm = (tok: Float32Array, at: number) =>
            [0, 1, 2, 3].map((ch) => {
              let acc = 0;
              for (let d = 0; d < D; d++) {
                let mean = 0;
                for (let t = 0; t < T; t++) mean += tok[(at * T + t) * D + d]! / T;
                acc += mean * W.unetAudio[d * 4 + ch]!;
              }
              return (acc * bucket) / 127;
            });
          const heard = audioTerm(tokens, f);
          const silent = audioTerm(r.silence, 0); // the uncond and image branches hear silence's tokens
          const audio = heard.map((a, ch) => a - silent[ch]!);
          for (const a of audio) maxAudio = Math.max(maxAudio, Math.abs(guidance.audio * a));
          for (let ch = 0; ch < 4; ch++) {
            for (let p = 0; p < hw; p++) {
              const windowWide = W.kBucket * (bucket / 127 - 0.5); // the bucket reaches every branch
              const uncond = windowWide + silent[ch]!; // no image latent, no embedding
              const image = W.kImg * c.latent[ch * hw + p]! + clip[ch]! + windowWide + silent[ch]!;
              const full = image + audio[ch]!;
              const want = uncond + guidance.image * (image - uncond) + guidance.audio * (full - image);
              const got = lat[f * 4 * hw + ch * hw + p]!;
              maxErr = Math.max(maxErr, Math.abs(got - want));
              maxAbs = Math.max(maxAbs, Math.abs(want));
            }
          }
        }
        expect(maxAbs).toBeGreaterThan(0.05);
        // the audio branch's share is far above the tolerance, so a mis-wired branch would show
        expect(maxAudio).toBeGreaterThan(10 * 2e-4);
        expect(maxErr).toBeLessThan(2e-4);
      } finally {
        await r.close();
      }
    }
  });

  it('one seed gives identical output, another seed a different one', async () => {
    const run = async (seed: number) => {
      const r = await SonicRunner.open(options({ seed }));
      try {
        await r.conditionOn(portrait.rgba, portrait.width, portrait.height);
        const track = await r.encodeAudio(speech(), 0);
        const tokens = await r.tokens(track, 0, 4);
        return await r.sampleWindow({ first: 0, size: 4, tokens, bucket: await r.motionBucket(track, 0, 4) });
      } finally {
        await r.close();
      }
    };
    const a = await run(3);
    const b = await run(3);
    const c = await run(4);
    expect(Buffer.from(a.buffer).equals(Buffer.from(b.buffer))).toBe(true);
    const diff = a.reduce((acc, v, i) => Math.max(acc, Math.abs(v - c[i]!)), 0);
    expect(diff).toBeGreaterThan(1e-4);
  });

  it('runs an FP16 export (float16 feeds and outputs) and agrees with FP32 within half precision', async () => {
    const run = async (weightsDir: string) => {
      const r = await SonicRunner.open(options({ weightsDir }));
      try {
        await r.conditionOn(portrait.rgba, portrait.width, portrait.height);
        const track = await r.encodeAudio(speech(), 0);
        const tokens = await r.tokens(track, 0, 4);
        const lat = await r.sampleWindow({ first: 0, size: 4, tokens, bucket: await r.motionBucket(track, 0, 4) });
        return { fp16: r.fp16, planes: await r.decode(lat, 4) };
      } finally {
        await r.close();
      }
    };
    const full = await run(weights.standard);
    const half = await run(weights.fp16);
    expect([full.fp16, half.fp16]).toEqual([false, true]);
    let sum = 0;
    for (let i = 0; i < full.planes.length; i++) sum += Math.abs(full.planes[i]! - half.planes[i]!);
    // mean error in [-1, 1] pixels: under 1/255 of a step of 8-bit video
    expect(sum / full.planes.length).toBeLessThan(2 / 255);
  });

  it('refuses a folder without the export, naming the files and where they go', async () => {
    await expect(SonicRunner.open(options({ weightsDir: join(dir, 'nothing-here') }))).rejects.toThrow(/missing audio_encoder\.onnx.*unet\.onnx.*manifest\.json.*models\/sonic\/export/);
  });

  it('refuses an export whose widths differ from its manifest (contract shape check)', async () => {
    const wrong = join(dir, 'wrong');
    await writeStandInWeights(wrong);
    const { readFileSync, writeFileSync } = await import('node:fs');
    const m = JSON.parse(readFileSync(join(wrong, 'manifest.json'), 'utf8'));
    m.dims.D = 32;
    writeFileSync(join(wrong, 'manifest.json'), JSON.stringify(m));
    await expect(SonicRunner.open(options({ weightsDir: wrong }))).rejects.toThrow(/does not follow the Sonic ONNX contract.*expected 32/);
  });

  it('pads the last chunk for an export whose VAE decoder takes a fixed frame count, and gives the same frames', async () => {
    const fixedDir = join(dir, 'fixed-decoder');
    await writeStandInWeights(fixedDir, { decodeFrames: 4 });
    const fixed = await SonicRunner.open(options({ weightsDir: fixedDir, decodeChunkFrames: 7 }));
    const free = await SonicRunner.open(options());
    try {
      expect(fixed.decoderFrames).toBe(4);
      expect(free.decoderFrames).toBeUndefined();
      await fixed.conditionOn(portrait.rgba, portrait.width, portrait.height);
      await free.conditionOn(portrait.rgba, portrait.width, portrait.height);
      const lat = Float32Array.from({ length: 5 * fixed.frameSize }, (_, i) => Math.sin(i * 0.01) * 0.1);
      const a = await fixed.decode(lat, 5);
      const b = await free.decode(lat, 5);
      expect(fixed.stats.vae_decoder!.count).toBe(2); // 4 + 1 padded to 4
      expect(a.length).toBe(b.length);
      expect(a.every((v, i) => Math.abs(v - b[i]!) < 1e-6)).toBe(true);
    } finally {
      await Promise.all([fixed.close(), free.close()]);
    }
  });

  it('scales the latent by the VAE factor: decode(latent * 0.18215) gives back the image latent channels', async () => {
    const r = await SonicRunner.open(options({ noiseAugStrength: 0 }));
    try {
      const c = await r.conditionOn(portrait.rgba, portrait.width, portrait.height);
      const lat = c.latent.map((v) => v * SVD.scalingFactor);
      const planes = await r.decode(lat, 1);
      // the stand-in decoder upsamples the RGB channels of the latent: the pixel at a cell centre is its value
      const hw = 16;
      for (const [y, x] of [[3, 4], [8, 8], [12, 2]] as const) {
        const px = planes[(y * 8 + 4) * 128 + x * 8 + 4]!;
        expect(Math.abs(px - c.latent[y * hw + x]!)).toBeLessThan(0.08);
      }
    } finally {
      await r.close();
    }
  });
});
