/**
 * The TTS watchdog: speech goes to the upstream service while it is healthy and to the local
 * engine (espeak-ng) when it is not.
 *
 *   upstream healthy --(a sentence fails or times out)--> local, probing upstream every
 *   probe_interval_ms --(a probe synthesis succeeds)--> upstream healthy
 *
 * A failed sentence is synthesised again by the local engine at once; other sentences waiting on
 * the upstream at that moment are cut off and go local too, so the switch costs at most one
 * timeout (voice.upstream.timeout_ms, default 700 ms). Sentences are returned whole, so none is
 * lost or spoken twice. One router serves every session (there is one upstream).
 */
import { EventEmitter } from 'node:events';
import type { TimedPhone } from '../../pipeline/phonemes/phones.js';
import type { Logger } from '../log.js';
import { isAbort, TtsError, type ProviderName, type SpeechAudio, type TtsProvider } from './tts-provider.js';

export interface SpokenAudio extends SpeechAudio {
  provider: ProviderName;
  /** ms from the request to the whole sentence's audio */
  synthMs: number;
}

export interface TtsRouterOptions {
  upstream?: TtsProvider;
  local: TtsProvider;
  probeIntervalMs: number;
  log: Logger;
  /** what a health probe synthesises */
  probeText?: string;
  /**
   * phones for upstream audio that came without them (EspeakTts.alignPhones: the known text aligned
   * to the audio); undefined leaves the audio without phones
   */
  align?: (text: string, audio: SpeechAudio) => Promise<TimedPhone[] | undefined>;
}

export interface TtsRouterEvents {
  switch: [{ to: ProviderName; reason: string }];
}

export class TtsRouter extends EventEmitter<TtsRouterEvents> {
  private upstreamUp: boolean;
  private readonly inflight = new Set<AbortController>();
  private probeTimer: NodeJS.Timeout | undefined;
  private probing = false;
  private closed = false;
  readonly counts = {
    sentences: { upstream: 0, local: 0 } as Record<ProviderName, number>,
    failures: { upstream: 0, local: 0 } as Record<ProviderName, number>,
    switches: { upstream: 0, local: 0 } as Record<ProviderName, number>,
  };
  lastError: string | null = null;
  lastSwitchAt: string | null = null;

  constructor(private readonly opts: TtsRouterOptions) {
    super();
    this.upstreamUp = opts.upstream !== undefined;
  }

  /** the provider new sentences go to */
  get active(): ProviderName {
    return this.upstreamUp ? 'upstream' : 'local';
  }

  /** One sentence's audio, from the upstream when it is healthy, else (or when it fails now) local. */
  async speak(text: string, signal: AbortSignal, voice?: string): Promise<SpokenAudio> {
    const t0 = performance.now();
    const up = this.opts.upstream;
    if (up && this.upstreamUp) {
      const ctl = new AbortController();
      const onAbort = () => ctl.abort();
      signal.addEventListener('abort', onAbort, { once: true });
      this.inflight.add(ctl);
      try {
        const audio = await up.synthesize(text, ctl.signal, voice);
        this.counts.sentences.upstream += 1;
        const phones = audio.phones ?? (await this.opts.align?.(text, audio));
        return { ...audio, ...(phones ? { phones } : {}), provider: 'upstream', synthMs: performance.now() - t0 };
      } catch (e) {
        if (signal.aborted) throw e;
        // cut off by another sentence's failure (an abort, not an error of its own), or failed itself
        if (!(isAbort(e) && ctl.signal.aborted)) {
          this.counts.failures.upstream += 1;
          this.lastError = (e as Error).message;
          this.markDown((e as Error).message);
        }
      } finally {
        this.inflight.delete(ctl);
        signal.removeEventListener('abort', onAbort);
      }
    }
    try {
      const audio = await this.opts.local.synthesize(text, signal, voice);
      this.counts.sentences.local += 1;
      return { ...audio, provider: 'local', synthMs: performance.now() - t0 };
    } catch (e) {
      if (!isAbort(e)) {
        this.counts.failures.local += 1;
        this.lastError = (e as Error).message;
      }
      throw e;
    }
  }

  status() {
    return {
      active: this.active,
      upstream: this.opts.upstream ? { url: (this.opts.upstream as { url?: string }).url ?? null, up: this.upstreamUp } : null,
      sentences: { ...this.counts.sentences },
      failures: { ...this.counts.failures },
      switches: { ...this.counts.switches },
      lastError: this.lastError,
      lastSwitchAt: this.lastSwitchAt,
    };
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.probeTimer);
    for (const c of this.inflight) c.abort();
  }

  private markDown(reason: string): void {
    if (!this.upstreamUp) return;
    this.upstreamUp = false;
    this.switchTo('local', reason);
    // sentences still waiting on the upstream go local now instead of each waiting out its timeout
    for (const c of this.inflight) c.abort();
    this.scheduleProbe();
  }

  private switchTo(to: ProviderName, reason: string): void {
    this.counts.switches[to] += 1;
    this.lastSwitchAt = new Date().toISOString();
    if (to === 'local') this.opts.log.warn({ tts: 'local', reason }, 'upstream TTS failed: speaking with the local engine');
    else this.opts.log.info({ tts: 'upstream', reason }, 'upstream TTS healthy again: speaking with it');
    this.emit('switch', { to, reason });
  }

  private scheduleProbe(): void {
    if (this.closed || this.probing) return;
    clearTimeout(this.probeTimer);
    this.probeTimer = setTimeout(() => void this.probe(), this.opts.probeIntervalMs);
    this.probeTimer.unref();
  }

  private async probe(): Promise<void> {
    const up = this.opts.upstream;
    if (!up || this.upstreamUp || this.closed) return;
    this.probing = true;
    const ctl = new AbortController();
    this.inflight.add(ctl);
    try {
      const audio = await up.synthesize(this.opts.probeText ?? 'ok', ctl.signal);
      if (audio.samples.length === 0) throw new TtsError('the probe got no samples', 'bad-audio');
      if (this.closed) return;
      this.upstreamUp = true;
      this.switchTo('upstream', 'a probe synthesis succeeded');
    } catch (e) {
      this.lastError = (e as Error).message;
    } finally {
      this.inflight.delete(ctl);
      this.probing = false;
      if (!this.upstreamUp) this.scheduleProbe();
    }
  }
}

