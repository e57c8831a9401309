/** The Sonic sampler core against a reference computed independently here (float64, diffusers' formulation). */
import { describe, expect, it } from 'vitest';
import { gaussian, guide, karrasSigmas, sampleEuler, SVD_SCHEDULE, type Denoiser } from '../../models/sonic/sampler.js';

const g = { image: 2.0, audio: 7.5 };

/** A small analytic "UNet": three branches that differ, depend on the input and on c_noise. */
const model: Denoiser = async (x, cNoise) => {
  const f = (k: number, b: number) => Float32Array.from(x, (v, i) => k * v + b * cNoise + 0.01 * Math.sin(i));
  return { uncond: f(0.2, 0.01), image: f(0.25, 0.02), full: f(0.3, 0.05) };
};

/** diffusers EulerDiscreteScheduler (v_prediction, karras sigmas) written out in float64; the start as SonicPipeline's add_noise(init, noise, t0) */
function reference(noise: Float32Array, steps: number, init?: Float32Array): Float64Array {
  const { sigmaMin, sigmaMax, rho } = SVD_SCHEDULE;
  const sig: number[] = [];
  for (let i = 0; i < steps; i++) {
    const t = steps === 1 ? 0 : i / (steps - 1);
    sig.push(Math.pow(Math.pow(sigmaMax, 1 / rho) * (1 - t) + Math.pow(sigmaMin, 1 / rho) * t, rho));
  }
  sig.push(0);
  let x = Float64Array.from(noise, (n, i) => (init ? init[i]! : 0) + n * sig[0]!);
  for (let s = 0; s < steps; s++) {
    const sigma = sig[s]!;
    const inp = Float32Array.from(x, (v) => v / Math.sqrt(sigma * sigma + 1));
    const c = Math.log(sigma) / 4;
    const br = (k: number, b: number) => Array.from(inp, (v, i) => k * v + b * c + 0.01 * Math.sin(i));
    const [u, im, fu] = [br(0.2, 0.01), br(0.25, 0.02), br(0.3, 0.05)];
    // guidance as (1 - gi) u + (gi - ga) im + ga full
    const eps = u.map((uv, i) => (1 - g.image) * uv + (g.image - g.audio) * im[i]! + g.audio * fu[i]!);
    const x0 = x.map((v, i) => eps[i]! * (-sigma / Math.sqrt(sigma * sigma + 1)) + v / (sigma * sigma + 1));
    x = x.map((v, i) => v + ((v - x0[i]!) / sigma) * (sig[s + 1]! - sigma));
  }
  return x;
}

describe('Sonic sampler core', () => {
  it('the Karras schedule runs from sigma_max to sigma_min, then 0, decreasing', () => {
    const s = karrasSigmas({ steps: 25, ...SVD_SCHEDULE });
    expect(s).toHaveLength(26);
    expect(s[0]).toBeCloseTo(700, 6);
    expect(s[24]).toBeCloseTo(0.002, 9);
    expect(s[25]).toBe(0);
    for (let i = 1; i < s.length; i++) expect(s[i]!).toBeLessThan(s[i - 1]!);
  });

  it('three-way guidance matches (1 - gi) u + (gi - ga) im + ga full', () => {
    const [u, im, fu] = [gaussian(64, 1), gaussian(64, 2), gaussian(64, 3)];
    const out = guide(u, im, fu, g, new Float32Array(64));
    out.forEach((v, i) => expect(v).toBeCloseTo((1 - g.image) * u[i]! + (g.image - g.audio) * im[i]! + g.audio * fu[i]!, 4));
    // image scale 1, audio scale 1: the full prediction
    const same = guide(u, im, fu, { image: 1, audio: 1 }, new Float32Array(64));
    same.forEach((v, i) => expect(v).toBeCloseTo(fu[i]!, 5));
    // image scale 0, audio scale 0: the unconditioned prediction
    guide(u, im, fu, { image: 0, audio: 0 }, new Float32Array(64)).forEach((v, i) => expect(v).toBeCloseTo(u[i]!, 6));
  });

  it('the Euler sampler matches the reference over 10 steps', async () => {
    const n = 96;
    const x = await sampleEuler({ size: n, schedule: { steps: 10, ...SVD_SCHEDULE }, guidance: g, seed: 42, denoise: model });
    const ref = reference(gaussian(n, 42), 10);
    const scale = Math.max(...ref.map(Math.abs));
    for (let i = 0; i < n; i++) expect(Math.abs(x[i]! - ref[i]!) / scale).toBeLessThan(1e-4);
  });

  it('starts from the clean latent plus sigma_max times the noise (i2i at strength 1, as SonicPipeline), not from noise x sqrt(sigma^2 + 1)', async () => {
    const n = 64;
    const init = Float32Array.from({ length: n }, (_, i) => Math.cos(i / 5));
    let first: Float32Array | undefined;
    const spy: Denoiser = async (x, c, step) => {
      if (step === 0) first = x.slice();
      return model(x, c, step);
    };
    const x = await sampleEuler({ size: n, schedule: { steps: 6, ...SVD_SCHEDULE }, guidance: g, seed: 9, init, denoise: spy });
    const noise = gaussian(n, 9);
    const sigma0 = karrasSigmas({ steps: 6, ...SVD_SCHEDULE })[0]!;
    // the model's first input is (init + sigma0 * noise) * c_in
    first!.forEach((v, i) => expect(v).toBeCloseTo((init[i]! + sigma0 * noise[i]!) / Math.sqrt(sigma0 * sigma0 + 1), 4));
    const ref = reference(noise, 6, init);
    const scale = Math.max(...ref.map(Math.abs));
    for (let i = 0; i < n; i++) expect(Math.abs(x[i]! - ref[i]!) / scale).toBeLessThan(1e-4);
  });

  it('one seed gives one output; another seed another', async () => {
    const run = (seed: number) => sampleEuler({ size: 50, schedule: { steps: 4, ...SVD_SCHEDULE }, guidance: g, seed, denoise: model });
    const [a, b, c] = [await run(7), await run(7), await run(8)];
    expect([...a]).toEqual([...b]);
    expect([...a]).not.toEqual([...c]);
  });

  it('the noise is standard normal', () => {
    const z = gaussian(200_000, 123);
    const mean = z.reduce((s, v) => s + v, 0) / z.length;
    const variance = z.reduce((s, v) => s + (v - mean) ** 2, 0) / z.length;
    expect(Math.abs(mean)).toBeLessThan(0.01);
    expect(Math.abs(variance - 1)).toBeLessThan(0.02);
  });
});
