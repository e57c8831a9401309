/**
 * One avatar session: one portrait + one engine + one outgoing stream, watched by any number of
 * kiosks.
 *
 *   speech (PCM chunks, files) -> LiveSession (wall clock, speech queue, barge-in)
 *     -> WorkerEngine (portrait engine in a worker thread) -> frames + the audio that drove them
 *     -> SessionMediaSource (wrtc sources) -> SfuRoom (mediasoup) or DirectPeer per kiosk
 *
 * The media source outlives the engine: if the engine's worker fails, a new engine starts (the
 * face comes back at rest, queued speech is lost and counted) while kiosks stay connected and
 * see the last frame until new ones come.
 */
import { EnvelopeRing, MAX_LAG_MS, WINDOW_MS } from '../voice/echo-guard.js';
import { CaptionTimeline } from './captions.js';
import { EventEmitter } from 'node:events';
import { fileURLToPath } from 'node:url';
import type { TimedPhone } from '../../pipeline/phonemes/phones.js';
import type { Config } from '../../config/schema.js';
import { WorkerEngine } from '../../pipeline/engine/worker-engine.js';
import { CLOCK_RATE, type AvatarFrame } from '../../pipeline/records.js';
import { LiveSession } from '../../pipeline/session/live-session.js';
import { QueueFullError, type PcmChunkIn } from '../../pipeline/session/live-timeline.js';
import { MAX_CHUNK_BYTES } from '../../pipeline/audio/pcm.js';
import type { CaptionEvent, ConsumerInfo, KioskReport, MediaMode, SessionInfo, TransportInfo } from '../protocol.js';
import { DirectPeer } from '../media/direct-peer.js';
import type { MediasoupWorker } from '../media/mediasoup-worker.js';
import { MediaPacer, pacingDelayMs } from '../media/media-pacer.js';
import { SessionMediaSource } from '../media/session-media-source.js';
import { SfuRoom, type PipeOffer } from '../media/sfu-room.js';
import type { Logger } from '../log.js';
import { SayQueue } from '../voice/say-queue.js';
import { KioskLimitError, RateLimitedError, SessionUnavailableError } from '../errors.js';
import type { TtsRouter } from '../voice/tts-router.js';
import { KioskStateError } from '../media/kiosk-state-error.js';
import { TokenBucket } from '../auth/token-bucket.js';

const ENGINE_MODULE = fileURLToPath(new URL('../../pipeline/engine/portrait-engine-module.ts', import.meta.url));

export interface AvatarSessionOptions {
  id: string;
  portrait: string;
  config: Config;
  mode: MediaMode;
  /** required in sfu mode */
  mediasoupWorker?: MediasoupWorker;
  /** IP the kiosks' ICE sockets use, and the one announced in candidates */
  listenIp: string;
  announcedIp?: string;
  /** engine module (default: the portrait engine); tests may pass another */
  engineModule?: string;
  engineOptions?: unknown;
  /** text-to-speech for say(): the server's one router (upstream with the local fallback) */
  tts: TtsRouter;
  log: Logger;
  /** the voice say() speaks with (SessionSpec.voice); the TTS providers' own when absent */
  voice?: string;
  /** what operators call it (SessionSpec.name) */
  name?: string;
  /** captions for kiosks (SessionSpec.captions) */
  captions?: boolean;
  /** kiosks send their microphone: barge-in by voice, utterances to the agent (SessionSpec.listen) */
  listen?: boolean;
  /** how kiosks fit the picture to their screen (SessionSpec.fit; cover when absent) */
  fit?: 'cover' | 'contain';
}

export interface AvatarSessionEvents {
  /** speaking state changed */
  state: [{ speaking: boolean; queuedMs: number }];
  /** the engine failed and is being restarted */
  error: [Error];
  /** a new engine runs after a failure */
  restarted: [];
  /** the sentence being spoken (captions on), or null when it ended or was interrupted */
  caption: [CaptionEvent];
  /** what kiosks lay out by changed (the fit, or a new portrait's face): they lay out again */
  layout: [SessionInfo];
}

interface KioskState {
  report?: KioskReport;
  direct?: DirectPeer;
}

