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
    return {
      framesDecoded: frames,
      framesDropped: video?.framesDropped ?? 0,
      fps: Math.round(fps * 10) / 10,
      audioSamples: audio?.totalSamplesReceived ?? 0,
      avOffsetMs: vd !== null && ad !== null ? Math.round(vd - ad) : null,
      width: video?.frameWidth ?? 0,
      height: video?.frameHeight ?? 0,
    };
  }
}
