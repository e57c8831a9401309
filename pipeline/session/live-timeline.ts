/**
 * The pure core of a live session: turns speech chunks arriving at wall-clock times into ONE
 * continuous engine timeline (analysis rate, 16 kHz) and the matching playout audio (48 kHz, by pts).
 * No timers: every call takes `nowMs` from the caller's clock.
 *
 * Time model: a session started at `startMs` has media position pts = (now - startMs) * 48 (in
 * steps of one analysis sample, so the engine position is exactly pts / 3). `tick(now)` advances
 * the position to `now`: queued speech goes to the engine (pushAudio) and to the playout
 * (AvPairing) at the pts it plays; with no speech queued the engine gets silence, so it keeps
 * rendering idle frames at a constant rate. Speech arriving while idle starts at the current
 * position; speech arriving while speech is queued is appended after it.
 *
 * Queue policy: at most `maxQueuedSeconds` of speech waits; a chunk beyond that is refused whole
 * (QueueFullError) and nothing of it is taken. Queued audio is never dropped, except by
 * `interrupt` (barge-in), which drops it all.
 *
 * Resampling is lazy: a chunk is validated and queued as it arrives, and each tick resamples only
 * the input it needs for that step (to 16 kHz for the engine, 48 kHz for the playout). The work is
 * the same, spread evenly over time: a sender that delivers seconds of speech at once does not
 * stall the caller's thread, which also paces the outgoing media (measured before: 2.5-11 ms per
 * 200 ms chunk at 22.05 kHz, up to 45 ms of event-loop delay while 6.6 s arrived at once).
 * Resampling is streaming, so each resampler holds back a few milliseconds of input until more
 * comes; the tail is flushed at a segment end (in order with the queued input), at a change of
 * input rate, and when the queue runs dry (an underrun: the speech has a gap there anyway, so the
 * flush ends it cleanly).
 *
 * Phones: an utterance may come with its phones (a TTS that knows them). They ride in the queue
 * ahead of its audio and reach the engine (pushPhones) just before the first of its samples, so
 * they line up with the audio whatever else was queued, paused or resampled before it.
 *
 * Lead (leadMs): queued speech is known before it plays, so the engine may take it up to leadMs
 * ahead of the wall clock and render its frames that much sooner; the playout still takes it at
 * its pts. Only speech goes ahead: silence reaches the engine on the wall clock, so speech that
 * arrives while idle still starts at the current position. A barge-in silences what the engine
 * took ahead (engine.interrupt); frames it already rendered from it are the consumer's to drop
 * (`enginePts`: the engine's position, at or past `mediaPts`).
 *
 * Passing (setPassing(true), a session nobody watches): speech still takes its time on the
 * timeline (the queue drains on the wall clock, the state is 'speaking' while it does) but is not
 * resampled: the engine gets silence and the playout nothing. Turned off, the next speech is
 * resampled from where the queue then stands (the resamplers start over there).
 */
import { AudioFormatError } from '../audio/errors.js';
import { decodePcmChunk, type PcmFormat } from '../audio/pcm.js';
import { Resampler } from '../audio/resampler.js';
import type { TalkingHeadEngine } from '../engine/EngineTypes.js';
import type { TimedPhone } from '../phonemes/phones.js';
import { CLOCK_RATE, type Pts } from '../records.js';
import { AvPairing } from './av-pairing.js';

export { AudioFormatError };

/** The speech queue is full: the chunk was refused whole. The caller should slow down or interrupt. */
export class QueueFullError extends Error {
  override readonly name = 'QueueFullError';
}

export interface PcmChunkIn {
  pcm: Uint8Array;
  format: PcmFormat;
}

export interface LiveTimelineOptions {
  /** wall-clock milliseconds at which media pts 0 plays */
  startMs: number;
  /** seconds of speech that may wait in the queue (default 30) */
  maxQueuedSeconds: number;
  /** the playout store the timeline writes to (default: a new AvPairing) */
  playout: AvPairing;
  /** ms of queued speech the engine may take ahead of the wall clock (default 0) */
  leadMs: number;
}

/** The part of an engine the timeline drives; rendering is the adapter's business. */
export type EngineTimelineSink = Pick<TalkingHeadEngine, 'info' | 'pushAudio' | 'pushSilence' | 'interrupt' | 'pushPhones'>;

