/**
 * Microphone -> avatar, gated by voice activity (Silero VAD v5 on onnxruntime-node, CPU). Only
 * speech reaches the avatar: room noise and silence between utterances do not move its lips or
 * fill its queue, and the idle motion plays while the host is quiet.
 *
 *   PCM chunk (any rate 8..48 kHz) -> mono float -> 16 kHz copy -> 512-sample VAD frames (32 ms)
 *   each frame's decision applies to the same 32 ms of the original audio:
 *     closed: kept in a pre-roll buffer; after `min_speech_ms` of speech the gate opens and the
 *             pre-roll (the start of the first word) goes out first
 *     open:   forwarded; after `hangover_ms` without speech the gate closes and the utterance ends
 *
 * Audio waits here at most one VAD frame plus the resampler's look-ahead (~35 ms) while open.
 */
import { concatSamples, decodePcmChunk, type PcmFormat } from '../../pipeline/audio/pcm.js';
import { Resampler } from '../../pipeline/audio/resampler.js';
import { SileroVad, VAD_FRAME } from '../../pipeline/motion/vad.js';
import { ANALYSIS_RATE } from '../../pipeline/records.js';
import type { VoiceConfig } from '../../config/schema.js';
import { QueueFullError } from '../../pipeline/session/live-timeline.js';

const FRAME_MS = (VAD_FRAME * 1000) / ANALYSIS_RATE;
/** chunks (~20 ms each) the analysis may fall behind a live source before chunks are refused */
const MAX_BACKLOG = 25;
/** below threshold - this, an open gate counts a frame as silence (hysteresis) */
const RELEASE_MARGIN = 0.15;

export interface GatedSink {
  ingestSamples32(samples: Float32Array, sampleRate: number): void;
  /**
   * The utterance ended. `quietMs`: how much of what was forwarded last is the quiet tail that closed
   * the gate (the hangover; 0 when the source stopped), which is also about how long ago the speech
   * ended for a live source.
   */
  segmentEnd(quietMs?: number): void;
  /**
   * The gate opens (before the pre-roll is forwarded). `onsetAgoMs`: how long ago the first speech
   * frame of the run that opened it arrived, for a live source (the run plus the audio received and
   * not yet analysed).
   */
  opened?(onsetAgoMs: number): void;
}

export interface GateResult {
  /** the gate is open (the host is speaking) after this chunk */
  speech: boolean;
  /** ms of this call's audio (and pre-roll) handed to the avatar */
  forwardedMs: number;
}

export class VoiceGate {
  private rate = 0;
  private resampler: Resampler | undefined;
  private vadIn: Float32Array = new Float32Array(0);
  /** original-rate samples not yet decided */
  private held: Float32Array = new Float32Array(0);
  /** original-rate samples decided "not speech" lately (bounded) */
  private preroll: Float32Array = new Float32Array(0);
  private decidedFrac = 0;
  private open = false;
  private speechRunMs = 0;
  private silenceRunMs = 0;
  private chain: Promise<unknown> = Promise.resolve();
  /** chunks taken and not yet analysed */
  private backlog = 0;
  private unreportedMs = 0;
  lastError: string | undefined;
  readonly counts = { frames: 0, speechFrames: 0, utterances: 0, forwardedMs: 0, gatedMs: 0, lostMs: 0 };

  private constructor(
    private readonly vad: SileroVad,
    private readonly sink: GatedSink,
    private readonly opts: VoiceConfig['vad'],
  ) {}

  static async create(sink: GatedSink, opts: VoiceConfig['vad']): Promise<VoiceGate> {
    // one model for every microphone of the process: each gate keeps only its own state
    return new VoiceGate(await SileroVad.create({ shared: true }), sink, opts);
  }

  get speaking(): boolean {
    return this.open;
  }

  /** Takes one PCM chunk (AudioFormatError on a bad one: nothing of it is used). In order, one at a time. */
  push(pcm: Uint8Array, format: PcmFormat): Promise<GateResult> {
    const mono = decodePcmChunk(pcm, format); // validates before queueing
    this.backlog += 1;
    const run = this.chain.then(() => this.process(mono, format.sampleRate)).finally(() => {
      this.backlog -= 1;
    });
    this.chain = run.catch(() => undefined);
    return run;
  }