export class AvatarSession extends EventEmitter<AvatarSessionEvents> {
  readonly id: string;
  readonly mode: MediaMode;
  private layoutInfo: SessionInfo;
  readonly source: SessionMediaSource;
  /** say(): text -> sentences -> TTS -> this session's speech queue */
  readonly sayQueue: SayQueue;
  private readonly pacer: MediaPacer;
  private opts: AvatarSessionOptions;
  private engine: WorkerEngine;
  private live: LiveSession;
  private room: SfuRoom | undefined;
  private readonly kiosks = new Map<string, KioskState>();
  private readonly interruptBudget: TokenBucket;
  private speaking = false;
  /** the latest frame sent with the face at rest (isAtRest): what barge-in shows at once */
  private restFrame: AvatarFrame | undefined;
  /**
   * pts of the engine's position at the last barge-in: frames before it that arrive later
   * (rendered in the worker before it saw the interrupt, or from speech it took ahead) show speech
   * whose audio is gone, and are dropped
   */
  private interruptedBefore = 0;
  private framesDroppedAtInterrupt = 0;
  /** when the last barge-in was asked for (performance.now ms), until a frame at rest is sent */
  private interruptAt: number | undefined;
  /** ms from the last barge-in request to the first frame at rest handed to the encoder */
  private interruptToRestMs = 0;
  private restarting: Promise<void> | undefined;
  private restarts = 0;
  private speechLostMs = 0;
  private closed = false;

  private constructor(opts: AvatarSessionOptions, engine: WorkerEngine, source: SessionMediaSource, live: LiveSession) {
    super();
    this.opts = opts;
    this.id = opts.id;
    this.mode = opts.mode;
    this.engine = engine;
    this.source = source;
    this.live = live;
    const ips = opts.config.limits.interrupts_per_second;
    this.interruptBudget = new TokenBucket(ips, Math.max(1, 2 * ips), () => performance.now());
    const { name, width, height, fps, lookaheadMs, face, mouth } = engine.info;
    this.layoutInfo = { id: opts.id, engine: name, width, height, fps, lookaheadMs, listen: opts.listen === true, face, mouth, fit: opts.fit ?? 'cover' };
    const v = opts.config.voice;
    this.sayQueue = new SayQueue(this, opts.tts, {
      maxSentences: v.max_sentences,
      maxTextChars: v.max_text_chars,
      sentenceMaxChars: v.sentence_max_chars,
      prefetch: v.prefetch_sentences,
      aheadMs: v.ahead_ms,
      log: opts.log,
      session: opts.id,
      voice: opts.voice,
    });
    // frames at the middle of their interval, plus the kiosk's calibration (the same for both
    // publishers since it is measured on the video element's own audio path: test/kiosk/probe.ts)
    const videoOffsetMs = 500 / fps + opts.config.media.video_delay_ms;
    this.pacer = new MediaPacer({
      startMs: live.startMs,
      delayMs: pacingDelayMs({ fps, lookaheadMs, marginMs: opts.config.media.pacing_margin_ms, videoOffsetMs, leadMs: opts.config.media.speech_lead_ms }),
      videoOffsetMs,
      fps,
      frame: (f) => {
        source.sendFrame(f);
        if (isAtRest(f)) {
          this.restFrame = f;
          if (this.interruptAt !== undefined) {
            this.interruptToRestMs = performance.now() - this.interruptAt;
            this.interruptAt = undefined;
          }
        }
        this.setSpeaking(f.speaking);
      },
      audio: (a) => {
        source.sendAudio(a);
        this.sentEnvelope.push(a.samples, CLOCK_RATE);
      },
    });
    this.captions = new CaptionTimeline((c) => this.emit('caption', c), () => this.pacer.core.delayMs);
    this.sayQueue.on('sentence', (r) => {
      if (this.captionsOn) this.captions.sentence(r.text, r.startsInMs, r.audioMs);
    });
  }

  private setSpeaking(speaking: boolean): void {
    if (speaking === this.speaking) return;
    this.speaking = speaking;
    this.emit('state', { speaking, queuedMs: this.live.stats().queuedMs });
  }

  // ---------------------------------------------------------------- watched or not

  /** kiosks here, or other nodes' relays (cluster pipes), watch this session */
  get watched(): boolean {
    return this.kiosks.size > 0 || (this.room?.pipeCount ?? 0) > 0;
  }

  /** the engine renders (somebody watches, or did until media.pause_unwatched_ms ago) */
  get rendering(): boolean {
    return !this.live.paused;
  }