export interface LiveTimelineStats {
  /** milliseconds of speech queued, not yet on the timeline */
  queuedMs: number;
  /** current media position, CLOCK_RATE samples */
  mediaPts: Pts;
  state: 'idle' | 'speaking';
  chunksAccepted: number;
  chunksRefused: number;
  /** 48 kHz samples of speech accepted since the start */
  samplesAccepted: number;
  /** 48 kHz samples dropped by interrupts */
  samplesInterrupted: number;
}

/** Input samples of extra margin resampled per step, so the resamplers' held-back tail never starves a tick. */
const RESAMPLE_MARGIN = 64;

type RawEntry = { samples: Float32Array; rate: number; pos: number } | { segmentEnd: true } | { phones: readonly TimedPhone[] };

/** A growable FIFO of float samples. */
class SampleQueue {
  private buf = new Float32Array(4096);
  private head = 0;
  private tail = 0;

  get length(): number {
    return this.tail - this.head;
  }

  push(x: Float32Array): void {
    if (x.length === 0) return;
    if (this.tail + x.length > this.buf.length) {
      const n = this.length;
      const cap = Math.max(this.buf.length, 2 * (n + x.length));
      const next = cap > this.buf.length ? new Float32Array(cap) : this.buf;
      next.set(this.buf.subarray(this.head, this.tail), 0);
      this.buf = next;
      this.head = 0;
      this.tail = n;
    }
    this.buf.set(x, this.tail);
    this.tail += x.length;
  }

  /** Removes and returns up to n samples from the head (a copy). */
  take(n: number): Float32Array {
    const k = Math.min(n, this.length);
    const out = this.buf.slice(this.head, this.head + k);
    this.head += k;
    if (this.head === this.tail) this.head = this.tail = 0;
    return out;
  }

  clear(): number {
    const n = this.length;
    this.head = this.tail = 0;
    return n;
  }
}

export class LiveTimeline {
  readonly playout: AvPairing;
  private readonly engine: EngineTimelineSink;
  private readonly startMs: number;
  private readonly maxQueued: number;
  /** CLOCK_RATE samples per analysis sample */
  private readonly ratio: number;
  private readonly analysisRate: number;
  /** media position (the wall clock's), analysis samples */
  private pos = 0;
  /** analysis samples the engine has been given: pos, or more while it runs ahead on speech */
  private enginePos = 0;
  /** analysis samples of speech the engine may take ahead of pos */
  private readonly lead: number;
  /** speech accepted but not yet resampled, in order; a 'segment-end' marks where to flush */
  private readonly raw: RawEntry[] = [];
  /** CLOCK_RATE samples of speech in `raw` (fractional: input rates need not divide CLOCK_RATE) */
  private raw48 = 0;
  /** resampled speech waiting for its place on the timeline */
  private readonly q16 = new SampleQueue();
  private readonly q48 = new SampleQueue();
  private toEngine: Resampler | null = null;
  private toPlayout: Resampler | null = null;
  /** analysis samples ever taken out of q16 (pushed to the engine, or dropped) */
  private q16Taken = 0;
  /** phones waiting for their speech: `at` counts q16 samples as q16Taken does */
  private readonly phoneMarks: { at: number; phones: readonly TimedPhone[] }[] = [];
  /** speech passes unresampled (setPassing) */
  private passing = false;
  /** analysis samples of speech passed beyond whole input samples (input rates need not divide) */
  private passDebt = 0;
  private chunksAccepted = 0;
  private chunksRefused = 0;
  private samplesAccepted = 0;
  private samplesInterrupted = 0;

