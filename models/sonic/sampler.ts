/**
 * The Sonic sampler core, pure: the EDM-style Euler sampler of Stable Video Diffusion (which
 * Sonic's UNet is fine-tuned from) with Sonic's three-way classifier-free guidance.
 *
 *   sigmas      Karras schedule from sigma_max to sigma_min over `steps`, then 0
 *   model in    x * c_in,  c_in = 1 / sqrt(sigma^2 + 1);  timestep c_noise = ln(sigma) / 4
 *   guidance    eps = uncond + g_image * (image - uncond) + g_audio * (full - image)
 *               (uncond: no image, no audio; image: image only; full: image and audio)
 *   v-pred      x0 = x / (sigma^2 + 1) - eps * sigma / sqrt(sigma^2 + 1)
 *   Euler       x <- x + (x - x0) / sigma * (sigma_next - sigma)
 *   start       x = ref latent * 0.18215 + sigma_max * noise   (SonicPipeline with i2i_noise_strength
 *               1.0: scheduler.add_noise(ref latent, noise, first timestep), not init_noise_sigma)
 * The schedule's sigmas and c_noise are rounded to float32, as diffusers keeps them.
 *
 * Deterministic: the noise comes from a seeded generator, so one seed gives one output.
 * The model is a callback: the runner puts the ONNX UNet (and the window logic) behind it.
 */

export interface SamplerSchedule {
  steps: number;
  sigmaMin: number;
  sigmaMax: number;
  rho: number;
}

/** SVD-xt's schedule (diffusers EulerDiscreteScheduler, use_karras_sigmas). */
export const SVD_SCHEDULE: Omit<SamplerSchedule, 'steps'> = { sigmaMin: 0.002, sigmaMax: 700, rho: 7 };

/** steps + 1 sigmas: the Karras schedule, then 0. */
export function karrasSigmas({ steps, sigmaMin, sigmaMax, rho }: SamplerSchedule): Float64Array {
  if (!Number.isInteger(steps) || steps < 1) throw new RangeError(`karrasSigmas: steps must be an integer >= 1, got ${steps}`);
  if (!(sigmaMin > 0 && sigmaMax > sigmaMin)) throw new RangeError(`karrasSigmas: need 0 < sigmaMin < sigmaMax, got ${sigmaMin}, ${sigmaMax}`);
  const out = new Float64Array(steps + 1);
  const a = sigmaMax ** (1 / rho);
  const b = sigmaMin ** (1 / rho);
  for (let i = 0; i < steps; i++) out[i] = Math.fround((a + (steps === 1 ? 0 : i / (steps - 1)) * (b - a)) ** rho);
  out[steps] = 0;
  return out;
}

export interface GuidanceScales {
  /** image guidance (Sonic default 2.0) */
  image: number;
  /** audio guidance (Sonic default 7.5) */
  audio: number;
}

/** Three-way guidance, in place into `out` (may alias one of the inputs). */
export function guide(uncond: Float32Array, image: Float32Array, full: Float32Array, g: GuidanceScales, out: Float32Array): Float32Array {
  const n = out.length;
  if (uncond.length !== n || image.length !== n || full.length !== n) throw new RangeError('guide: the three predictions and the output must have one length');
  for (let i = 0; i < n; i++) {
    const u = uncond[i]!;
    const im = image[i]!;
    out[i] = u + g.image * (im - u) + g.audio * (full[i]! - im);
  }
  return out;
}

/** The model: predictions for the three guidance branches, given the scaled input and c_noise. */
export type Denoiser = (scaledInput: Float32Array, cNoise: number, step: number) => Promise<{ uncond: Float32Array; image: Float32Array; full: Float32Array }>;

export interface SampleOptions {
  /** number of latent values */
  size: number;
  schedule: SamplerSchedule;
  guidance: GuidanceScales;
  seed: number;
  denoise: Denoiser;
  /** called after each step with the latents it left (stats, cancellation by throwing, the parity harness) */
  onStep?: (step: number, sigma: number, x: Float32Array) => void;
  /** the starting noise (`size` standard normal values) instead of gaussian(size, seed) */
  noise?: Float32Array;
  /** the clean latent the sampler starts from (x = init + sigma_max * noise); zeros when absent */
  init?: Float32Array;
  /**
   * called before each step with the current latents (x = x0 + sigma * noise): a streaming window
   * pins the frames it shares with the previous window here (previous result + sigma * their noise)
   */
  beforeStep?: (x: Float32Array, sigma: number, step: number) => void;
}

/** Runs the whole sampler; returns the denoised latents. */
export async function sampleEuler(o: SampleOptions): Promise<Float32Array> {
  const sigmas = karrasSigmas(o.schedule);
  if (o.noise && o.noise.length !== o.size) throw new RangeError(`sampleEuler: noise has ${o.noise.length} values, size is ${o.size}`);
  if (o.init && o.init.length !== o.size) throw new RangeError(`sampleEuler: init has ${o.init.length} values, size is ${o.size}`);
  const x = o.noise ? o.noise.slice() : gaussian(o.size, o.seed);
  const start = sigmas[0]!;
  for (let i = 0; i < x.length; i++) x[i] = (o.init ? o.init[i]! : 0) + x[i]! * start;
  const scaled = new Float32Array(o.size);
  const eps = new Float32Array(o.size);
  for (let s = 0; s < o.schedule.steps; s++) {
    const sigma = sigmas[s]!;
    const next = sigmas[s + 1]!;
    o.beforeStep?.(x, sigma, s);
    const cIn = 1 / Math.sqrt(sigma * sigma + 1);
    for (let i = 0; i < x.length; i++) scaled[i] = x[i]! * cIn;
    const p = await o.denoise(scaled, Math.fround(0.25 * Math.fround(Math.log(sigma))), s);
    guide(p.uncond, p.image, p.full, o.guidance, eps);
    const cSkip = 1 / (sigma * sigma + 1);
    const cOut = sigma / Math.sqrt(sigma * sigma + 1);
    const dt = next - sigma;
    for (let i = 0; i < x.length; i++) {
      const x0 = x[i]! * cSkip - eps[i]! * cOut;
      x[i] = x[i]! + ((x[i]! - x0) / sigma) * dt;
    }
    o.onStep?.(s, sigma, x);
  }
  return x;
}

/** `n` standard normal values from a seeded generator (mulberry32 + Box-Muller). */
export function gaussian(n: number, seed: number): Float32Array {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const out = new Float32Array(n);
  for (let i = 0; i < n; i += 2) {
    const u = Math.max(next(), 1e-12);
    const v = next();
    const r = Math.sqrt(-2 * Math.log(u));
    out[i] = r * Math.cos(2 * Math.PI * v);
    if (i + 1 < n) out[i + 1] = r * Math.sin(2 * Math.PI * v);
  }
  return out;
}
