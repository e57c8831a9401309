/**
 * A probe installed in the kiosk page (page.evaluate, so the page's CSP does not apply) that
 * records, in the page's performance.now() time base:
 * - every video frame the page shows (requestVideoFrameCallback): its expected display time and
 *   the mean luma of the mouth box, drawn from the very frame on a canvas;
 * - the received audio through a Web Audio tap on the video's stream (`audio`): RMS per
 *   512-sample block, timed when the block is heard from that AudioContext. Until 2026-12-05 the
 *   kiosk tests' lip-sync bound and the default offsets (config/schema.ts media.video_delay_ms)
 *   were set with it; now with `element`.
 * - the same audio on the video element's own path (`element`): each 10 ms the browser's audio
 *   output takes from the jitter buffer reaches the track's sinks at once; a
 *   MediaStreamTrackProcessor reads them (RMS per chunk, its timestamp: when it was taken, on the
 *   page clock), and the output device's delay as the browser reports it (media-playout stats:
 *   totalPlayoutDelay / totalSamplesCount) is added: when the loudspeaker plays it. The tap's path
 *   (the context's input FIFO, resampling, the ScriptProcessor's blocks, its own output) is not
 *   the element's, and reads the audio 22-38 ms later (2026-12-05, bench/streaming.ts prints both).
 * Plus the pure analysis of those records: onsets of speech bursts and of mouth opening.
 */
import type { Page } from 'playwright-core';
import type { Rect } from '../helpers/video-measures.js';

export interface FrameSample {
  /** ms, page clock: when the frame is expected on screen */
  t: number;
  luma: number;
  /** ms, page clock (WebRTC frames): when the sender captured it, and when its last packet arrived */
  capture?: number;
  receive?: number;
}

export interface AudioSample {
  /** ms, page clock: when this block is heard */
  t: number;
  rms: number;
}

export interface ProbeRecord {
  frames: FrameSample[];
  /** the Web Audio tap (see above) */
  audio: AudioSample[];
  /** the video element's own audio path (see above; empty unless installProbe was asked for it) */
  element: AudioSample[];
}

/**
 * Installs the probe; resolves when its recorders run. `element`: also record the element's audio
 * path (the streaming bench and the kiosk end-to-end suites do; the others, which do not measure
 * the lip sync, leave it off).
 */