  private pauseTimer: NodeJS.Timeout | undefined;
  private readonly watch = { pauses: 0, resumes: 0 };

  /**
   * Called whenever a viewer comes or goes: a watched session renders (resumed at once), an
   * unwatched one pauses media.pause_unwatched_ms later (a kiosk reloading its page comes back
   * within that and finds the session still rendering).
   */
  private updateWatch(): void {
    if (this.closed || this.restarting) return;
    if (this.watched) {
      clearTimeout(this.pauseTimer);
      this.pauseTimer = undefined;
      if (this.live.paused) {
        this.live.resume();
        this.watch.resumes += 1;
      }
      return;
    }
    const after = this.opts.config.media.pause_unwatched_ms;
    if (after === null || this.live.paused || this.pauseTimer) return;
    this.pauseTimer = setTimeout(() => {
      this.pauseTimer = undefined;
      if (this.closed || this.restarting || this.watched || this.live.paused) return;
      this.live.pause();
      this.watch.pauses += 1;
    }, after);
    this.pauseTimer.unref();
  }

  private readonly captions: CaptionTimeline;
  /** the loudness of the speech this session sent lately (listen mode's echo guard) */
  readonly sentEnvelope = new EnvelopeRing(WINDOW_MS + MAX_LAG_MS + 200);

  /** ms between a sample's place on the timeline and its leaving the server */
  get pacingDelayMs(): number {
    return this.pacer.core.delayMs;
  }

  /** the avatar is speaking or has speech queued (a voice over it is a barge-in) */
  get busySpeaking(): boolean {
    return this.speaking || this.live.stats().queuedMs > 0 || this.sayQueue.length > 0;
  }

  /** kiosks of this session may send their microphone ('listen', SessionSpec.listen) */
  get listening(): boolean {
    return this.opts.listen === true;
  }

  /** kiosks are sent the sentence being spoken (SessionSpec.captions) */
  get captionsOn(): boolean {
    return this.opts.captions !== false && (this.opts.captions === true || this.opts.listen === true);
  }

  /** what a kiosk needs to show the session: size, fps, where the face is, the fit */
  get info(): SessionInfo {
    return this.layoutInfo;
  }

  /** How kiosks fit the picture (SessionSpec.fit): applied on the kiosks at once. */
  setFit(fit: 'cover' | 'contain'): void {
    if (fit === this.layoutInfo.fit) return;
    this.layoutInfo = { ...this.layoutInfo, fit };
    this.emit('layout', this.layoutInfo);
  }

  setCaptions(on: boolean): void {
    this.opts = { ...this.opts, captions: on };
    if (!on) this.captions.clear();
  }

  static async start(opts: AvatarSessionOptions): Promise<AvatarSession> {
    if (opts.mode === 'sfu' && !opts.mediasoupWorker) throw new TypeError('AvatarSession: sfu mode needs a mediasoup worker');
    const engine = await startEngine(opts);
    const scale = engine.info.portraitScale;
    if (scale !== undefined && scale > 1.05) {
      opts.log.info({ session: opts.id, enlarged: Math.round(scale * 100) / 100, size: `${engine.info.width}x${engine.info.height}` }, `the portrait photo is enlarged ${scale.toFixed(1)}x for the frame (once, at enrolment): a larger photo would be sharper`);
    }
    const live = liveSession(engine, opts.config);
    const source = new SessionMediaSource({ width: engine.info.width, height: engine.info.height, fps: engine.info.fps, startMs: live.startMs });
    const session = new AvatarSession(opts, engine, source, live);
    session.wire(live);
    session.updateWatch(); // nobody watches yet: it pauses unless a kiosk comes soon
    try {
      if (opts.mode === 'sfu') session.room = await session.createRoom(opts.mediasoupWorker!);
    } catch (e) {
      await session.close();
      throw e;
    }
    return session;
  }

  private createRoom(worker: MediasoupWorker): Promise<SfuRoom> {
    const o = this.opts;
    return SfuRoom.create(worker, this.source, {
      listenIp: o.listenIp,
      announcedIp: o.announcedIp,
      videoMaxBitrate: o.config.media.video_max_kbps * 1000,
      streamId: `avatar-${o.id}`,
      portRange: { min: o.config.media.rtc_min_port, max: o.config.media.rtc_max_port },
      encoder: o.config.media.encoder,
      x264Preset: o.config.media.x264_preset,
      onError: (e) => this.emit('error', new Error(`session ${o.id}: ${e.message}`, { cause: e })),
    });
  }

