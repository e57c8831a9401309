/**
 * A session's say queue: text in, sentences out to the avatar, in order.
 *
 *   say(text) -> splitSentences -> pending sentences (bounded)
 *     -> TtsRouter.speak, up to 1 + prefetch sentences at once (the next ones are synthesised
 *        while the current one is spoken)
 *     -> each sentence, in order and whole, to the sink (the avatar session's timeline), held
 *        back while the timeline already has `aheadMs` of speech
 *
 * clear() (barge-in) drops what waits, cancels synthesis in flight and makes sure nothing started
 * before it reaches the avatar afterwards.
 */
import { EventEmitter } from 'node:events';
import { QueueFullError } from '../../pipeline/session/live-timeline.js';
import type { Logger } from '../log.js';
import { BadRequestError } from '../errors.js';
import { splitSentences } from './sentences.js';
import type { ProviderName } from './tts-provider.js';
import { isAbort } from './tts-provider.js';
import type { TimedPhone } from '../../pipeline/phonemes/phones.js';
import type { SpokenAudio, TtsRouter } from './tts-router.js';

/** What the queue hands speech to (an AvatarSession). */
export interface SpeechSink {
  /** queues one whole utterance (with its phones, when known); throws QueueFullError when it does not fit */
  ingestSamples(samples: Float32Array, sampleRate: number, phones?: readonly TimedPhone[]): unknown;
  readonly queuedMs: number;
}

export interface SayQueueOptions {
  maxSentences: number;
  maxTextChars: number;
  sentenceMaxChars: number;
  prefetch: number;
  aheadMs: number;
  log: Logger;
  session: string;
  /** the session's own voice (both TTS providers); theirs when absent */
  voice?: string;
}

export interface SentenceRecord {
  sayId: number;
  /** index of the sentence in its say request */
  index: number;
  count: number;
  text: string;
  provider: ProviderName;
  synthMs: number;
  audioMs: number;
  /** ms from the say request to this sentence reaching the avatar */
  sinceSayMs: number;
  /** ms of speech queued ahead of it when it was handed over: it starts playing about that much later */
  startsInMs: number;
}

export interface SayQueueEvents {
  /** a sentence's audio was handed to the avatar */
  sentence: [SentenceRecord];
  /** neither provider could speak a sentence; it is skipped */
  failed: [{ sayId: number; index: number; text: string; error: string }];
}

interface Pending {
  sayId: number;
  index: number;
  count: number;
  text: string;
  at: number;
}

type Outcome = { ok: true; audio: SpokenAudio } | { ok: false; error: Error };

export class SayQueueFullError extends QueueFullError {}

export class SayQueue extends EventEmitter<SayQueueEvents> {
  private pending: Pending[] = [];
  private generation = 0;
  private ctl = new AbortController();
  private pumping = false;
  private nextSayId = 1;
  private closed = false;
  readonly counts = { sentences: 0, failed: 0, cleared: 0 };

  constructor(
    private readonly sink: SpeechSink,
    private readonly tts: TtsRouter,
    private readonly opts: SayQueueOptions,
  ) {
    super();
    this.voice = opts.voice;
  }

  /** the voice of the sentences synthesised from now on */
  voice: string | undefined;

  /** Sentences waiting or being synthesised. */
  get length(): number {
    return this.pending.length + this.inFlight;
  }

  private inFlight = 0;

