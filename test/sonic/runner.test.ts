/**
 * The Sonic runner on real ONNX Runtime sessions of stand-in graphs that follow the Sonic contract
 * (models/sonic/stand-in.ts). The GPU providers cannot run here: these sessions open on CPU after
 * TensorRT and CUDA fail to load, which the first test asserts.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SVD, TIME_ID_FPS } from '../../models/sonic/contract.js';
import { MelTimeline } from '../../models/sonic/mel.js';
import { DEFAULT_PROVIDERS } from '../../models/sonic/providers.js';
import { clipFrames, SonicRunner, windowTimeIds, type SonicRunnerOptions } from '../../models/sonic/runner.js';
import { STAND_IN_DIMS, standInWeights, writeStandInWeights } from '../../models/sonic/stand-in.js';
import { syntheticPortrait } from '../helpers/synthetic-portrait.js';

const enrolled = syntheticPortrait({ width: 128, height: 160 });
const portrait = { rgba: enrolled.rgba, width: enrolled.width, height: enrolled.height, faceBox: enrolled.landmarks.faceBox };
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
    noiseAugStrength: 0,
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
      expect(Object.keys(report).sort()).toEqual(['audio2bucket', 'audio2token', 'audio_encoder', 'image_encoder', 'interpolator', 'unet', 'vae_decoder', 'vae_encoder']);
      for (const p of Object.values(report)) {
        expect(p.provider).toBe('cpu');
        expect(p.skipped.map((s) => s.provider)).toEqual(['tensorrt', 'cuda']);
      }
      const c = await r.conditionOn(portrait);
      expect([c.width, c.height]).toEqual([128, 128]); // the export's frame; the 128 x 160 portrait cropped around its face to 1:1
      expect(c.crop.width).toBe(128);
      expect(c.crop.height).toBe(128);
      expect(c.latent.length).toBe(4 * 16 * 16);
      expect(c.embeds.length).toBe(STAND_IN_DIMS.D);
      expect(c.mask.length).toBe(128 * 128);
      const track = await r.encodeAudio(speech(), 0);
      expect(track.data.length).toBe(1500 * STAND_IN_DIMS.L * STAND_IN_DIMS.A);
      const tokens = await r.tokens(track, 0, 6);
      expect(tokens.length).toBe(6 * STAND_IN_DIMS.T * STAND_IN_DIMS.D);
      const buckets = await r.frameBuckets(track, 0, 6);
      expect(buckets.length).toBe(6 * 2); // two per frame (Audio2bucketModel context_tokens=2)
      for (const b of buckets) expect(b > 0 && b < 127).toBe(true);
      const timeIds = r.timeIds(buckets, 0, 6, 6);
      expect(timeIds[0]).toBe(TIME_ID_FPS);
      const lat = await r.sampleWindow({ first: 0, size: 6, tokens, timeIds });
      expect(lat.length).toBe(6 * r.frameSize);
      expect(lat.every(Number.isFinite)).toBe(true);
      const planes = await r.decode(lat, 6);
      expect(planes.length).toBe(6 * 3 * 128 * 128);
      const mid = await r.interpolate(planes.subarray(0, 3 * 128 * 128), planes.subarray(3 * 128 * 128, 6 * 128 * 128));
      expect(mid.length).toBe(3 * 128 * 128);
      // 8 steps: one UNet run per step for one window; the decoder in chunks of 3 (3 + 3); RIFE once
      expect(r.stats.unet!.count).toBe(8);
      expect(r.stats.vae_decoder!.count).toBe(2);
      expect(r.stats.interpolator!.count).toBe(1);
    } finally {
      await r.close();
    }
  });

  it('time ids: [12.5, bucket 0, bucket 1], each the window mean x dynamic_scale; windows past the clip end wrap to its start', () => {
    const per = Float32Array.from([10, 20, 30, 40, 50, 60, 70, 80]); // 4 frames x 2 buckets
    expect(Array.from(windowTimeIds(per, 2, 0, 2, 4, 1))).toEqual([12.5, 20, 30]);
    // frames 3, 0: (70 + 10) / 2, (80 + 20) / 2, then x 2
    expect(Array.from(windowTimeIds(per, 2, 3, 2, 4, 2))).toEqual([12.5, 80, 100]);
    // a window longer than the clip repeats frames, as the reference's windows do: 0 1 2 3 0
    expect(windowTimeIds(per, 2, 0, 5, 4, 1)[1]).toBeCloseTo((10 + 30 + 50 + 70 + 10) / 5, 5);
    // as sonic.py: frames = (samples // 640) // 2, whisper frames kept = (samples // 640) * 2
    expect(clipFrames(41_600)).toEqual({ audioLen: 65, frames: 32, whisperFrames: 130 });
  });

    it('lands on the three-way guided target with an ideal denoiser: uncond + g_img (image - uncond) + g_audio (full - image), checked against a float64 reference', async () => {
    for (const [guidance, dynamicScale] of [[{ image: 2, audio: 7.5 }, 1], [{ image: 1.2, audio: 3 }, 2]] as const) {
      const r = await SonicRunner.open(options({ weightsDir: weights.ideal, guidance, dynamicScale, steps: 12 }));
      try {
        const c = await r.conditionOn(portrait);
        const track = await r.encodeAudio(speech(), 0);
        const F = 5;
        const tokens = await r.tokens(track, 10, F);
        const timeIds = r.timeIds(await r.frameBuckets(track, 10, F), 0, F, F);
        const [, bucket, bucket1] = timeIds as unknown as [number, number, number];
        const lat = await r.sampleWindow({ first: 10, size: F, tokens, timeIds });
        // the face mask at the latent's size (the stand-in's 8 x 8 mean)
        const maskAt = (p: number) => {
          const y = Math.floor(p / 16);
          const x = p % 16;
          let m = 0;
          for (let dy = 0; dy < 8; dy++) for (let dx = 0; dx < 8; dx++) m += c.mask[(y * 8 + dy) * 128 + x * 8 + dx]! / 64;
          return m;
        };
        // reference: the stand-in UNet's target per branch, from its weights, in float64
        const W = standInWeights(STAND_IN_DIMS);
        const { T, D } = STAND_IN_DIMS;
        const hw = (c.width / 8) * (c.height / 8);
        const clip = [0, 1, 2, 3].map((ch) => c.embeds.reduce((acc, e, d) => acc + e * W.unetClip[d * 4 + ch]!, 0));
        let maxErr = 0;
        let maxAbs = 0;
        let maxAudio = 0;
        let audioOffFace = 0;
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
              const m = maskAt(p);
              // the buckets reach every branch; a wrong fps id (not 12.5) would add k_fps * (id - 12.5)
              const windowWide = W.kBucket * (bucket / 127 - 0.5) + W.kBucket1 * (bucket1 / 127 - 0.5);
              const uncond = windowWide + m * silent[ch]!; // no image latent, no embedding
              const image = W.kImg * c.latent[ch * hw + p]! + clip[ch]! + windowWide + m * silent[ch]!;
              const full = image + m * audio[ch]!;
              if (m === 0) audioOffFace = Math.max(audioOffFace, Math.abs(full - image));
              const want = uncond + guidance.image * (image - uncond) + guidance.audio * (full - image);
              const got = lat[f * 4 * hw + ch * hw + p]!;
              maxErr = Math.max(maxErr, Math.abs(got - want));
              maxAbs = Math.max(maxAbs, Math.abs(want));
            }
          }
        }
        expect(maxAbs).toBeGreaterThan(0.05);
        // the face mask keeps audio attention off hair, background and shoulders
        expect(audioOffFace).toBe(0);
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
        await r.conditionOn(portrait);
        const track = await r.encodeAudio(speech(), 0);
        const tokens = await r.tokens(track, 0, 4);
        return await r.sampleWindow({ first: 0, size: 4, tokens, timeIds: r.timeIds(await r.frameBuckets(track, 0, 4), 0, 4, 4) });
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
        await r.conditionOn(portrait);
        const track = await r.encodeAudio(speech(), 0);
        const tokens = await r.tokens(track, 0, 4);
        const lat = await r.sampleWindow({ first: 0, size: 4, tokens, timeIds: r.timeIds(await r.frameBuckets(track, 0, 4), 0, 4, 4) });
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
    await expect(SonicRunner.open(options({ weightsDir: join(dir, 'nothing-here') }))).rejects.toThrow(/missing audio_encoder\.onnx.*unet\.onnx.*interpolator\.onnx.*manifest\.json.*models\/sonic\/export/);
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

  it('decodes in chunks of decode_chunk_frames with a smaller last chunk (the temporal decoder takes any count), as SonicPipeline.decode_latents', async () => {
    const r = await SonicRunner.open(options({ decodeChunkFrames: 4 }));
    const whole = await SonicRunner.open(options({ decodeChunkFrames: 16 }));
    try {
      await r.conditionOn(portrait);
      await whole.conditionOn(portrait);
      const lat = Float32Array.from({ length: 9 * r.frameSize }, (_, i) => Math.sin(i * 0.01) * 0.1);
      const a = await r.decode(lat, 9);
      const b = await whole.decode(lat, 9);
      expect(r.stats.vae_decoder!.count).toBe(3); // 4 + 4 + 1
      expect(whole.stats.vae_decoder!.count).toBe(1);
      expect(a.every((v, i) => Math.abs(v - b[i]!) < 1e-6)).toBe(true); // the stand-in decoder is per frame
    } finally {
      await Promise.all([r.close(), whole.close()]);
    }
  });

  it('offline clip: frames from the audio length as sonic.py, one 25-frame window per step starting 7 frames earlier each step, the injected noise used', async () => {
    const r = await SonicRunner.open(options({ steps: 3 }));
    try {
      const c = await r.conditionOn(portrait);
      const mel = speech();
      const { frames } = clipFrames(mel.sampleCount);
      expect(frames).toBe(25); // 32000 samples: 50 frames of 25 fps, 25 generated
      const noise = Float32Array.from({ length: frames * r.frameSize }, (_, i) => Math.sin(i * 0.37));
      const seen: number[] = [];
      const clip = await r.offlineClip(mel, { window: 25, overlap: 0, shiftOffset: 7, noise, onWindow: (step, w) => seen.push(step * 100 + w.start) });
      expect(clip.frames).toBe(25);
      expect(clip.buckets.length).toBe(50);
      // one window of 25 per step, starting 7 frames earlier each step (mod 25)
      expect(seen).toEqual([0, 100 + 18, 200 + 11]);
      expect(clip.latents.every(Number.isFinite)).toBe(true);
      expect(c.latent.length * frames).toBe(clip.latents.length);
      const again = await r.offlineClip(mel, { window: 25, overlap: 0, shiftOffset: 7, noise });
      const other = await r.offlineClip(mel, { window: 25, overlap: 0, shiftOffset: 7, noise: noise.map((v) => -v) });
      expect(Buffer.from(again.latents.buffer).equals(Buffer.from(clip.latents.buffer))).toBe(true);
      expect(other.latents.some((v, i) => Math.abs(v - clip.latents[i]!) > 1e-4)).toBe(true);
    } finally {
      await r.close();
    }
  });

  it('scales the latent by the VAE factor: decode(latent * 0.18215) gives back the image latent channels', async () => {
    const r = await SonicRunner.open(options({ noiseAugStrength: 0 }));
    try {
      const c = await r.conditionOn(portrait);
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