  /**
   * The mediasoup worker died and a new one runs: the SFU room is built again on it, from the
   * same media source (the engine, its speech queue and the pts go on). The kiosks' transports
   * died with the old worker; they join again (the server tells them: 'media-restart').
   */
  async replaceMediasoupWorker(worker: MediasoupWorker): Promise<void> {
    if (this.mode !== 'sfu' || this.closed) return;
    const old = this.room;
    this.room = undefined;
    try {
      old?.close();
    } catch {
      /* its router died with the worker */
    }
    this.room = await this.createRoom(worker);
  }

  // ---------------------------------------------------------------- speech

  /** Queues a PCM chunk (AudioFormatError / QueueFullError on bad input or a full queue). */
  ingest(chunk: PcmChunkIn): { acceptedMs: number; queuedMs: number } {
    this.assertRunning();
    const { accepted } = this.live.ingest(chunk);
    return { acceptedMs: (accepted * 1000) / CLOCK_RATE, queuedMs: this.live.stats().queuedMs };
  }

  /**
   * Queues a whole utterance of mono float samples (a decoded file) and ends the segment. All of
   * it is queued, or (QueueFullError) none of it.
   */
  ingestSamples(samples: Float32Array, sampleRate: number, phones?: readonly TimedPhone[]): { acceptedMs: number; queuedMs: number } {
    this.assertRunning();
    const durationMs = (samples.length * 1000) / sampleRate;
    const roomMs = this.opts.config.limits.max_queued_seconds * 1000 - this.live.stats().queuedMs;
    if (durationMs > roomMs) {
      throw new QueueFullError(
        `speech queue full: the audio lasts ${Math.round(durationMs)} ms, the queue has room for ${Math.max(0, Math.round(roomMs))} ms ` +
          `(limits.max_queued_seconds = ${this.opts.config.limits.max_queued_seconds}): wait or interrupt`,
      );
    }
    this.ingestSamples32(samples, sampleRate, phones);
    this.live.segmentEnd();
    return { acceptedMs: Math.round(durationMs), queuedMs: this.live.stats().queuedMs };
  }

  /** Queues mono float samples without ending the segment (a live voice, e.g. the gated microphone). */
  ingestSamples32(samples: Float32Array, sampleRate: number, phones?: readonly TimedPhone[]): void {
    this.assertRunning();
    const step = Math.floor(MAX_CHUNK_BYTES / 4);
    for (let i = 0; i < samples.length; i += step) {
      const part = samples.subarray(i, Math.min(samples.length, i + step));
      this.live.ingest({ pcm: new Uint8Array(part.buffer, part.byteOffset, part.byteLength), format: { encoding: 'f32le', sampleRate, channels: 1 } }, i === 0 ? phones : undefined);
    }
  }

  segmentEnd(): void {
    this.assertRunning();
    this.live.segmentEnd();
  }

  /**
   * Queues text to speak (sentence by sentence, see server/voice/say-queue.ts); `interrupt` barges
   * in first (not when interrupts are past their limit: one came within the last moments).
   */
  say(text: string, opts: { interrupt?: boolean } = {}): { sayId: number; sentences: number; queuedSentences: number; droppedMs?: number } {
    this.assertRunning();
    const dropped = opts.interrupt && this.interruptBudget.take() ? this.bargeIn() : undefined;
    return { ...this.sayQueue.say(text), ...dropped };
  }

  /**
   * Barge-in: queued speech and text waiting to be spoken are dropped; the face returns to rest.
   * At most limits.interrupts_per_second (bursts of twice as many): each sends a frame at rest at
   * once, so a flood would flood the kiosks; past it, RateLimitedError and nothing changes.
   */
  interrupt(): { droppedMs: number; droppedSentences: number } {
    this.assertRunning();
    if (!this.interruptBudget.take()) {
      throw new RateLimitedError(`more than ${this.opts.config.limits.interrupts_per_second} interrupts a second for this session (limits.interrupts_per_second): the face is already at rest`);
    }
    return this.bargeIn();
  }

