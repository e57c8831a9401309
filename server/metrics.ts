/**
 * /metrics in Prometheus text format. Gauges are filled at scrape time from the sessions' own
 * stats (collect callbacks), so the media path keeps no metric state of its own. Names carry the
 * unit; every per-session series has a `session` label.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { MediaMode } from './protocol.js';
import type { SessionRegistry } from './session/session-registry.js';
import type { TtsRouter } from './voice/tts-router.js';
import type { AgentStatus } from './voice/agent.js';
import type { JobQueue } from './jobs/job-queue.js';
import type { KioskReport } from './protocol.js';

/** A session of another cluster node that kiosks here watch (server/cluster/remote-session.ts). */
export interface RelayedSession {
  id: string;
  origin: string;
  kioskCount: number;
  kioskReports(): KioskReport[];
}

export interface ServerMetrics {
  registry: Registry;
  /** counts refused socket.io / HTTP credentials */
  authRefused: Counter<'channel'>;
  /**
   * listen mode, ms from the end of a citizen's utterance at the server: part="agent" until the
   * agent's answer (its first sentence) is here, part="total" until that answer's first audio leaves
   * the server (the kiosk's jitter buffer and playout come on top)
   */
  answerMs: Histogram<'part'>;
  bargeInMs: Histogram;
}

