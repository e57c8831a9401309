/**
 * Microphone capture for a live host: the page's microphone, 20 ms chunks of s16le mono at the
 * audio context's rate, sent as `mic` chunks to the /audio namespace with acknowledgements. The
 * server's voice-activity gate (Silero VAD) decides what reaches the avatar: only speech. A live voice cannot
 * wait: while more than MAX_IN_FLIGHT chunks are unacknowledged, new chunks are dropped (counted),
 * so latency stays bounded instead of growing.
 */
import { io, type Socket } from 'socket.io-client';
import type { AudioClientToServer, AudioServerToClient, ListenResult, MicResult } from '../../server/protocol.js';
import { RECONNECT } from './signalling.js';

const MAX_IN_FLIGHT = 10;

export interface MicStats {
  sent: number;
  dropped: number;
  refused: number;
  /** ms of audio the server's gate let through to the avatar */
  speechMs: number;
  /** the gate is open: the server hears speech */
  speaking: boolean;
  lastError?: string;
}

export class MicSender {
  readonly stats: MicStats = { sent: 0, dropped: 0, refused: 0, speechMs: 0, speaking: false };
  private constructor(
    private readonly socket: Socket<AudioServerToClient, AudioClientToServer>,
    private readonly ctx: AudioContext,
    private readonly media: MediaStream,
  ) {}

  /**
   * `event`: 'mic' (a host: what the gate lets through drives the avatar) or 'listen' (a kiosk in
   * listen mode: the citizen's voice, for barge-in and the agent).
   */
  static async start(token: string, event: 'mic' | 'listen' = 'mic'): Promise<MicSender> {
    const media = await navigator.mediaDevices.getUserMedia({ audio: { echoCancellation: true, noiseSuppression: true, autoGainControl: true, channelCount: 1 } });
    const ctx = new AudioContext({ latencyHint: 'interactive' });
    try {
      await ctx.audioWorklet.addModule('mic-worklet.js');
      const socket = io('/audio', { auth: { token }, transports: ['websocket'], ...RECONNECT }) as Socket<AudioServerToClient, AudioClientToServer>;
      const mic = new MicSender(socket, ctx, media);
      const node = new AudioWorkletNode(ctx, 'pcm-capture');
      ctx.createMediaStreamSource(media).connect(node);
      const chunk = new Int16Array(Math.round(ctx.sampleRate / 50));
      let fill = 0;
      let inFlight = 0;
      node.port.onmessage = (e: MessageEvent<Float32Array>) => {
        for (const v of e.data) {
          chunk[fill++] = Math.max(-32768, Math.min(32767, Math.round(v * 32767)));
          if (fill < chunk.length) continue;
          fill = 0;
          if (!socket.connected || inFlight >= MAX_IN_FLIGHT) {
            mic.stats.dropped += 1;
            continue;
          }
          inFlight += 1;
          socket.emit(event, { encoding: 's16le', sampleRate: ctx.sampleRate, channels: 1 }, chunk.slice().buffer, (res: MicResult | ListenResult) => {
            inFlight -= 1;
            if (res.ok) {
              mic.stats.sent += 1;
              mic.stats.speechMs += 'forwardedMs' in res ? res.forwardedMs : 0;
              mic.stats.speaking = res.speech;
            } else {
              mic.stats.refused += 1;
              mic.stats.lastError = res.error;
            }
          });
        }
      };
      return mic;
    } catch (e) {
      media.getTracks().forEach((t) => t.stop());
      await ctx.close();
      throw e;
    }
  }

  stop(): void {
    this.socket.emit('segment-end', {}, () => this.socket.close());
    this.media.getTracks().forEach((t) => t.stop());
    void this.ctx.close();
  }
}
