/**
 * A kiosk's microphone in listen mode (a session with `listen: true`): the citizen's voice, not the
 * avatar's. Chunks go through a voice-activity gate (server/voice/voice-gate.ts) of their own:
 *   - the gate opens (speech) while the avatar speaks: barge-in, the session is interrupted;
 *   - the gate closes: the utterance (its samples, pre-roll included, its quiet tail cut) goes to
 *     `hooks.utterance` (the agent, server/voice/agent.ts).
 * The kiosk's own loudspeaker in its microphone is neither: while the session speaks, a stretch of
 * microphone whose loudness follows the speech the session sent (server/voice/echo-guard.ts) is
 * given to the gate as silence.
 */
import type { VoiceConfig } from '../../config/schema.js';
import { concatSamples, decodePcmChunk, type PcmFormat } from '../../pipeline/audio/pcm.js';
import { RateLimitedError } from '../errors.js';
import { ECHO_R, EnvelopeRing, MAX_LAG_MS, WINDOW_MS, echoCorrelation } from './echo-guard.js';
import { VoiceGate, type GatedSink } from './voice-gate.js';

/** what a listener needs of its session */
export interface ListenedSession {
  readonly id: string;
  /** the avatar is speaking, or has speech queued */
  readonly busySpeaking: boolean;
  /** the loudness envelope of the speech it sent lately */
  readonly sentEnvelope: { readonly steps: readonly number[] };
  interrupt(): unknown;
}

export interface ListenerHooks {
  /** an utterance ended (gate open -> close), its quiet tail cut; `endedAgoMs`: when its speech ended, for a live source */
  utterance(samples: Float32Array, sampleRate: number, endedAgoMs: number): void;
  /** the citizen spoke over the avatar and it was interrupted: ms from the speech onset (as the gate saw it arrive) */
  bargeIn?(ms: number): void;
}

export interface ListenResult {
  /** the gate is open: the citizen is speaking */
  speech: boolean;
  /** this chunk was taken for the kiosk's own loudspeaker */
  echo: boolean;
}

/** longest utterance kept for the agent */
const MAX_UTTERANCE_SEC = 30;

export class Listener implements GatedSink {
  readonly counts = { utterances: 0, bargeIns: 0, echoMs: 0, speechMs: 0 };
  private readonly mic = new EnvelopeRing(WINDOW_MS + MAX_LAG_MS);
  private utterance: Float32Array[] = [];
  /** samples in `utterance` */
  private utteranceLength = 0;
  private utteranceRate = 0;
  private open = false;

  private constructor(
    private readonly session: ListenedSession,
    private readonly hooks: ListenerHooks,
    private gate: VoiceGate | undefined,
  ) {}

  static async create(session: ListenedSession, vad: VoiceConfig['vad'], hooks: ListenerHooks): Promise<Listener> {
    const l = new Listener(session, hooks, undefined);
    l.gate = await VoiceGate.create(l, vad);
    return l;
  }

  /** One chunk of the microphone (AudioFormatError on a bad one); answered at once, analysed behind. */
  accept(pcm: Uint8Array, format: PcmFormat): ListenResult {
    const mono = decodePcmChunk(pcm, format);
    this.mic.push(mono, format.sampleRate);
    const echo = this.session.busySpeaking && echoCorrelation(this.mic.steps, this.session.sentEnvelope.steps) >= ECHO_R;
    if (echo) this.counts.echoMs += (mono.length * 1000) / format.sampleRate;
    const r = this.gate!.accept(echo ? new Uint8Array(pcm.length) : pcm, format);
    return { speech: r.speech, echo };
  }

  // GatedSink: what the gate lets through (speech), then the end of the utterance

  opened(onsetAgoMs: number): void {
    const t0 = performance.now();
    if (this.session.busySpeaking && this.bargeIn()) this.hooks.bargeIn?.(onsetAgoMs + performance.now() - t0);
  }

  ingestSamples32(samples: Float32Array, sampleRate: number): void {
    this.open = true;
    if (sampleRate !== this.utteranceRate) {
      this.utterance = [];
      this.utteranceLength = 0;
      this.utteranceRate = sampleRate;
    }
    if (this.utteranceLength < MAX_UTTERANCE_SEC * sampleRate) {
      this.utterance.push(samples.slice());
      this.utteranceLength += samples.length;
    }
    this.counts.speechMs += (samples.length * 1000) / sampleRate;
  }

  segmentEnd(quietMs = 0): void {
    if (!this.open) return;
    this.open = false;
    // the quiet tail that closed the gate is not part of what was said
    const all = concatSamples(this.utterance);
    const samples = all.subarray(0, Math.max(0, all.length - Math.round((quietMs * this.utteranceRate) / 1000)));
    this.utterance = [];
    this.utteranceLength = 0;
    this.counts.utterances += 1;
    if (samples.length > 0) this.hooks.utterance(samples, this.utteranceRate, quietMs);
  }

  async close(): Promise<void> {
    await this.gate?.close();
  }

  /** interrupts the session; false when its interrupt budget is spent */
  private bargeIn(): boolean {
    try {
      this.session.interrupt();
      this.counts.bargeIns += 1;
      return true;
    } catch (e) {
      if (!(e instanceof RateLimitedError)) throw e;
      return false;
    }
  }
}
