/**
 * The host's "say" box: text typed on the page, sent as `say` on the /audio namespace; the server
 * splits it into sentences and speaks them with its TTS (upstream, or espeak-ng when offline).
 */
import { io, type Socket } from 'socket.io-client';
import type { AudioClientToServer, AudioServerToClient, SayResult, SentenceEvent } from '../../server/protocol.js';
import { RECONNECT } from './signalling.js';

export class SayClient {
  private socket: Socket<AudioServerToClient, AudioClientToServer> | undefined;
  /** the last sentences the server announced (for the page and the tests) */
  readonly spoken: SentenceEvent[] = [];

  constructor(private readonly token: string) {}

  say(text: string): Promise<SayResult> {
    this.socket ??= this.connect();
    return this.socket.timeout(10_000).emitWithAck('say', { text }).catch((e: Error): SayResult => ({ ok: false, error: e.message, code: 'unavailable' }));
  }

  private connect(): Socket<AudioServerToClient, AudioClientToServer> {
    const s = io('/audio', { auth: { token: this.token }, transports: ['websocket'], ...RECONNECT }) as Socket<AudioServerToClient, AudioClientToServer>;
    s.on('sentence', (e) => {
      this.spoken.push(e);
      if (this.spoken.length > 50) this.spoken.shift();
    });
    return s;
  }
}
