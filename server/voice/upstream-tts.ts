/**
 * An upstream TTS service over HTTP. Request: POST `url`, JSON `{ text, voice? }` (protocol
 * "native"), or `{ model, input, voice, response_format }` (protocol "openai": the
 * /v1/audio/speech dialect many local TTS servers speak). Answer, read as it streams: `audio/wav`
 * (also audio/x-wav, audio/wave), or raw s16le mono as `audio/L16` or `audio/pcm` with a `rate=`
 * parameter (or an `x-sample-rate` header; the openai dialect's "pcm" is 24 kHz), or
 * `application/json` with the audio and the phones the service spoke (upstream-json.ts).
 *
 * The watchdog part: the first byte must come within `timeout_ms`, and each later byte within
 * `timeout_ms` of the one before; otherwise the request is aborted with a TtsError('timeout').
 * A body cut short (connection lost, chunked encoding not finished) is an error, never a shorter
 * sentence.
 */
import type { VoiceConfig } from '../../config/schema.js';
import { decodeS16Mono, MAX_SAMPLE_RATE, MIN_SAMPLE_RATE } from '../../pipeline/audio/pcm.js';
import { decodeWavSamples, parseWavHeader } from '../../pipeline/audio/wav.js';
import { abortError, TtsError, type SpeechAudio, type TtsProvider } from './tts-provider.js';
import { decodeJsonAnswer } from './upstream-json.js';

const MAX_BYTES = 64 << 20;

export class UpstreamTts implements TtsProvider {
  readonly name = 'upstream' as const;
  /** the URL as shown in logs and /healthz: no credentials, no query */
  readonly url: string;
  private readonly target: string;

  constructor(private readonly opts: VoiceConfig['upstream']) {
    if (!opts.url) throw new TypeError('UpstreamTts: voice.upstream.url is not set');
    this.target = opts.url;
    const u = new URL(opts.url);
    this.url = `${u.protocol}//${u.host}${u.pathname}`;
  }

  async synthesize(text: string, signal: AbortSignal, voice = this.opts.voice ?? undefined): Promise<SpeechAudio> {
    if (signal.aborted) throw abortError();
    const timeoutMs = this.opts.timeout_ms;
    const ctl = new AbortController();
    let timedOut = false;
    let timer: NodeJS.Timeout | undefined;
    const arm = () => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        timedOut = true;
        ctl.abort();
      }, timeoutMs);
    };
    const onAbort = () => ctl.abort();
    signal.addEventListener('abort', onAbort, { once: true });
    arm();
    try {
      const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'audio/wav, audio/L16, audio/pcm, application/json' };
      if (this.opts.authorization) headers.authorization = this.opts.authorization;
      const body = JSON.stringify(
        this.opts.protocol === 'openai'
          ? { model: this.opts.model, input: text, voice: voice ?? 'alloy', response_format: this.opts.response_format }
          : voice ? { text, voice } : { text },
      );
      const res = await fetch(this.target, { method: 'POST', headers, body, signal: ctl.signal });
      if (!res.ok || !res.body) {
        await res.body?.cancel().catch(() => undefined);
        throw new TtsError(`upstream TTS answered HTTP ${res.status} ${res.statusText}`, 'http-status');
      }
      const type = res.headers.get('content-type') ?? '';
      const parts: Uint8Array[] = [];
      let bytes = 0;
      for await (const part of res.body as AsyncIterable<Uint8Array>) {
        arm();
        bytes += part.length;
        if (bytes > MAX_BYTES) throw new TtsError(`upstream TTS sent more than ${MAX_BYTES} bytes for one sentence`, 'bad-audio');
        parts.push(part);
      }
      // the openai dialect's "pcm" is s16le mono at 24 kHz, whatever the content type says of its rate
      const openAiPcm = this.opts.protocol === 'openai' && this.opts.response_format === 'pcm';
      return decode(Buffer.concat(parts), openAiPcm ? 'audio/pcm; rate=24000' : type, res.headers.get('x-sample-rate'));
    } catch (e) {
      if (signal.aborted) throw abortError();
      if (timedOut) throw new TtsError(`upstream TTS sent nothing for ${timeoutMs} ms (voice.upstream.timeout_ms)`, 'timeout', { cause: e });
      if (e instanceof TtsError) throw e;
      throw new TtsError(`upstream TTS at ${this.url} failed: ${describe(e)}`, 'unreachable', { cause: e });
    } finally {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
    }
  }
}

function describe(e: unknown): string {
  const err = e as Error & { cause?: { code?: string; message?: string } };
  const cause = err.cause?.code ?? err.cause?.message;
  return cause ? `${err.message} (${cause})` : err.message;
}

function decode(body: Buffer, contentType: string, rateHeader: string | null): SpeechAudio {
  const [mime = '', ...params] = contentType.toLowerCase().split(';').map((s) => s.trim());
  try {
    if (mime === 'application/json') return decodeJsonAnswer(body);
    if (mime === 'audio/wav' || mime === 'audio/x-wav' || mime === 'audio/wave' || mime === 'audio/vnd.wave') {
      const info = parseWavHeader(body);
      const samples = decodeWavSamples(body, info);
      if (samples.length === 0) throw new Error('the WAV holds no samples');
      return { samples, sampleRate: info.sampleRate };
    }
    if (mime === 'audio/l16' || mime === 'audio/pcm') {
      const rateParam = params.find((p) => p.startsWith('rate='))?.slice(5);
      const rate = Number(rateParam ?? rateHeader);
      if (!Number.isInteger(rate) || rate < MIN_SAMPLE_RATE || rate > MAX_SAMPLE_RATE) throw new Error(`raw PCM needs its rate (${MIN_SAMPLE_RATE}..${MAX_SAMPLE_RATE} Hz) as "rate=" in the content type or an x-sample-rate header, got ${rateParam ?? rateHeader}`);
      return { samples: decodeS16Mono(body), sampleRate: rate };
    }
    throw new Error(`content type ${JSON.stringify(contentType)}; expected audio/wav, audio/L16 / audio/pcm with rate=, or application/json (audio and phones)`);
  } catch (e) {
    throw new TtsError(`upstream TTS sent unusable audio: ${(e as Error).message}`, 'bad-audio', { cause: e });
  }
}