  private bargeIn(): { droppedMs: number; droppedSentences: number } {
    const droppedSentences = this.sayQueue.clear();
    this.captions.clear();
    this.interruptAt = performance.now();
    const { dropped } = this.live.interrupt();
    // the engine may have rendered frames from speech it took ahead (media.speech_lead_ms)
    this.interruptedBefore = this.live.timeline.enginePts;
    this.pacer.interrupt(this.restFrame);
    return { droppedMs: Math.round((dropped * 1000) / CLOCK_RATE), droppedSentences };
  }

  get queuedMs(): number {
    return this.live.stats().queuedMs;
  }

  // ---------------------------------------------------------------- kiosks

  get kioskCount(): number {
    return this.kiosks.size;
  }

  /** Registers a kiosk; in sfu mode creates its receive transport. */
  async addKiosk(kioskId: string): Promise<{ sfu?: { routerRtpCapabilities: unknown; transport: TransportInfo } }> {
    if (this.closed) throw new SessionUnavailableError('the session is closed');
    if (this.kiosks.has(kioskId)) throw new KioskStateError(`kiosk ${kioskId} has already joined`);
    if (this.kiosks.size >= this.opts.config.media.max_kiosks_per_session) throw new KioskLimitError(this.opts.config.media.max_kiosks_per_session);
    const entry: KioskState = {};
    this.kiosks.set(kioskId, entry);
    this.updateWatch(); // the engine starts while the kiosk connects
    try {
      if (this.room) return { sfu: await this.room.addKiosk(kioskId) };
      if (this.mode === 'sfu') throw new SessionUnavailableError('the media path is restarting (a new mediasoup worker is starting): join again in a moment');
      return {};
    } catch (e) {
      // only this join's own entry: the kiosk may have left and joined again meanwhile
      if (this.kiosks.get(kioskId) === entry) this.removeKiosk(kioskId);
      throw e;
    }
  }

  /** The router's WebRTC transports (sfu mode): what holds ports, for leak checks; undefined on the direct path. */
  async routerTransports(): Promise<number | undefined> {
    return this.room?.routerTransports();
  }

  sfuConnect(kioskId: string, dtlsParameters: unknown): Promise<void> {
    return this.sfu().connectKiosk(kioskId, dtlsParameters);
  }

  sfuConsume(kioskId: string, rtpCapabilities: unknown): Promise<ConsumerInfo[]> {
    return this.sfu().consume(kioskId, rtpCapabilities);
  }

  sfuResume(kioskId: string, kind?: 'audio' | 'video'): Promise<void> {
    return this.sfu().resume(kioskId, kind);
  }

  async directOffer(kioskId: string): Promise<string> {
    if (this.mode !== 'direct') throw new TypeError('this server runs the sfu path: use sfu:* requests');
    const k = this.kiosk(kioskId);
    k.direct?.close();
    const { media } = this.opts.config;
    const { peer, sdp } = await DirectPeer.create(this.source, {
      portRange: { min: media.rtc_min_port, max: media.rtc_max_port },
      videoMaxBitrate: media.video_max_kbps * 1000,
    });
    if (!this.kiosks.has(kioskId)) {
      peer.close();
      throw new KioskStateError('the kiosk left');
    }
    k.direct = peer;
    return sdp;
  }

  async directAnswer(kioskId: string, sdp: string): Promise<void> {
    const peer = this.kiosk(kioskId).direct;
    if (!peer) throw new KioskStateError('ask for an offer first (direct:offer)');
    await peer.answer(sdp);
  }

  async directStartAudio(kioskId: string): Promise<void> {
    const peer = this.kiosk(kioskId).direct;
    if (!peer) throw new KioskStateError('ask for an offer first (direct:offer)');
    await peer.startAudio();
  }

  /** Cluster: sends this session's producers to another node's pipe transport (SfuRoom.openPipe). */
  openPipe(node: string, remote: { ip: string; port: number }, listen: { ip: string; announcedIp?: string }): Promise<PipeOffer> {
    if (this.closed) throw new SessionUnavailableError('the session is closed');
    if (!this.room) throw new SessionUnavailableError(this.mode === 'sfu' ? 'the media path is restarting: ask again in a moment' : 'this node runs the direct path: no pipes');
    const offer = this.room.openPipe(node, remote, listen);
    void offer.then(() => this.updateWatch(), () => this.updateWatch());
    return offer;
  }

  closePipe(node: string): boolean {
    const closed = this.room?.closePipe(node) ?? false;
    this.updateWatch();
    return closed;
  }

  report(kioskId: string, report: KioskReport): void {
    const k = this.kiosks.get(kioskId);
    if (k) k.report = report;
  }