  /**
   * For a live source: takes the chunk (validated now, analysed in order behind the others) and
   * answers at once, so the sender never waits for the model. The answer is the gate's state and
   * what was forwarded since the last answer. When the analysis is more than MAX_BACKLOG chunks
   * behind (a machine too busy), the chunk is refused (QueueFullError): latency stays bounded.
   */
  accept(pcm: Uint8Array, format: PcmFormat): GateResult {
    if (this.backlog >= MAX_BACKLOG) throw new QueueFullError(`the voice-activity gate is ${this.backlog} chunks behind: chunk dropped (the server is too busy)`);
    this.push(pcm, format).then(
      (r) => {
        this.unreportedMs += r.forwardedMs;
      },
      (e: Error) => {
        this.lastError = e.message;
      },
    );
    const out = { speech: this.open, forwardedMs: this.unreportedMs };
    this.unreportedMs = 0;
    return out;
  }

  /** The source stopped: an open utterance ends now. */
  end(): Promise<void> {
    const run = this.chain.then(() => {
      if (this.open) this.closeGate();
      this.reset();
    });
    this.chain = run.catch(() => undefined);
    return run;
  }

  async close(): Promise<void> {
    await this.end().catch(() => undefined);
    await this.vad.close();
  }

  private reset(): void {
    this.held = new Float32Array(0);
    this.preroll = new Float32Array(0);
    this.vadIn = new Float32Array(0);
    this.resampler?.reset();
    this.vad.reset();
    this.speechRunMs = 0;
    this.silenceRunMs = 0;
    this.decidedFrac = 0;
  }

  private async process(mono: Float32Array, rate: number): Promise<GateResult> {
    if (rate !== this.rate) {
      if (this.open) this.closeGate();
      this.rate = rate;
      this.resampler = rate === ANALYSIS_RATE ? undefined : new Resampler(rate, ANALYSIS_RATE);
      this.reset();
    }
    this.held = concatSamples([this.held, mono]);
    this.vadIn = concatSamples([this.vadIn, this.resampler ? this.resampler.process(mono) : mono]);
    let forwarded = 0;
    let off = 0;
    while (this.vadIn.length - off >= VAD_FRAME) {
      const p = await this.vad.process(this.vadIn.slice(off, off + VAD_FRAME));
      off += VAD_FRAME;
      this.counts.frames += 1;
      forwarded += this.decide(p);
    }
    this.vadIn = this.vadIn.slice(off);
    const forwardedMs = (forwarded * 1000) / rate;
    this.counts.forwardedMs += forwardedMs;
    return { speech: this.open, forwardedMs };
  }

  /** Applies one VAD frame's probability to the next 32 ms of original audio; returns samples forwarded. */
  private decide(p: number): number {
    const exact = (this.rate * VAD_FRAME) / ANALYSIS_RATE + this.decidedFrac;
    const n = Math.min(this.held.length, Math.floor(exact));
    this.decidedFrac = exact - Math.floor(exact);
    const part = this.held.subarray(0, n);
    let forwarded = 0;
    if (p >= this.opts.threshold) this.counts.speechFrames += 1;
    if (!this.open) {
      this.preroll = keepLast(concatSamples([this.preroll, part]), Math.round((this.rate * (this.opts.preroll_ms + this.opts.min_speech_ms + FRAME_MS)) / 1000));
      this.speechRunMs = p >= this.opts.threshold ? this.speechRunMs + FRAME_MS : 0;
      if (this.speechRunMs >= Math.max(this.opts.min_speech_ms, FRAME_MS)) {
        this.open = true;
        this.silenceRunMs = 0;
        this.counts.utterances += 1;
        this.sink.opened?.(this.speechRunMs + ((this.held.length - n) * 1000) / this.rate);
        forwarded = this.forward(this.preroll.slice());
        this.preroll = new Float32Array(0);
      } else {
        this.counts.gatedMs += (part.length * 1000) / this.rate;
      }
    } else {
      forwarded = this.forward(part.slice());
      this.silenceRunMs = p < this.opts.threshold - RELEASE_MARGIN ? this.silenceRunMs + FRAME_MS : 0;
      if (this.silenceRunMs >= this.opts.hangover_ms) this.closeGate(this.silenceRunMs);
    }
    this.held = this.held.slice(n);
    return forwarded;
  }

  /** Hands audio to the avatar; a full queue drops it (a live voice cannot wait) and counts it. */
  private forward(samples: Float32Array): number {
    if (samples.length === 0) return 0;
    try {
      this.sink.ingestSamples32(samples, this.rate);
      return samples.length;
    } catch (e) {
      this.counts.lostMs += (samples.length * 1000) / this.rate;
      this.lastError = (e as Error).message;
      return 0;
    }
  }

  private closeGate(quietMs = 0): void {
    this.open = false;
    this.speechRunMs = 0;
    this.silenceRunMs = 0;
    this.sink.segmentEnd(quietMs);
  }
}


function keepLast(a: Float32Array, n: number): Float32Array {
  return a.length <= n ? a : a.slice(a.length - n);
}
