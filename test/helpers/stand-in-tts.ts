/**
 * A stand-in for an upstream TTS service, on loopback: POST { text } -> the text spoken by
 * espeak-ng (voice en-gb, so its audio differs from the local engine's en-us), streamed in pieces
 * with chunked transfer encoding, as audio/wav, as raw audio/L16, or as JSON with its phones.
 *
 * Failure modes for the watchdog tests:
 *   stopMidText(n): serves n sentences, then on the next one sends the headers and part of the
 *                   audio, cuts the connection and stops listening (a service that dies mid-text);
 *   hang:           accepts requests and never answers;
 *   status:         answers every request with this HTTP status.
 * start() listens again on the same port (the service coming back).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { speakWithLibrary } from '../../pipeline/phonemes/espeak-library.js';
import type { TimedPhone } from '../../pipeline/phonemes/phones.js';
import { speakWavAsync, wavBytes, wavSamples } from './speech.js';

export interface StandInOptions {
  /** json: { audio (base64 WAV), phones, alphabet } with espeak-ng's own phones of the speech, written by `phones` */
  format?: 'wav' | 'l16' | 'json';
  /** json: the "phones" and "alphabet" the service sends, from espeak-ng's phones (default: them, as espeak-ng mnemonics) */
  phones?: (phones: TimedPhone[]) => { phones: unknown; alphabet?: string };
  /** "openai": takes { model, input, voice, response_format } (/v1/audio/speech), answers wav or 24 kHz pcm as asked */
  dialect?: 'native' | 'openai';
  /** ms before the first byte */
  firstByteMs?: number;
  /** pieces the audio is streamed in, and ms between them */
  pieces?: number;
  pieceGapMs?: number;
}

export interface Served {
  text: string;
  /** the whole sentence was sent on a connection still open */
  complete: boolean;
  at: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class StandInTts {
  readonly served: Served[] = [];
  /** the JSON bodies of the requests, as sent */
  readonly requests: Record<string, unknown>[] = [];
  /** Date.now() when the service was cut off mid-text */
  cutAt: number | undefined;
  hang = false;
  status = 200;
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  private stopAfter: number | undefined;
  port = 0;

  constructor(private readonly opts: StandInOptions = {}) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}/tts`;
  }

  get listening(): boolean {
    return this.server?.listening ?? false;
  }

  async start(): Promise<void> {
    const server = createServer((req, res) => void this.handle(req, res));
    server.on('connection', (s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    const addr = server.address();
    if (typeof addr === 'object' && addr) this.port = addr.port;
    this.server = server;
  }

  /** After `n` more whole sentences, the next one is cut mid-audio and the service stops. */
  stopMidText(n: number): void {
    this.stopAfter = this.served.filter((s) => s.complete).length + n;
  }

  async stop(): Promise<void> {
    await this.close(this.server);
  }

  /** stops `server` if it is still the one listening (a cut handler never stops a restarted service) */
  private async close(server: Server | undefined): Promise<void> {
    if (!server || server !== this.server) return;
    this.server = undefined;
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((r) => server.close(() => r()));
  }

  completedTexts(): string[] {
    return this.served.filter((s) => s.complete).map((s) => s.text);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const server = this.server;
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    if (this.hang) return; // never answers
    if (this.status !== 200) {
      res.writeHead(this.status, { 'content-type': 'text/plain' }).end('stand-in failure');
      return;
    }
    let text: string;
    let request: Record<string, unknown>;
    try {
      request = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
      const field = this.opts.dialect === 'openai' ? request.input : request.text;
      if (typeof field !== 'string' || (this.opts.dialect === 'openai' && typeof request.model !== 'string')) throw new Error('missing field');
      text = field;
    } catch {
      res.writeHead(400).end('bad request');
      return;
    }
    this.requests.push(request);
    const wav = await speakWavAsync(text, 'en-gb');
    let body: Buffer = wav;
    let type = 'audio/wav';
    if (this.opts.dialect === 'openai' && request.response_format === 'pcm') {
      // 24 kHz s16le mono, no rate in the content type (as that API sends it)
      const { samples, sampleRate } = wavSamples(wav);
      const n = Math.floor((samples.length * 24_000) / sampleRate);
      body = Buffer.alloc(n * 2);
      for (let i = 0; i < n; i++) body.writeInt16LE(Math.max(-32768, Math.min(32767, Math.round(samples[Math.floor((i * sampleRate) / 24_000)]! * 32767))), 2 * i);
      type = 'audio/pcm';
    } else if (this.opts.format === 'json') {
      // the library's speech, whose phones espeak-ng reports with it (in the process's espeak
      // thread: libespeak-ng used from two threads at once kills the process)
      const sp = await speakWithLibrary(text, 'en-gb', 175, 10_000);
      const { phones, alphabet } = this.opts.phones?.(sp.phones) ?? { phones: sp.phones, alphabet: 'espeak' };
      body = Buffer.from(JSON.stringify({ audio: wavBytes(sp.samples, sp.sampleRate).toString('base64'), phones, alphabet, engine: 'stand-in' }));
      type = 'application/json';
    } else if (this.opts.format === 'l16') {
      const { samples, sampleRate } = wavSamples(wav);
      body = Buffer.alloc(samples.length * 2);
      for (let i = 0; i < samples.length; i++) body.writeInt16LE(Math.max(-32768, Math.min(32767, Math.round(samples[i]! * 32767))), 2 * i);
      type = `audio/L16; rate=${sampleRate}; channels=1`;
    }
    const record: Served = { text, complete: false, at: Date.now() };
    this.served.push(record);
    const cut = this.stopAfter !== undefined && this.served.filter((s) => s.complete).length >= this.stopAfter;
    await sleep(this.opts.firstByteMs ?? 0);
    res.writeHead(200, { 'content-type': type }); // no content-length: chunked, as a streaming service sends
    const pieces = this.opts.pieces ?? 4;
    const size = Math.ceil(body.length / pieces);
    for (let i = 0; i < pieces; i++) {
      if (cut && i === Math.floor(pieces / 2)) {
        this.cutAt = Date.now();
        this.stopAfter = undefined;
        res.socket?.destroy();
        await this.close(server);
        return;
      }
      if (req.socket.destroyed) return; // the client gave up (or the service was stopped): never sent whole
      res.write(body.subarray(i * size, (i + 1) * size));
      if (i < pieces - 1) await sleep(this.opts.pieceGapMs ?? 10);
    }
    res.end();
    record.complete = !req.socket.destroyed;
  }
}