  constructor(engine: EngineTimelineSink, options: Partial<LiveTimelineOptions> = {}) {
    const rate = engine.info.analysisRate;
    if (!Number.isInteger(rate) || rate <= 0 || CLOCK_RATE % rate !== 0) {
      throw new TypeError(`LiveTimeline: the engine's analysis rate must divide ${CLOCK_RATE} Hz, got ${rate}`);
    }
    const startMs = options.startMs ?? 0;
    const maxQueuedSeconds = options.maxQueuedSeconds ?? 30;
    checkTime('LiveTimeline: startMs', startMs);
    if (!(maxQueuedSeconds > 0 && maxQueuedSeconds <= 3600)) {
      throw new TypeError(`LiveTimeline: maxQueuedSeconds must be seconds in (0, 3600], got ${maxQueuedSeconds}`);
    }
    this.engine = engine;
    this.analysisRate = rate;
    this.ratio = CLOCK_RATE / rate;
    this.startMs = startMs;
    this.maxQueued = Math.round(maxQueuedSeconds * CLOCK_RATE);
    this.playout = options.playout ?? new AvPairing();
    const leadMs = options.leadMs ?? 0;
    if (!(leadMs >= 0 && leadMs <= 1000)) throw new TypeError(`LiveTimeline: leadMs must be milliseconds in [0, 1000], got ${leadMs}`);
    this.lead = Math.round((leadMs * rate) / 1000);
  }

  /** Current media position (CLOCK_RATE samples). */
  get mediaPts(): Pts {
    return this.pos * this.ratio;
  }

  /** How far the engine has been given audio (CLOCK_RATE samples): mediaPts, or past it by up to the lead. */
  get enginePts(): Pts {
    return this.enginePos * this.ratio;
  }

  /**
   * Queues one PCM chunk of speech. A malformed chunk throws AudioFormatError, a chunk that would
   * overfill the queue throws QueueFullError; either way nothing changes but the refused count.
   * Returns the chunk's length in CLOCK_RATE samples.
   */
  ingest(chunk: PcmChunkIn, nowMs: number, phones?: readonly TimedPhone[]): { accepted: number } {
    let mono: Float32Array;
    try {
      if (typeof chunk !== 'object' || chunk === null) throw new AudioFormatError('audio chunk must be an object { pcm, format }');
      mono = decodePcmChunk(chunk.pcm, chunk.format);
    } catch (e) {
      this.chunksRefused += 1;
      throw e;
    }
    const inRate = chunk.format.sampleRate;
    const accepted = Math.round((mono.length * CLOCK_RATE) / inRate);
    this.tick(nowMs);
    const queued = this.queued48();
    if (queued + accepted > this.maxQueued) {
      this.chunksRefused += 1;
      throw new QueueFullError(
        `speech queue full: ${ms(queued)} ms queued, this chunk adds ${ms(accepted)} ms, ` +
          `the limit is ${ms(this.maxQueued)} ms (maxQueuedSeconds): wait for playout to catch up or interrupt`,
      );
    }
    if (mono.length > 0) {
      // nothing queued, but the engine stands past the media position (it had taken speech ahead
      // that a barge-in silenced): the new speech starts where the engine stands, the playout
      // waits for it in silence (at most the lead)
      if (this.raw.length === 0 && this.q16.length === 0 && this.q48.length === 0 && this.enginePos > this.pos) {
        this.q48.push(new Float32Array((this.enginePos - this.pos) * this.ratio));
      }
      if (phones && phones.length > 0) this.raw.push({ phones });
      this.raw.push({ samples: mono, rate: inRate, pos: 0 });
      this.raw48 += (mono.length * CLOCK_RATE) / inRate;
    }
    this.chunksAccepted += 1;
    this.samplesAccepted += accepted;
    this.pushAhead();
    return { accepted };
  }

  /** Advances the media position to `nowMs`. A clock that goes back is ignored (pts stay monotonic). */
  tick(nowMs: number): void {
    checkTime('LiveTimeline.tick: nowMs', nowMs);
    const target = Math.floor(((nowMs - this.startMs) * this.analysisRate) / 1000);
    const n = target - this.pos;
    if (n <= 0) return;
    // what the engine has not had yet of [pos, target): all of it, unless it ran ahead on speech
    const m = Math.max(0, target - this.enginePos);
    if (this.passing) {
      this.pass(n, m);
      this.engine.pushSilence(m);
      this.pos = target;
      this.enginePos = Math.max(this.enginePos, target);
      return;
    }
    this.fill(m, n);
    if (this.q16.length < m || this.q48.length < n * this.ratio) this.flushResamplers();
    const speech = this.q16.take(m);
    if (speech.length > 0) this.pushSpeech(speech);
    if (speech.length < m) this.engine.pushSilence(m - speech.length);
    const play = this.q48.take(n * this.ratio);
    if (play.length > 0) this.playout.write(this.pos * this.ratio, play);
    this.pos = target;
    this.enginePos = Math.max(this.enginePos, target);
    // at the end of the speech the two sides may end a sample or two apart after rounding: keep
    // the next utterance starting together on both
    if (this.raw.length === 0) {
      if (this.q16.length === 0 && this.q48.length < this.ratio && this.enginePos <= this.pos) this.q48.clear();
      if (this.q48.length === 0 && this.q16.length < 2) this.q16Taken += this.q16.clear();
    }
    this.pushAhead();
  }

