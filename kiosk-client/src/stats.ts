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
    stats.forEach((s: Inbound & { type: string }) => {
      if (s.type !== 'inbound-rtp' || s.kind !== 'audio' || !s.jitterBufferEmittedCount) return;
      if (this.lastAudio && s.jitterBufferEmittedCount > this.lastAudio.emitted) {
        this.audioDelayMs = ((s.jitterBufferDelay! - this.lastAudio.delay) / (s.jitterBufferEmittedCount - this.lastAudio.emitted)) * 1000;
      } else if (!this.lastAudio) this.audioDelayMs = (s.jitterBufferDelay! / s.jitterBufferEmittedCount) * 1000;
      this.lastAudio = { delay: s.jitterBufferDelay!, emitted: s.jitterBufferEmittedCount };
    });
    return this.audioDelayMs;
  }
  private last: { t: number; frames: number } | undefined;

  /** A report from a stats snapshot; fps over the time since the previous call. */
  build(stats: RTCStatsReport, now = performance.now()): KioskReport {
    let video: Inbound | undefined;
    let audio: Inbound | undefined;
    stats.forEach((s: Inbound & { type: string }) => {
      if (s.type !== 'inbound-rtp') return;
      if (s.kind === 'video') video = s;
      else if (s.kind === 'audio') audio = s;
    });
    const frames = video?.framesDecoded ?? 0;
    const fps = this.last && now > this.last.t && frames >= this.last.frames ? ((frames - this.last.frames) * 1000) / (now - this.last.t) : 0;
    this.last = { t: now, frames };
    const delay = (s: Inbound | undefined) => (s?.jitterBufferEmittedCount ? (s.jitterBufferDelay! / s.jitterBufferEmittedCount) * 1000 : null);
    const vd = delay(video);
    const ad = delay(audio);
    // the audio's delay in the jitter buffer over the last interval (what captions wait for)
    const a = audio as Inbound | undefined;
    if (a?.jitterBufferEmittedCount && this.lastAudio && a.jitterBufferEmittedCount > this.lastAudio.emitted) {
      this.audioDelayMs = ((a.jitterBufferDelay! - this.lastAudio.delay) / (a.jitterBufferEmittedCount - this.lastAudio.emitted)) * 1000;
    } else if (ad !== null) this.audioDelayMs = ad;
    if (a?.jitterBufferEmittedCount) this.lastAudio = { delay: a.jitterBufferDelay!, emitted: a.jitterBufferEmittedCount };
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