  /** Releases everything the kiosk held. Safe to call twice. */
  removeKiosk(kioskId: string): void {
    const k = this.kiosks.get(kioskId);
    if (!k) return;
    this.kiosks.delete(kioskId);
    k.direct?.close();
    this.room?.closeKiosk(kioskId);
    this.updateWatch();
  }

  // ---------------------------------------------------------------- state

  stats() {
    const engine = this.engine.stats();
    const live = this.live.stats();
    const reports = [...this.kiosks.values()].map((k) => k.report).filter((r): r is KioskReport => r !== undefined);
    return {
      id: this.id,
      mode: this.mode,
      state: this.restarting ? 'restarting' : live.state,
      kiosks: this.kiosks.size,
      queuedMs: live.queuedMs,
      chunksAccepted: live.chunksAccepted,
      chunksRefused: live.chunksRefused,
      speechLostMs: this.speechLostMs,
      engineRestarts: this.restarts,
      engineFramesRendered: engine.framesRendered,
      engineFramesDropped: engine.framesDropped,
      /** frames the engine passed over, behind the clock (an overloaded machine) */
      engineFramesSkipped: engine.framesSkipped,
      engineMsAvg: engine.stages.engine!.count > 0 ? engine.stages.engine!.totalMs / engine.stages.engine!.count : 0,
      engineMsLast: engine.stages.engine!.lastMs,
      interruptToRestMs: this.interruptToRestMs,
      say: { waiting: this.sayQueue.length, ...this.sayQueue.counts },
      media: this.source.stats(),
      pacing: { delayMs: this.pacer.core.delayMs, ...this.pacer.core.stats(), droppedAtInterrupt: this.framesDroppedAtInterrupt },
      rendering: this.rendering,
      watch: { ...this.watch },
      sfu: this.room?.counts(),
      /** the encoder path's encoders (media.encoder x264): frames, keyframes, ms per frame in x264 */
      encoder: this.room?.encoderStats(),
      directPeers: [...this.kiosks.values()].filter((k) => k.direct).length,
      kioskReports: reports,
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.pauseTimer);
    this.sayQueue.close();
    this.captions.close();
    for (const id of [...this.kiosks.keys()]) this.removeKiosk(id);
    this.room?.close();
    await this.restarting?.catch(() => undefined);
    await this.live.close().catch(() => undefined);
    this.pacer.close();
    this.source.close();
  }

  // ---------------------------------------------------------------- internals

  private wire(live: LiveSession): void {
    // only the current LiveSession's media reaches the pacer: a replaced one (a new portrait) may
    // still hand over a frame of its own timeline while it closes
    live.on('frame', (f) => {
      if (live !== this.live) return;
      if (f.pts < this.interruptedBefore) this.framesDroppedAtInterrupt += 1;
      else this.pacer.pushFrame(f);
    });
    live.on('audio', (a) => {
      if (live !== this.live) return;
      if (!live.paused) return this.pacer.pushAudio(a);
      // nobody watches: nothing is sent; the speaking state follows the timeline (every 100 ms)
      if (a.pts % (CLOCK_RATE / 10) === 0) this.setSpeaking(live.stats().state === 'speaking');
    });
    live.on('error', (e) => {
      if (live !== this.live || this.closed) return;
      if (this.engine.failed) void this.restartEngine(e);
      else this.emit('error', e);
    });
  }

  /** Replaces a failed engine (and its LiveSession), keeping the media source and the kiosks. */
  private restartEngine(cause: Error): Promise<void> {
    this.restarting ??= (async () => {
      this.emit('error', new Error(`session ${this.id}: engine failed, restarting: ${cause.message}`, { cause }));
      const old = this.live;
      this.speechLostMs += old.stats().queuedMs;
      await old.close().catch(() => undefined);
      let delay = 500;
      while (!this.closed) {
        try {
          const engine = await startEngine(this.opts);
          if (this.closed) {
            await engine.close();
            return;
          }
          this.install(engine);
          this.restarts += 1;
          this.emit('restarted');
          return;
        } catch (e) {
          this.emit('error', new Error(`session ${this.id}: engine restart failed, retrying in ${delay} ms: ${(e as Error).message}`));
          await new Promise((r) => setTimeout(r, delay));
          delay = Math.min(delay * 2, 30_000);
        }
      }
    })().finally(() => {
      this.restarting = undefined;
    });
    return this.restarting;
  }