  /** Queues text; answers at once with its id and sentence count. */
  say(text: string): { sayId: number; sentences: number; queuedSentences: number } {
    if (this.closed) throw new Error('the say queue is closed');
    if (typeof text !== 'string') throw new BadRequestError('say: text must be a string');
    if (text.length > this.opts.maxTextChars) throw new BadRequestError(`say: the text has ${text.length} characters, at most ${this.opts.maxTextChars} are taken (voice.max_text_chars)`);
    const sentences = splitSentences(text, this.opts.sentenceMaxChars);
    if (sentences.length === 0) throw new BadRequestError('say: the text has nothing to speak');
    if (this.length + sentences.length > this.opts.maxSentences) {
      throw new SayQueueFullError(
        `say queue full: ${this.length} sentences wait, this text has ${sentences.length}, the limit is ${this.opts.maxSentences} (voice.max_sentences): wait or interrupt`,
      );
    }
    const sayId = this.nextSayId++;
    const at = performance.now();
    sentences.forEach((s, index) => this.pending.push({ sayId, index, count: sentences.length, text: s, at }));
    if (!this.pumping) void this.pump();
    return { sayId, sentences: sentences.length, queuedSentences: this.length };
  }

  /** Barge-in: drops waiting sentences and cancels synthesis in flight. Returns how many were dropped. */
  clear(): number {
    const dropped = this.length;
    this.counts.cleared += dropped;
    this.generation += 1;
    this.ctl.abort();
    this.ctl = new AbortController();
    this.pending = [];
    this.inFlight = 0;
    this.pumping = false;
    return dropped;
  }

  close(): void {
    this.closed = true;
    this.clear();
  }

  private async pump(): Promise<void> {
    const gen = this.generation;
    const signal = this.ctl.signal;
    this.pumping = true;
    const work: { item: Pending; outcome: Promise<Outcome> }[] = [];
    const live = () => gen === this.generation && !this.closed;
    try {
      for (;;) {
        while (work.length < 1 + this.opts.prefetch && this.pending.length > 0) {
          const item = this.pending.shift()!;
          this.inFlight += 1;
          const outcome = this.tts.speak(item.text, signal, this.voice).then(
            (audio): Outcome => ({ ok: true, audio }),
            (error: Error): Outcome => ({ ok: false, error }),
          );
          work.push({ item, outcome });
        }
        const head = work.shift();
        if (!head) return;
        const r = await head.outcome;
        if (!live()) return;
        if (!r.ok) {
          this.inFlight -= 1;
          if (!isAbort(r.error)) {
            this.counts.failed += 1;
            this.opts.log.error({ session: this.opts.session, sayId: head.item.sayId, sentence: head.item.index, err: r.error }, 'no TTS could speak a sentence: skipped');
            this.emit('failed', { sayId: head.item.sayId, index: head.item.index, text: head.item.text, error: r.error.message });
          }
          continue;
        }
        if (!(await this.handOver(head.item, r.audio, live))) return;
        this.inFlight -= 1;
      }
    } finally {
      if (gen === this.generation) this.pumping = false;
    }
  }

  /** Gives one sentence to the sink once it has room; false when cleared meanwhile. */
  private async handOver(item: Pending, audio: SpokenAudio, live: () => boolean): Promise<boolean> {
    const audioMs = (audio.samples.length * 1000) / audio.sampleRate;
    let startsInMs = 0;
    for (;;) {
      if (this.sink.queuedMs <= this.opts.aheadMs) {
        try {
          startsInMs = this.sink.queuedMs;
          this.sink.ingestSamples(audio.samples, audio.sampleRate, audio.phones);
          break;
        } catch (e) {
          if (!(e instanceof QueueFullError)) {
            // the session is restarting or closed: the sentence cannot be spoken now
            this.counts.failed += 1;
            this.emit('failed', { sayId: item.sayId, index: item.index, text: item.text, error: (e as Error).message });
            return live();
          }
        }
      }
      await new Promise((r) => setTimeout(r, 40));
      if (!live()) return false;
    }
    this.counts.sentences += 1;
    const rec: SentenceRecord = {
      sayId: item.sayId, index: item.index, count: item.count, text: item.text,
      provider: audio.provider, synthMs: Math.round(audio.synthMs), audioMs: Math.round(audioMs),
      sinceSayMs: Math.round(performance.now() - item.at), startsInMs: Math.round(startsInMs),
    };
    this.opts.log.debug({ session: this.opts.session, ...rec }, 'sentence queued');
    this.emit('sentence', rec);
    return true;
  }
}
