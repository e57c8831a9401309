/**
 * The agent of listen mode: each utterance of a citizen (WAV, 16-bit mono) is POSTed to `agent.url`
 * with the session and kiosk ids (headers X-Session, X-Kiosk); the answer is
 *   application/json { "text": "..." }   spoken whole;
 *   text/event-stream (data: pieces)   spoken sentence by sentence as whole sentences arrive;
 *   audio/* (WAV, MP3, ...)            played as it is.
 * No first byte within `timeout_ms` (or a gap as long), more than `total_timeout_ms` in all, an
 * HTTP error, an unreachable agent: the answer fails and the caller speaks `fallback_text`. The
 * state (up, last error, counts) is in /healthz and /metrics.
 */
import type { Config } from '../../config/schema.js';
import { encodeWavS16 } from '../../pipeline/audio/wav.js';
import { decodeAudioFileAt } from '../../pipeline/audio/decode-file.js';

export interface AnswerSink {
  /** a whole sentence (or the whole text) to speak */
  text(text: string): void;
  audio(samples: Float32Array, sampleRate: number): void;
}

export interface AgentStatus {
  url: string | null;
  up: boolean | null;
  answered: number;
  failed: number;
  lastError: string | null;
  lastMs: number | null;
}

/** a sentence end: . ! ? followed by a space or the end (not 3.50), or a CJK 。！？ (no space follows those) */
const SENTENCE_END = /[.!?](?=\s|$)|[。！？]/g;

export function takeSentences(buffer: string, final: boolean): { whole: string; rest: string } {
  if (final) return { whole: buffer.trim(), rest: '' };
  let cut = -1;
  for (const m of buffer.matchAll(SENTENCE_END)) cut = m.index! + 1;
  return cut < 0 ? { whole: '', rest: buffer } : { whole: buffer.slice(0, cut).trim(), rest: buffer.slice(cut) };
}

export class AgentClient {
  private readonly s: AgentStatus;

  constructor(private readonly cfg: Config['agent']) {
    this.s = { url: cfg.url ? new URL(cfg.url).origin + new URL(cfg.url).pathname : null, up: null, answered: 0, failed: 0, lastError: null, lastMs: null };
  }

  get configured(): boolean {
    return this.cfg.url !== null;
  }

  status(): AgentStatus {
    return { ...this.s };
  }

  /** Asks about one utterance; the answer goes to `sink` as it arrives. Rejects when it fails (nothing or part was said). */
  async ask(samples: Float32Array, sampleRate: number, ids: { session: string; kiosk: string }, sink: AnswerSink): Promise<void> {
    if (!this.cfg.url) throw new Error('no agent (agent.url)');
    const t0 = performance.now();
    const ctl = new AbortController();
    let why = '';
    const total = setTimeout(() => ((why = `no whole answer within ${this.cfg.total_timeout_ms} ms (agent.total_timeout_ms)`), ctl.abort()), this.cfg.total_timeout_ms);
    let gap: NodeJS.Timeout | undefined;
    const arm = () => {
      clearTimeout(gap);
      gap = setTimeout(() => ((why = `no answer byte for ${this.cfg.timeout_ms} ms (agent.timeout_ms)`), ctl.abort()), this.cfg.timeout_ms);
    };
    arm();
    try {
      const headers: Record<string, string> = { 'content-type': 'audio/wav', 'x-session': ids.session, 'x-kiosk': ids.kiosk, accept: 'application/json, text/event-stream, audio/*' };
      if (this.cfg.authorization) headers.authorization = this.cfg.authorization;
      const res = await fetch(this.cfg.url, { method: 'POST', headers, body: Buffer.from(encodeWavS16(samples, sampleRate)), signal: ctl.signal });
      arm();
      if (!res.ok || !res.body) throw new Error(`the agent answered HTTP ${res.status}`);
      const type = (res.headers.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
      const chunks: Uint8Array[] = [];
      const decoder = new TextDecoder();
      let pending = '';
      let said = false;
      const stream = { text: '' };
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        arm();
        if (type === 'text/event-stream') {
          pending += decoder.decode(chunk, { stream: true });
          // events are separated by a blank line; each `data:` line is a piece of text
          const events = pending.split(/\r?\n\r?\n/);
          pending = events.pop()!;
          for (const ev of events) said = this.piece(ev, sink, stream) || said;
        } else chunks.push(chunk);
      }
      if (type === 'text/event-stream') {
        said = this.piece(pending, sink, stream, true) || said;
        if (!said) throw new Error('the agent sent an empty event stream');
      } else if (type === 'application/json') {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { text?: unknown };
        if (typeof body.text !== 'string' || !body.text.trim()) throw new Error('the agent\'s JSON has no "text"');
        sink.text(body.text.trim());
      } else if (type.startsWith('audio/')) {
        const audio = await decodeAudioFileAt(Buffer.concat(chunks), 48_000);
        sink.audio(audio.samples, audio.sampleRate);
      } else throw new Error(`the agent answered ${type || 'without a content type'} (expected application/json, text/event-stream or audio/*)`);
      this.s.answered += 1;
      this.s.up = true;
      this.s.lastMs = Math.round(performance.now() - t0);
    } catch (e) {
      this.s.failed += 1;
      this.s.up = false;
      this.s.lastError = why || (e as Error).message;
      throw new Error(this.s.lastError, { cause: e });
    } finally {
      clearTimeout(total);
      clearTimeout(gap);
    }
  }

  /** one event of the stream; speaks the whole sentences it completes. True when something was said. */
  private piece(event: string, sink: AnswerSink, stream: { text: string }, final = false): boolean {
    for (const line of event.split(/\r?\n/)) if (line.startsWith('data:')) stream.text += line.slice(5).replace(/^ /, '');
    const { whole, rest } = takeSentences(stream.text, final);
    stream.text = rest;
    if (whole) sink.text(whole);
    return whole.length > 0;
  }
}