export async function installProbe(page: Page, mouth: Rect, opts: { element?: boolean } = {}): Promise<void> {
  await page.evaluate(async ({ rect, withElement }) => {
    type Meta = { expectedDisplayTime: number; captureTime?: number; receiveTime?: number };
    type V = HTMLVideoElement & { requestVideoFrameCallback(cb: (now: number, meta: Meta) => void): number };
    const w = window as unknown as { kiosk: { video: V }; probe?: unknown };
    const v = w.kiosk.video;
    const canvas = document.createElement('canvas');
    canvas.width = rect.width;
    canvas.height = rect.height;
    const g = canvas.getContext('2d', { willReadFrequently: true })!;
    const frames: { t: number; luma: number; capture?: number; receive?: number }[] = [];
    const audio: { t: number; rms: number }[] = [];
    let running = true;
    const onFrame = (_now: number, meta: Meta) => {
      if (!running) return;
      // only the mouth box is drawn and read: the probe must not load the kiosk's CPU itself
      g.drawImage(v, rect.x, rect.y, rect.width, rect.height, 0, 0, rect.width, rect.height);
      const d = g.getImageData(0, 0, rect.width, rect.height).data;
      let s = 0;
      for (let i = 0; i < d.length; i += 4) s += 0.299 * d[i]! + 0.587 * d[i + 1]! + 0.114 * d[i + 2]!;
      frames.push({ t: meta.expectedDisplayTime, luma: s / (d.length / 4), capture: meta.captureTime, receive: meta.receiveTime });
      v.requestVideoFrameCallback(onFrame);
    };
    v.requestVideoFrameCallback(onFrame);

    const ac = new AudioContext({ latencyHint: 'interactive' });
    await ac.resume();
    const src = ac.createMediaStreamSource(v.srcObject as MediaStream);
    const block = 512; // ~11 ms at 44.1-48 kHz
    const sp = ac.createScriptProcessor(block, 1, 1);
    sp.onaudioprocess = (e) => {
      if (!running) return;
      const x = e.inputBuffer.getChannelData(0);
      let s = 0;
      for (let i = 0; i < x.length; i++) s += x[i]! * x[i]!;
      const ts = ac.getOutputTimestamp();
      // the input block of a ScriptProcessor is heard one block before its output block
      const heardCtx = e.playbackTime - block / ac.sampleRate;
      audio.push({ t: ts.performanceTime! + (heardCtx - ts.contextTime!) * 1000, rms: Math.sqrt(s / x.length) });
    };
    src.connect(sp);
    sp.connect(ac.destination);

    // the element's path: what its audio output takes, when it takes it, + the device's delay
    const element: { at: number; rms: number }[] = [];
    let deviceMs = 0;
    let deviceTimer: ReturnType<typeof setInterval> | undefined;
    if (withElement) {
      type Processor = { readable: ReadableStream<AudioData> };
      const MSTP = (window as unknown as { MediaStreamTrackProcessor?: new (o: { track: MediaStreamTrack }) => Processor }).MediaStreamTrackProcessor;
      if (!MSTP) throw new Error('the kiosk probe needs MediaStreamTrackProcessor (Chromium 94 or later)');
      const track = (v.srcObject as MediaStream).getAudioTracks()[0];
      if (!track) throw new Error('the kiosk probe found no audio track on the video element');
      const reader = new MSTP({ track }).readable.getReader();
      const k = w.kiosk as unknown as { getStats(): Promise<RTCStatsReport> | undefined };
      const readDevice = async () => {
        (await k.getStats())?.forEach((s: Record<string, number | string>) => {
          if (s.type === 'media-playout' && Number(s.totalSamplesCount) > 0) deviceMs = (Number(s.totalPlayoutDelay) / Number(s.totalSamplesCount)) * 1000;
        });
      };
      await readDevice();
      deviceTimer = setInterval(() => void readDevice().catch(() => undefined), 1000);
      void (async () => {
        let buf = new Float32Array(480);
        while (running) {
          const { value, done } = await reader.read();
          if (done || !value) return;
          const n = value.numberOfFrames;
          if (buf.length < n) buf = new Float32Array(n);
          value.copyTo(buf, { planeIndex: 0, format: 'f32-planar' });
          let e = 0;
          for (let i = 0; i < n; i++) e += buf[i]! * buf[i]!;
          // the timestamp is when the output took it, in microseconds on the page clock (checked:
          // read time - timestamp is 0.1 ms at the median, more only while the page is busy)
          element.push({ at: value.timestamp / 1000, rms: Math.sqrt(e / n) });
          value.close();
        }
        void reader.cancel();
      })();
    }
    w.probe = {
      frames,
      audio,
      element,
      deviceMs: () => deviceMs,
      stop() {
        running = false;
        clearInterval(deviceTimer);
        sp.disconnect();
        void ac.close();
      },
    };
  }, { rect: mouth, withElement: opts.element === true });
  await page.waitForFunction((withElement) => {
    const p = (window as unknown as { probe?: { frames: unknown[]; audio: unknown[]; element: unknown[] } }).probe;
    return p !== undefined && p.frames.length > 2 && p.audio.length > 2 && (!withElement || p.element.length > 2);
  }, opts.element === true);
}

/** The records since `sinceMs` (page clock); the probe keeps recording. */
export async function readProbe(page: Page, sinceMs = -Infinity): Promise<ProbeRecord> {
  return page.evaluate((since) => {
    type ProbeLike = { frames: { t: number; luma: number; capture?: number; receive?: number }[]; audio: { t: number; rms: number }[]; element: { at: number; rms: number }[]; deviceMs(): number };
    const p = (window as unknown as { probe: ProbeLike }).probe;
    const device = p.deviceMs();
    return {
      frames: p.frames.filter((f) => f.t >= since),
      audio: p.audio.filter((a) => a.t >= since),
      element: p.element.map((a) => ({ t: a.at + device, rms: a.rms })).filter((a) => a.t >= since),
    };
  }, sinceMs);
}

export function pageNow(page: Page): Promise<number> {
  return page.evaluate(() => performance.now());
}

/** Page clock (ms) to Unix ms: the page's performance.timeOrigin + t. */
export function pageTimeOrigin(page: Page): Promise<number> {
  return page.evaluate(() => performance.timeOrigin);
}