  /** Queued speech to the engine ahead of the wall clock, up to the lead (speech only, never silence). */
  private pushAhead(): void {
    if (this.lead === 0 || this.passing) return;
    const want = this.pos + this.lead - this.enginePos;
    if (want <= 0) return;
    this.fill(want, 0);
    const speech = this.q16.take(want);
    if (speech.length === 0) return;
    this.pushSpeech(speech);
    this.enginePos += speech.length;
  }

  /**
   * While on, speech passes on the wall clock unresampled (nobody needs its samples: a session
   * nobody watches); the engine gets silence, the playout nothing. Off: resampling resumes from
   * where the queue stands.
   */
  setPassing(on: boolean): void {
    if (on === this.passing) return;
    this.passing = on;
    // the resamplers' held-back input belongs to speech that passes: start over later
    this.toEngine = null;
    this.toPlayout = null;
    this.passDebt = 0;
  }

  /**
   * Drops `n` analysis samples' worth of speech from the playout side (`m` of them from the engine's
   * side: what it had not taken ahead): resampled first, then raw input at its own rate.
   */
  private pass(n: number, m: number): void {
    const q48 = Math.min(n * this.ratio, this.q48.length);
    this.q48.take(q48);
    this.q16Taken += this.q16.take(Math.min(m, this.q16.length)).length;
    let left = n - q48 / this.ratio + this.passDebt;
    while (left > 0 && this.raw.length > 0) {
      const head = this.raw[0]!;
      if ('segmentEnd' in head || 'phones' in head) {
        this.raw.shift();
        continue;
      }
      const take = Math.min(head.samples.length - head.pos, Math.ceil((left * head.rate) / this.analysisRate));
      head.pos += take;
      this.raw48 -= (take * CLOCK_RATE) / head.rate;
      left -= (take * this.analysisRate) / head.rate;
      if (head.pos >= head.samples.length) this.raw.shift();
    }
    // a whole input sample may cover more than what was due: the rest counts against the next tick
    this.passDebt = this.raw.length > 0 ? Math.min(0, left) : 0;
    if (this.raw.length === 0) {
      this.raw48 = 0;
      if (this.q16.length === 0) this.q48.clear();
    }
    while (this.phoneMarks.length > 0 && this.phoneMarks[0]!.at < this.q16Taken) this.phoneMarks.shift();
  }

  /** Speech to the engine, with the phones of an utterance just before its first sample. */
  private pushSpeech(speech: Float32Array): void {
    let off = 0;
    while (this.phoneMarks.length > 0 && this.phoneMarks[0]!.at < this.q16Taken + speech.length) {
      const k = Math.max(off, this.phoneMarks[0]!.at - this.q16Taken);
      if (k > off) this.engine.pushAudio(speech.subarray(off, k));
      off = k;
      this.engine.pushPhones?.(this.phoneMarks.shift()!.phones);
    }
    if (off < speech.length) this.engine.pushAudio(off === 0 ? speech : speech.subarray(off));
    this.q16Taken += speech.length;
  }

