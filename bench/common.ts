/**
 * Shared pieces of `npm run bench`: the speech clip, the portrait, the config, statistics and
 * formatting. Everything here is measurement plumbing; nothing in the product imports it.
 */
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { defaultConfig, parseConfig } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { enrolPortrait } from '../models/face/enrol.js';
import type { EnrolledPortrait } from '../models/face/PortraitTypes.js';
import { resample } from '../pipeline/audio/resampler.js';
import { ANALYSIS_RATE, CLOCK_RATE } from '../pipeline/records.js';
import { speakWav, wavBytes, wavSamples } from '../test/helpers/speech.js';

export const PORTRAIT_PATH = fileURLToPath(new URL('../models/portraits/default.png', import.meta.url));
/** enrolments of the bench go to /tmp, not into the checkout's .cache */
export const CACHE_DIR = '/tmp/kiosk-bench-portraits';

/** Default config with the engine on ONE intra-op thread and the cache in /tmp. */
export function benchConfig(): Config {
  const base = defaultConfig();
  return parseConfig({ ...base, runtime: { ...base.runtime, intra_op_threads: 1, cache_dir: CACHE_DIR } });
}

export async function loadPortrait(config: Config): Promise<EnrolledPortrait> {
  return enrolPortrait(PORTRAIT_PATH, {
    minResolution: config.avatar.min_resolution,
    expandRatio: config.avatar.expand_ratio,
    cacheDir: config.runtime.cache_dir,
  });
}

const SENTENCES = [
  'Hello, and welcome to the service hall.',
  'Please take a number from the machine by the door, and wait until it is called.',
  'If you need to renew a passport, the counters on the left are open until five.',
  'For parking permits, go to the first floor and ask at the information desk.',
  'Thank you for your patience. We will be with you shortly.',
  'Is there anything else I can help you with today?',
];
/** pauses between sentences, seconds (0.5 to 1 s) */
const PAUSES = [0.6, 1.0, 0.5, 0.8, 0.7, 0.9];

export interface SpeechClip {
  /** 16 kHz mono, what the engine consumes */
  analysis: Float32Array;
  /** 48 kHz mono, what the MP4 carries */
  playout: Float32Array;
  /** the clip at its source rate, for files */
  source: Float32Array;
  sourceRate: number;
  durationSec: number;
  sentences: number;
}

/**
 * Sentences spoken by espeak-ng and joined with 0.5-1 s silences, repeated until the clip is at
 * least `minSec` long (trimmed to `maxSec` when given).
 */
export function speechClip(minSec: number, maxSec = Infinity): SpeechClip {
  const parts: Float32Array[] = [];
  let rate = 0;
  let len = 0;
  let sentences = 0;
  for (let i = 0; len < minSec * (rate || 22050); i++) {
    const { samples, sampleRate } = wavSamples(speakWav(SENTENCES[i % SENTENCES.length]));
    rate = sampleRate;
    parts.push(samples, new Float32Array(Math.round(PAUSES[i % PAUSES.length]! * sampleRate)));
    len += samples.length + parts[parts.length - 1]!.length;
    sentences++;
  }
  let source = new Float32Array(len);
  let off = 0;
  for (const p of parts) { source.set(p, off); off += p.length; }
  if (source.length > maxSec * rate) source = source.slice(0, Math.round(maxSec * rate));
  return {
    analysis: resample(source, rate, ANALYSIS_RATE),
    playout: resample(source, rate, CLOCK_RATE),
    source,
    sourceRate: rate,
    durationSec: source.length / rate,
    sentences,
  };
}

export function clipWav(clip: SpeechClip): Buffer {
  return wavBytes(clip.source, clip.sourceRate);
}

// ---- statistics ----

export interface Summary { n: number; mean: number; p50: number; p95: number; max: number }

export function summarise(xs: ArrayLike<number>): Summary {
  const a = Float64Array.from(xs).sort();
  const n = a.length;
  if (n === 0) return { n: 0, mean: NaN, p50: NaN, p95: NaN, max: NaN };
  let s = 0;
  for (const x of a) s += x;
  const q = (p: number) => a[Math.min(n - 1, Math.max(0, Math.ceil(p * n) - 1))]!;
  return { n, mean: s / n, p50: q(0.5), p95: q(0.95), max: a[n - 1]! };
}

/** Least-squares slope of ys against xs. */
export function slope(xs: number[], ys: number[]): number {
  const n = xs.length;
  if (n < 2) return 0;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) { num += (xs[i]! - mx) * (ys[i]! - my); den += (xs[i]! - mx) ** 2; }
  return den === 0 ? 0 : num / den;
}

// ---- formatting ----

export const r2 = (x: number) => Math.round(x * 100) / 100;
export const f = (x: number, w = 8, d = 2) => (Number.isFinite(x) ? x.toFixed(d) : String(x)).padStart(w);
export const MB = (bytes: number) => bytes / (1024 * 1024);
export const load = () => loadavg().map((x) => x.toFixed(2)).join(' ');
export const passFail = (ok: boolean) => (ok ? 'PASS' : 'FAIL');

export function section(title: string): void {
  console.log(`\n== ${title} ${'='.repeat(Math.max(0, 70 - title.length))}`);
}

/** A full GC if one can be had (V8 flag set at runtime; no respawn needed). */
export async function gcFunction(): Promise<(() => void) | undefined> {
  const g = (globalThis as { gc?: () => void }).gc;
  if (typeof g === 'function') return g;
  try {
    const v8 = await import('node:v8');
    const vm = await import('node:vm');
    v8.setFlagsFromString('--expose-gc');
    const fn = vm.runInNewContext('gc') as unknown;
    return typeof fn === 'function' ? (fn as () => void) : undefined;
  } catch {
    return undefined;
  }
}