export function createMetrics(sessions: SessionRegistry, mode: () => MediaMode, tts: TtsRouter, jobs: JobQueue, relays: () => RelayedSession[] = () => [], agent?: () => AgentStatus): ServerMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'avatar_' });

  type Session = ReturnType<SessionRegistry['all']>[number];
  type Read<L extends string> = (s: Session, set: (labels: Record<L, string>, v: number) => void) => void;
  /** A gauge read from the sessions at scrape time. */
  const perSession = <L extends string>(name: string, help: string, read: Read<L>, labels: L[] = []) =>
    new Gauge({
      name,
      help,
      labelNames: ['session', ...labels],
      registers: [registry],
      collect() {
        this.reset();
        for (const s of sessions.all()) read(s, (l, v) => this.set({ session: s.id, ...l }, v));
      },
    });
  /** A counter whose running total the session keeps; copied at scrape time. */
  const perSessionCount = <L extends string>(name: string, help: string, read: Read<L>, labels: L[] = []) =>
    new Counter({
      name,
      help,
      labelNames: ['session', ...labels],
      registers: [registry],
      collect() {
        this.reset();
        for (const s of sessions.all()) read(s, (l, v) => this.inc({ session: s.id, ...l }, v));
      },
    });

  new Gauge({
    name: 'avatar_sessions',
    help: 'Avatar sessions running, by media mode',
    labelNames: ['mode'],
    registers: [registry],
    collect() {
      this.reset();
      this.set({ mode: mode() }, sessions.all().length);
    },
  });
  perSession('avatar_kiosks', 'Kiosks watching the session', (s, set) => set({}, s.kioskCount));
  perSession('avatar_fps_sent', 'Frames per second sent to the encoder over the last 2 s', (s, set) => set({}, s.stats().media.fps));
  perSessionCount('avatar_frames_sent_total', 'Frames sent to the encoder since the session started', (s, set) => set({}, s.stats().media.framesSent));
  perSessionCount('avatar_frames_dropped_total', 'Rendered frames dropped because the sender fell behind', (s, set) => set({}, s.stats().engineFramesDropped));
  perSession(
    'avatar_stage_ms',
    'Per-stage time, ms: engine (features + motion + render per frame, average), send (hand-off to the encoder, last), encode (a frame in x264, thread pool wait included, average of the last 100; the x264 encoder only), frame_latency (a frame\'s audio end to sending it, last), interrupt_to_rest (barge-in request to the first frame at rest sent, last)',
    (s, set) => {
      const st = s.stats();
      set({ stage: 'engine' }, st.engineMsAvg);
      set({ stage: 'send' }, st.media.sendMsLast);
      if (st.encoder) set({ stage: 'encode' }, st.encoder.videoEncodeMs);
      set({ stage: 'frame_latency' }, st.media.frameLatencyMs);
      set({ stage: 'interrupt_to_rest' }, st.interruptToRestMs);
    },
    ['stage'],
  );
  perSession('avatar_speech_queued_ms', 'Speech waiting in the session queue, ms', (s, set) => set({}, s.queuedMs));
  perSession(
    'avatar_audio_chunks_total',
    'Audio chunks taken or refused',
    (s, set) => {
      const st = s.stats();
      set({ result: 'accepted' }, st.chunksAccepted);
      set({ result: 'refused' }, st.chunksRefused);
    },
    ['result'],
  );
  perSessionCount('avatar_engine_restarts_total', 'Engine restarts after a failure', (s, set) => set({}, s.stats().engineRestarts));
  perSession('avatar_rendering', '1 while the session renders and sends video, 0 while nobody watches it (media.pause_unwatched_ms)', (s, set) => set({}, s.stats().rendering ? 1 : 0));
  perSession(
    'avatar_kiosk_fps',
    'Frames per second decoded, as kiosks report it (min and max over the kiosks)',
    (s, set) => {
      const fps = s.stats().kioskReports.map((r) => r.fps);
      if (fps.length === 0) return;
      set({ stat: 'min' }, Math.min(...fps));
      set({ stat: 'max' }, Math.max(...fps));
    },
    ['stat'],
  );
  perSession(
    'avatar_kiosk_frames_dropped',
    'Frames the kiosks\' decoders dropped (sum over kiosks)',
    (s, set) => set({}, s.stats().kioskReports.reduce((a, r) => a + r.framesDropped, 0)),
  );
  perSession(
    'avatar_av_offset_ms',
    'Video playout delay minus audio playout delay as kiosks report it, ms (mean over kiosks; positive = video later)',
    (s, set) => {
      const xs = s.stats().kioskReports.map((r) => r.avOffsetMs).filter((x): x is number => x !== null);
      if (xs.length > 0) set({}, xs.reduce((a, b) => a + b, 0) / xs.length);
    },
  );

  // cluster: kiosks here that watch another node's session (its own metrics are on that node)
  new Gauge({
    name: 'avatar_relay_kiosks',
    help: 'Kiosks on this node watching a session that another node runs (relayed over a pipe transport)',
    labelNames: ['session', 'origin'],
    registers: [registry],
    collect() {
      this.reset();
      for (const r of relays()) this.set({ session: r.id, origin: r.origin }, r.kioskCount);
    },
  });
  new Gauge({
    name: 'avatar_relay_kiosk_fps',
    help: 'Frames per second decoded by kiosks on this node watching another node\'s session, as they report it (min and max)',
    labelNames: ['session', 'stat'],
    registers: [registry],
    collect() {
      this.reset();
      for (const r of relays()) {
        const fps = r.kioskReports().map((k) => k.fps);
        if (fps.length === 0) continue;
        this.set({ session: r.id, stat: 'min' }, Math.min(...fps));
        this.set({ session: r.id, stat: 'max' }, Math.max(...fps));
      }
    },
  });

  new Gauge({
    name: 'avatar_tts_active',
    help: 'The TTS provider new sentences go to (1 = active): upstream, or local (espeak-ng) when the upstream is down or not configured',
    labelNames: ['provider'],
    registers: [registry],
    collect() {
      this.set({ provider: 'upstream' }, tts.active === 'upstream' ? 1 : 0);
      this.set({ provider: 'local' }, tts.active === 'local' ? 1 : 0);
    },
  });
  const ttsCount = (name: string, help: string, read: () => Record<string, number>) =>
    new Counter({
      name,
      help,
      labelNames: ['provider'],
      registers: [registry],
      collect() {
        this.reset();
        for (const [provider, v] of Object.entries(read())) this.inc({ provider }, v);
      },
    });
  ttsCount('avatar_tts_sentences_total', 'Sentences synthesised, by provider', () => tts.counts.sentences);
  ttsCount('avatar_tts_failures_total', 'Sentences a provider failed to synthesise (upstream failures fall back to local)', () => tts.counts.failures);
  ttsCount('avatar_tts_switches_total', 'Watchdog switches, by the provider switched to', () => tts.counts.switches);
  if (agent) {
    new Gauge({
      name: 'avatar_agent_up',
      help: 'The listen-mode agent (agent.url) answered its last question (1), failed it (0); -1 before the first',
      registers: [registry],
      collect() {
        const up = agent().up;
        this.set(up === null ? -1 : up ? 1 : 0);
      },
    });
    new Counter({
      name: 'avatar_agent_answers_total',
      help: 'Utterances the agent answered (result=ok) or did not (result=failed: the fallback sentence was spoken)',
      labelNames: ['result'],
      registers: [registry],
      collect() {
        this.reset();
        const s = agent();
        this.inc({ result: 'ok' }, s.answered);
        this.inc({ result: 'failed' }, s.failed);
      },
    });
  }
  perSession('avatar_say_sentences_waiting', 'Sentences of say requests not yet handed to the avatar', (s, set) => set({}, s.sayQueue.length));

  new Gauge({
    name: 'avatar_jobs',
    help: 'Batch video jobs by state (all workers, from the job store), and running in this process',
    labelNames: ['state'],
    registers: [registry],
    async collect() {
      this.reset();
      const st = await jobs.stats();
      for (const [state, n] of Object.entries(st.states)) this.set({ state }, n);
      this.set({ state: 'running_here' }, st.runningHere);
    },
  });

  const authRefused = new Counter({ name: 'avatar_auth_refused_total', help: 'Refused credentials', labelNames: ['channel'], registers: [registry] });
  const answerMs = new Histogram({
    name: 'avatar_answer_ms',
    help: 'Listen mode: the agent\'s own time, from the request to its answer (part=agent); ms from the end of the citizen\'s speech at the server (the gate closes a hangover later) to the first audio of the answer leaving the server (part=total) and out of the kiosks\' jitter buffers (part=kiosk: total plus the audio delay the kiosks report)',
    labelNames: ['part'],
    buckets: [100, 200, 300, 500, 750, 1000, 1500, 2000, 3000, 5000, 8000, 15000],
    registers: [registry],
  });
  const bargeInMs = new Histogram({
    name: 'avatar_barge_in_ms',
    help: 'Listen mode: ms from the citizen\'s speech onset at the server (the first speech frame of the run that opened the gate) to the interrupt',
    buckets: [25, 50, 75, 100, 150, 200, 250, 350, 500, 1000],
    registers: [registry],
  });
  return { registry, authRefused, answerMs, bargeInMs };
}