  /**
   * Resamples queued input until the engine's side holds `n` analysis samples and the playout's
   * `n48` analysis samples' worth, or the input runs out.
   */
  private fill(n: number, n48: number): void {
    const need48 = n48 * this.ratio;
    while ((this.q16.length < n || this.q48.length < need48) && this.raw.length > 0) {
      const head = this.raw[0]!;
      if ('segmentEnd' in head) {
        this.flushResamplers();
        this.raw.shift();
        continue;
      }
      if ('phones' in head) {
        // the speech before it ends here: its held-back tail first, then this utterance's start
        this.flushResamplers();
        this.phoneMarks.push({ at: this.q16Taken + this.q16.length, phones: head.phones });
        this.raw.shift();
        continue;
      }
      if (this.toEngine && this.toEngine.inRate !== head.rate) this.flushResamplers();
      if (!this.toEngine || !this.toPlayout) {
        this.toEngine = new Resampler(head.rate, this.analysisRate);
        this.toPlayout = new Resampler(head.rate, CLOCK_RATE);
      }
      // input for the larger deficit, plus a margin for what the resamplers hold back
      const deficit = Math.max((n - this.q16.length) / this.analysisRate, (need48 - this.q48.length) / CLOCK_RATE);
      const take = Math.min(head.samples.length - head.pos, Math.ceil(deficit * head.rate) + RESAMPLE_MARGIN);
      const part = head.samples.subarray(head.pos, head.pos + take);
      this.q16.push(this.toEngine.process(part));
      this.q48.push(this.toPlayout.process(part));
      head.pos += take;
      this.raw48 -= (take * CLOCK_RATE) / head.rate;
      if (head.pos >= head.samples.length) this.raw.shift();
    }
    if (this.raw.length === 0) this.raw48 = 0;
  }

  /** CLOCK_RATE samples of speech waiting (resampled or not). */
  private queued48(): number {
    return this.q48.length + Math.round(this.raw48);
  }

  /**
   * Barge-in at `nowMs`: drops all queued speech, silences what the engine has not shown yet
   * (engine.interrupt) and the playout audio from `fromPts` on. `fromPts` is the pts of the first
   * frame not yet rendered; by default, the first frame the engine could not have rendered yet.
   * Returns the CLOCK_RATE samples of speech dropped.
   */
  interrupt(nowMs: number, fromPts?: Pts): { dropped: number } {
    this.tick(nowMs);
    const queued = this.queued48();
    this.q48.clear();
    this.raw.length = 0;
    this.raw48 = 0;
    this.q16Taken += this.q16.clear();
    this.phoneMarks.length = 0;
    this.toEngine?.reset();
    this.toPlayout?.reset();
    this.engine.interrupt();
    const from = fromPts ?? this.firstUnrenderablePts();
    const dropped = queued + this.playout.dropFrom(from);
    this.samplesInterrupted += dropped;
    return { dropped };
  }

  /** The utterance ended: its held-back tail is queued now, to play right after the rest. */
  segmentEnd(): void {
    if (this.raw.length > 0) this.raw.push({ segmentEnd: true });
    else this.flushResamplers();
  }

  stats(): LiveTimelineStats {
    return {
      queuedMs: ms(this.queued48()),
      mediaPts: this.mediaPts,
      state: this.q16.length > 0 || this.q48.length > 0 || this.raw.length > 0 ? 'speaking' : 'idle',
      chunksAccepted: this.chunksAccepted,
      chunksRefused: this.chunksRefused,
      samplesAccepted: this.samplesAccepted,
      samplesInterrupted: this.samplesInterrupted,
    };
  }

  private flushResamplers(): void {
    if (this.toEngine) this.q16.push(this.toEngine.flush());
    if (this.toPlayout) this.q48.push(this.toPlayout.flush());
  }

  /** pts of the first frame not renderable at the current position (frame end + lookahead past it). */
  private firstUnrenderablePts(): Pts {
    const { fps, lookaheadMs } = this.engine.info;
    const rate = this.analysisRate;
    const la = Math.round((lookaheadMs * rate) / 1000);
    const start = (k: number): number => Math.round((k * rate) / fps);
    let k = Math.max(0, Math.floor(((this.pos - la) * fps) / rate) - 1);
    while (start(k + 1) + la <= this.pos) k += 1;
    return start(k) * this.ratio;
  }
}

function ms(samples48: number): number {
  return Math.round((samples48 * 1000) / CLOCK_RATE);
}

function checkTime(what: string, t: number): void {
  if (typeof t !== 'number' || !Number.isFinite(t)) throw new TypeError(`${what} must be a finite number of milliseconds, got ${t}`);
}