  /** A new engine (and LiveSession) behind the same media source, pacer and kiosks: the pts start again. */
  private install(engine: WorkerEngine): void {
    const live = liveSession(engine, this.opts.config);
    this.engine = engine;
    this.live = live;
    this.source.restartClock(live.startMs);
    this.pacer.restart(live.startMs);
    this.interruptedBefore = 0;
    this.wire(live);
    // a new portrait: its face may sit elsewhere in the frame
    const { face, mouth } = engine.info;
    if (JSON.stringify([face, mouth]) !== JSON.stringify([this.layoutInfo.face, this.layoutInfo.mouth])) {
      this.layoutInfo = { ...this.layoutInfo, face, mouth };
      this.emit('layout', this.layoutInfo);
    }
    // a new engine of a session nobody watches waits, like the old one, for a kiosk
    if (!this.watched && this.opts.config.media.pause_unwatched_ms !== null) live.pause();
  }

  /**
   * A new portrait while kiosks watch: the new engine starts beside the running one (a photo it
   * refuses leaves everything as it was: PortraitError), then takes over at the next moment the
   * avatar is at rest with nothing queued (at most `maxWaitMs` later: then what is queued is
   * dropped). The media source, its tracks and the kiosks' connections stay; the picture changes.
   */
  async replacePortrait(portrait: string, maxWaitMs = 30_000): Promise<void> {
    this.assertRunning();
    const engine = await startEngine({ ...this.opts, portrait });
    const { width, height, fps } = engine.info;
    if (width !== this.info.width || height !== this.info.height || fps !== this.info.fps) {
      await engine.close();
      throw new TypeError(`the new portrait renders ${width}x${height} at ${fps} fps, the stream is ${this.info.width}x${this.info.height} at ${this.info.fps}: restart the session instead`);
    }
    const deadline = performance.now() + maxWaitMs;
    while (!this.closed && (this.speaking || this.live.stats().queuedMs > 0 || this.sayQueue.length > 0) && performance.now() < deadline) {
      await new Promise((r) => setTimeout(r, 40));
    }
    if (this.closed || this.restarting) {
      await engine.close();
      this.assertRunning();
    }
    const old = this.live;
    this.opts = { ...this.opts, portrait };
    this.install(engine);
    await old.close().catch(() => undefined);
  }

  /** The voice say() speaks with from the next sentence on (undefined: the providers' own). */
  setVoice(voice: string | undefined): void {
    this.opts = { ...this.opts, voice };
    this.sayQueue.voice = voice;
  }

  private sfu(): SfuRoom {
    if (!this.room) throw new TypeError('this server runs the direct path: use direct:* requests');
    return this.room;
  }

  private kiosk(kioskId: string): KioskState {
    const k = this.kiosks.get(kioskId);
    if (!k) throw new KioskStateError('join first');
    return k;
  }

  private assertRunning(): void {
    if (this.closed) throw new SessionUnavailableError(`session ${this.id} is closed`);
    if (this.restarting) throw new SessionUnavailableError(`session ${this.id} is restarting its engine: retry in a moment`);
  }
}

function startEngine(opts: AvatarSessionOptions): Promise<WorkerEngine> {
  return WorkerEngine.start({
    engineModule: opts.engineModule ?? ENGINE_MODULE,
    engineOptions: opts.engineOptions ?? { portrait: opts.portrait, config: opts.config },
    // live: a worker more than two frames behind the clock passes over frames that would be late
    dropLateAfterMs: 2000 / opts.config.avatar.fps,
  });
}

/** The live session of an engine (at start and after each engine restart): one set of options. */
function liveSession(engine: WorkerEngine, config: Config): LiveSession {
  return new LiveSession(engine, { maxQueuedSeconds: config.limits.max_queued_seconds, leadMs: config.media.speech_lead_ms, clock: () => performance.now() });
}

/**
 * A frame barge-in may show at once: no speech, mouth closed, eyes open. (Not just `!speaking`: the
 * speaking state has hysteresis, so a pause between words can be "not speaking" with the jaw open.)
 */
export function isAtRest(f: AvatarFrame): boolean {
  const p = f.params;
  return !f.speaking && p.jawOpen <= 0.03 && Math.max(p.blinkLeft, p.blinkRight) <= 0.2;
}
