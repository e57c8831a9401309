/** Reading what the page receives from RTCPeerConnection stats, as the server's KioskReport. */
import type { KioskReport } from '../../server/protocol.js';

interface Inbound {
  kind: 'audio' | 'video';
  framesDecoded?: number;
  framesDropped?: number;
  frameWidth?: number;
  frameHeight?: number;
  totalSamplesReceived?: number;
  jitterBufferDelay?: number;
  jitterBufferEmittedCount?: number;
}

export class ReportBuilder {
  /** ms the audio waits in the jitter buffer lately (0 until known) */
  audioDelayMs = 0;
  private lastAudio: { delay: number; emitted: number } | undefined;

  /** Updates audioDelayMs from fresh stats (the audio's jitter-buffer delay since the last update) and returns it. */
  audioDelay(stats: RTCStatsReport): number {
    this.updateAudioDelay(inbound(stats).audio);
    return this.audioDelayMs;
  }
  private last: { t: number; frames: number } | undefined;

  /** the audio's delay in the jitter buffer over the interval since the last update (what captions wait for) */
  private updateAudioDelay(a: Inbound | undefined): void {
    if (!a?.jitterBufferEmittedCount) return;
    if (!this.lastAudio) this.audioDelayMs = (a.jitterBufferDelay! / a.jitterBufferEmittedCount) * 1000;
    else if (a.jitterBufferEmittedCount > this.lastAudio.emitted) {
      this.audioDelayMs = ((a.jitterBufferDelay! - this.lastAudio.delay) / (a.jitterBufferEmittedCount - this.lastAudio.emitted)) * 1000;
    }
    this.lastAudio = { delay: a.jitterBufferDelay!, emitted: a.jitterBufferEmittedCount };
  }

  /** A report from a stats snapshot; fps over the time since the previous call. */
  build(stats: RTCStatsReport, now = performance.now()): KioskReport {
    const { video, audio } = inbound(stats);
    const frames = video?.framesDecoded ?? 0;
    const fps = this.last && now > this.last.t && frames >= this.last.frames ? ((frames - this.last.frames) * 1000) / (now - this.last.t) : 0;
    this.last = { t: now, frames };
    const delay = (s: Inbound | undefined) => (s?.jitterBufferEmittedCount ? (s.jitterBufferDelay! / s.jitterBufferEmittedCount) * 1000 : null);
    const vd = delay(video);
    const ad = delay(audio);
    this.updateAudioDelay(audio);
    return {
      framesDecoded: frames,
      framesDropped: video?.framesDropped ?? 0,
      fps: Math.round(fps * 10) / 10,
      audioSamples: audio?.totalSamplesReceived ?? 0,
      avOffsetMs: vd !== null && ad !== null ? Math.round(vd - ad) : null,
      audioDelayMs: ad !== null ? Math.round(this.audioDelayMs) : null,
      width: video?.frameWidth ?? 0,
      height: video?.frameHeight ?? 0,
    };
  }
}

/** The inbound video and audio streams of a stats snapshot. */
function inbound(stats: RTCStatsReport): { video?: Inbound; audio?: Inbound } {
  const out: { video?: Inbound; audio?: Inbound } = {};
  stats.forEach((s: Inbound & { type: string }) => {
    if (s.type !== 'inbound-rtp') return;
    if (s.kind === 'video') out.video = s;
    else if (s.kind === 'audio') out.audio = s;
  });
  return out;
}