// ---------------------------------------------------------------- analysis (pure)

/** Mouth opening per frame: how much darker the mouth box is than at rest (the open mouth shows a dark cavity). */
export function mouthOpening(frames: FrameSample[], restLuma: number): { t: number; open: number }[] {
  return frames.map((f) => ({ t: f.t, open: restLuma - f.luma }));
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s[Math.floor(s.length / 2)]!;
}

/**
 * Onsets: times where `value` crosses `threshold` upwards after staying below `quiet` for at least
 * `gapMs`. Used for speech bursts (audio RMS) and mouth opening alike.
 */
export function onsets(series: { t: number; v: number }[], threshold: number, quiet: number, gapMs: number): number[] {
  const out: number[] = [];
  let quietSince: number | undefined;
  for (const s of series) {
    if (s.v < quiet) {
      quietSince ??= s.t;
    } else if (s.v >= threshold) {
      if (quietSince !== undefined && s.t - quietSince >= gapMs) out.push(s.t);
      quietSince = undefined;
    }
  }
  return out;
}

/** Speech-burst onsets in recorded audio: crossing 20 % of its peak RMS after `gapMs` under 5 %. */
export function burstOnsets(audio: AudioSample[], gapMs = 300): number[] {
  const peak = Math.max(...audio.map((a) => a.rms));
  return onsets(audio.map((a) => ({ t: a.t, v: a.rms })), 0.2 * peak, 0.05 * peak, gapMs);
}

/** Pairs each audio onset with the first mouth onset within [-maxLead, +maxLag] ms of it. */
export function pairOnsets(audio: number[], mouth: number[], maxLead = 200, maxLag = 300): { audio: number; mouth: number; diff: number }[] {
  const out: { audio: number; mouth: number; diff: number }[] = [];
  for (const a of audio) {
    const m = mouth.find((t) => t >= a - maxLead && t <= a + maxLag);
    if (m !== undefined) out.push({ audio: a, mouth: m, diff: m - a });
  }
  return out;
}

/**
 * After a touch on stop at `tStop`: the speaking peak before it, the last frame still open (above a
 * quarter of that peak) and the first frame after it (the face at rest), with the frames that follow.
 */
export function restAfterTouch(open: { t: number; open: number }[], tStop: number) {
  const peak = Math.max(...open.filter((o) => o.t < tStop).map((o) => o.open));
  const lastOpen = [...open].reverse().find((o) => o.open > 0.25 * peak);
  const restAt = lastOpen && open.find((o) => o.t > lastOpen.t);
  return { peak, lastOpen, restAt, after: restAt ? open.filter((o) => o.t > restAt.t) : [] };
}

/**
 * Touches Stop as soon as the mouth is visibly open (the latest shown frame at least `minOpen`
 * luma levels darker than at rest), so a barge-in is measured from an open mouth, not from a
 * pause between words. Returns the page time of the touch (after at most `maxWaitMs`).
 */
export function touchStopWhileOpen(page: Page, restLuma: number, minOpen: number, maxWaitMs = 3000): Promise<number> {
  return whenMouthOpen(page, restLuma, minOpen, maxWaitMs, true);
}

/** The page time when the mouth is first visibly open (as touchStopWhileOpen, without the touch). */
export function waitMouthOpen(page: Page, restLuma: number, minOpen: number, maxWaitMs = 3000): Promise<number> {
  return whenMouthOpen(page, restLuma, minOpen, maxWaitMs, false);
}

function whenMouthOpen(page: Page, restLuma: number, minOpen: number, maxWaitMs: number, touchStop: boolean): Promise<number> {
  return page.evaluate(
    ({ restLuma, minOpen, maxWaitMs, touchStop }) =>
      new Promise<number>((resolve) => {
        const p = (window as unknown as { probe: { frames: { luma: number }[] } }).probe;
        const t0 = performance.now();
        const check = () => {
          const last = p.frames[p.frames.length - 1];
          if ((last && restLuma - last.luma >= minOpen) || performance.now() - t0 > maxWaitMs) {
            const t = performance.now();
            if (touchStop) document.getElementById('stop')!.dispatchEvent(new PointerEvent('pointerdown', { bubbles: true }));
            resolve(t);
          } else requestAnimationFrame(check);
        };
        check();
      }),
    { restLuma, minOpen, maxWaitMs, touchStop },
  );
}
