/**
 * Tells the kiosk's own loudspeaker in its microphone from a person speaking over it. The session
 * keeps the loudness envelope (10 ms steps) of the speech it sent; a microphone's recent envelope
 * that follows it at some delay (0..MAX_LAG_MS: the network, the kiosk's jitter buffer, the room)
 * with a Pearson correlation >= ECHO_R is its own voice coming back: not a barge-in, not an
 * utterance. A person talking over it breaks the correlation. The browser's echo canceller does
 * most of this already; this is for kiosks whose canceller lets the voice through (external
 * speakers, loud rooms). Pure: samples in, decisions out.
 */
import { pearsonAtLag } from '../../pipeline/motion/lip-sync.js';

export const STEP_MS = 10;
export const MAX_LAG_MS = 600;
/** ms of microphone envelope compared */
export const WINDOW_MS = 800;
export const ECHO_R = 0.8;

/** RMS of each STEP_MS of `samples` at `rate`. */
export function envelope(samples: Float32Array, rate: number): number[] {
  const n = Math.round((rate * STEP_MS) / 1000);
  const out: number[] = [];
  for (let i = 0; i + n <= samples.length; i += n) {
    let s = 0;
    for (let k = i; k < i + n; k++) s += samples[k]! * samples[k]!;
    out.push(Math.sqrt(s / n));
  }
  return out;
}

/** A rolling envelope of the last `keepMs`, appended in time order. */
export class EnvelopeRing {
  private values: number[] = [];
  private rest = new Float32Array(0);
  constructor(private readonly keepMs: number) {}

  push(samples: Float32Array, rate: number): void {
    const all = new Float32Array(this.rest.length + samples.length);
    all.set(this.rest);
    all.set(samples, this.rest.length);
    const env = envelope(all, rate);
    const used = env.length * Math.round((rate * STEP_MS) / 1000);
    this.rest = all.slice(used);
    this.values.push(...env);
    const keep = Math.ceil(this.keepMs / STEP_MS);
    if (this.values.length > keep) this.values.splice(0, this.values.length - keep);
  }

  get steps(): readonly number[] {
    return this.values;
  }

  clear(): void {
    this.values = [];
    this.rest = new Float32Array(0);
  }
}

/** ms of microphone needed before anything can be told: a microphone that has just started, while the avatar speaks, counts as echo until then */
export const MIN_WINDOW_MS = 300;

/**
 * The best correlation of the microphone's last WINDOW_MS (less while it has not sent that much)
 * with the sent speech at any delay up to MAX_LAG_MS (both rings end "now"); 0 when silent, 1
 * while the microphone has sent less than MIN_WINDOW_MS (too little to tell a voice from its echo).
 */
export function echoCorrelation(mic: readonly number[], sent: readonly number[]): number {
  if (mic.length < MIN_WINDOW_MS / STEP_MS) return 1;
  const len = Math.min(WINDOW_MS / STEP_MS, mic.length);
  const m = mic.slice(mic.length - len);
  let best = 0;
  for (let lag = 0; lag <= MAX_LAG_MS / STEP_MS; lag++) {
    const start = sent.length - len - lag;
    if (start < 0) break;
    // the pairs (m[i], sent[start + i]); a constant side correlates with nothing
    const r = pearsonAtLag(m, sent, -start, len);
    if (r > best) best = r;
  }
  return best;
}
