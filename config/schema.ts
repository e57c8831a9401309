/**
 * The one configuration of the server and the renderer: a zod schema with defaults and ranges.
 * Parameter names follow the ones users of talking-head tools know (Sonic / ComfyUI):
 * min_resolution, expand_ratio, inference_steps, dynamic_scale, motion_scale, fps, ...
 */
import { fileURLToPath } from 'node:url';
import { isIP } from 'node:net';
import { z } from 'zod';
import { frameSizeFits } from './frame-size.js';

const smoothingSchema = z.strictObject({
  /** One-Euro filter minimum cutoff, Hz: lower = smoother at rest, more lag */
  min_cutoff: z.number().min(0.01).max(50).default(2.0),
  /** One-Euro speed coefficient: higher = less lag on fast motion */
  beta: z.number().min(0).max(10).default(0.3),
  /** cutoff of the derivative filter, Hz */
  d_cutoff: z.number().min(0.01).max(50).default(1.0),
});

export const avatarSchema = z.strictObject({
  /** shorter side of the rendered portrait, pixels (even) */
  min_resolution: z.number().int().min(128).max(1024).multipleOf(2).default(512),
  /**
   * output frame size, pixels (even; both or neither; up to 1080x1920 either way round): the face
   * is placed by `framing` and the frame completed where the photo ends. null: a square of
   * min_resolution cropped around the face by expand_ratio (the Sonic crop)
   */
  width: z.number().int().min(128).max(1920).multipleOf(2).nullable().default(null),
  height: z.number().int().min(128).max(1920).multipleOf(2).nullable().default(null),
  /** where the face goes in a width x height frame: its box's height as a fraction of the frame's, and its centre's height from the top */
  framing: z
    .strictObject({
      face_height: z.number().min(0.05).max(0.9).default(0.3),
      face_centre_y: z.number().min(0.1).max(0.9).default(0.38),
    })
    .default({ face_height: 0.3, face_centre_y: 0.38 }),
  /** fraction of the face box added on each side before cropping the portrait */
  expand_ratio: z.number().min(0).max(2).default(0.5),
  /** output frames per second */
  fps: z.number().int().min(10).max(60).default(25),
  /** diffusion sampler steps (Sonic engine; the portrait engine has no sampler and ignores it) */
  inference_steps: z.number().int().min(1).max(100).default(25),
  /** scale of mouth motion (and Sonic's motion bucket) */
  dynamic_scale: z.number().min(0).max(3).default(1.0),
  /** scale of head motion, blinks' and breathing's amplitude */
  motion_scale: z.number().min(0).max(3).default(1.0),
  /** shift of mouth motion against the audio, ms; positive = the mouth moves later */
  lip_sync_offset_ms: z.number().min(-200).max(200).default(0),
  /**
   * plain audio (no phones from a TTS) shapes the mouth through the mouth recogniser (closures,
   * rounding, spread heard in the audio: pipeline/phonemes/mouth-recogniser.ts); false = loudness
   * and the viseme detector only
   */
  mouth_recogniser: z.boolean().default(true),
  /** audio past a frame's end the engine waits for before rendering it, ms; 0 = only what its analysis needs */
  lookahead_ms: z.number().min(0).max(200).default(0),
  /** motion smoothing (One-Euro filter) on the motion parameters */
  smoothing: smoothingSchema.default({ min_cutoff: 2.0, beta: 0.3, d_cutoff: 1.0 }),
  /** seed of the idle motion (blinks, head motion); same seed = same motion */
  seed: z.number().int().min(0).max(2 ** 31 - 1).default(1),
});

export const encoderSchema = z.strictObject({
  /** libx264 preset */
  x264_preset: z.enum(['ultrafast', 'superfast', 'veryfast', 'faster', 'fast', 'medium', 'slow']).default('veryfast'),
  /** libx264 constant rate factor (lower = better) */
  crf: z.number().int().min(0).max(51).default(23),
  /** AAC bit rate, bits per second */
  audio_bitrate: z.number().int().min(32_000).max(320_000).default(128_000),
});

export const runtimeSchema = z.strictObject({
  /** engine behind the pipeline */
  engine: z.enum(['portrait', 'sonic']).default('portrait'),
  /** ONNX Runtime intra-op threads of the engine's sessions */
  intra_op_threads: z.number().int().min(1).max(64).default(1),
  /** directory of cached portrait enrolments */
  cache_dir: z.string().min(1).default('.cache/portraits'),
  /** where sessions created, changed or deleted at run time are kept (their portraits too) */
  sessions_dir: z.string().min(1).default('.cache/sessions'),
});

export const serverSchema = z.strictObject({
  /** bind address of HTTP + socket.io; loopback by default, nothing listens beyond what this says */
  host: z.string().min(1).default('127.0.0.1'),
  /**
   * addresses of reverse proxies in front of the server (deploy/cluster/nginx.conf): their
   * X-Forwarded-For names the client, so per-address limits apply to each client, not to the
   * proxy. Empty: the header is ignored (a client cannot choose its address).
   */
  trust_proxy: z.array(z.string().refine((a) => isIP(a) !== 0, { message: 'an IP address' })).max(64).default([]),
  port: z.number().int().min(0).max(65535).default(8080),
  /** the address kiosks use to reach the server, for the printed kiosk URLs (default http(s)://host:port) */
  public_url: z.string().url().nullable().default(null),
  /**
   * HTTPS (and WSS for socket.io) with this certificate and key (PEM files); null = plain HTTP.
   * Browsers allow the microphone (host kiosks) only over HTTPS or on localhost.
   */
  tls: z.strictObject({ cert_file: z.string().min(1), key_file: z.string().min(1) }).nullable().default(null),
});

export const mediaSchema = z.strictObject({
  /**
   * How media reaches kiosks. sfu: through a mediasoup router (one encode per session, any number
   * of kiosks); direct: one wrtc peer connection per kiosk (one encode per kiosk); auto: sfu when a
   * mediasoup worker binary is present, else direct.
   */
  mode: z.enum(['auto', 'sfu', 'direct']).default('auto'),
  /** IP the WebRTC (ICE) sockets listen on; null = server.host (0.0.0.0 = every interface) */
  listen_ip: z.string().min(1).nullable().default(null),
  /** IP put in ICE candidates when listen_ip is 0.0.0.0; null = the first LAN address */
  announced_ip: z.string().min(1).nullable().default(null),
  /** UDP/TCP ports of the SFU's WebRTC transports (inclusive) */
  rtc_min_port: z.number().int().min(1024).max(65535).default(40000),
  rtc_max_port: z.number().int().min(1024).max(65535).default(40999),
  /**
   * ms added to a frame's own readiness (its window + the engine's lookahead, less the speech lead)
   * and to a 10 ms audio chunk's (its end + a timeline tick) before frame and audio are sent on a
   * steady clock; covers render and scheduling time. Lower = less latency, more late items (late
   * audio leaves at once, late frames too, or are dropped when a newer one is due). See
   * server/media/media-pacer.ts. 15 since 2026-12-05 (was 25): speech posted -> audio heard 10 ms
   * sooner, and the edge bench still holds 8-9 sessions at 512x512 on 2 cores.
   */
  pacing_margin_ms: z.number().min(0).max(500).default(15),
  /**
   * ms of queued speech the engine takes ahead of the wall clock: speech that is queued is known
   * before it plays, so its frames are rendered this much sooner, and frames and audio can leave
   * sooner (server/media/media-pacer.ts). Silence is never taken ahead (speech arriving while idle
   * starts at once). A barge-in drops the frames rendered from it. 0 = off.
   */
  speech_lead_ms: z.number().min(0).max(200).default(40),
  /**
   * ms frames are sent after the audio they show, on top of half a frame (a frame shows the mouth
   * of its whole interval, so it belongs at the interval's middle). Positive = video later. The
   * kiosk's browser lines the two streams up by when the router sent them (mediasoup's sender
   * reports), so this offset is what the kiosk shows; a loudspeaker whose latency the browser does
   * not see (Bluetooth, some HDMI screens) needs more: measure at the kiosk (npm run bench,
   * streaming section) and set it here. The default is what headless Chromium needs on the
   * development machine with the audio measured on the video element's own path (2026-12-05,
   * bench/streaming.ts, 12 bursts a run; mouth onset - audio onset, run means): x264 SFU at 70 ms
   * in all +25 to +54 (the mouth late), at 30: -2; direct (wrtc) at 50: +31, at 30: -19. Until
   * 2026-12-05 it was 30 (+20 more for the x264 publisher), calibrated on a Web Audio tap that
   * reads the audio 22-38 ms late; 15 until late on 2026-12-05, when the Opus packets began to
   * leave in the pacer's own tick (server/media/opus-encoder.ts): with less jitter the browser no
   * longer holds the voice back for frames that leave closer to it, and at 5 the mouth is seen
   * 5-15 ms sooner (SFU, six runs: means -7 to +2 ms; direct, four: -10 to +3).
   * It does not slow barge-in (the browser shows the frame at rest when it plays the audio sent
   * with it); it adds to the mouth's glass-to-glass latency.
   */
  video_delay_ms: z.number().min(-200).max(500).default(5),
  /**
   * how the SFU path encodes a session (once, for all its kiosks):
   * x264: H.264 (constrained baseline, x264 zerolatency, through FFmpeg) + Opus (libopus in
   *   WebAssembly, in the pacer's tick: server/media/opus-encoder.ts), handed to the
   *   router in-process (a mediasoup DirectTransport): the least CPU per session, no UDP socket of
   *   its own; every current browser decodes it (Chromium, Safari, Android WebView; Firefox
   *   through its OpenH264 plug-in, which it downloads: give offline Firefox kiosks wrtc).
   * wrtc: VP8 + Opus through node-webrtc over a loopback WebRTC connection to the router.
   * The direct path (media.mode direct) always uses wrtc.
   */
  encoder: z.enum(['x264', 'wrtc']).default('x264'),
  /**
   * x264's speed preset for the live stream (faster = less CPU, more bits for the same picture).
   * Measured on one speaking 512x512 session (2026-12-05, 2-vCPU EPYC): veryfast 2.6 ms a frame,
   * 270 kbit/s; superfast 1.9 ms, 390 kbit/s; ultrafast 1.8 ms, 640 kbit/s.
   */
  x264_preset: z.enum(['ultrafast', 'superfast', 'veryfast', 'faster', 'fast', 'medium']).default('superfast'),
  /** video bit rate ceiling, kbit/s */
  video_max_kbps: z.number().int().min(100).max(20_000).default(1500),
  /** kiosks that may watch one session at once */
  max_kiosks_per_session: z.number().int().min(1).max(1000).default(50),
  /**
   * ms after its last kiosk (or cluster relay) left that a session stops rendering and encoding:
   * its speech queue plays on and time passes, at almost no CPU; the next kiosk that joins gets a
   * picture after the engine's window and lookahead. null: sessions always render.
   */
  pause_unwatched_ms: z.number().int().min(0).max(3_600_000).nullable().default(5000),
});

export const authSchema = z.strictObject({
  /** file with the secret that signs kiosk tokens; created (random, mode 0600) when missing */
  secret_file: z.string().min(1).default('.cache/auth/secret'),
  /** file with the admin key (management calls); created (random, mode 0600) when missing */
  admin_key_file: z.string().min(1).default('.cache/auth/admin-key'),
  /** lifetime of the tokens POST /api/tokens mints when the request names none, days */
  kiosk_token_days: z.number().min(0.001).max(3650).default(365),
  /** lifetime of the links printed at start (on a terminal only: never into a log), hours */
  start_link_hours: z.number().min(0.1).max(720).default(12),
  /** named kiosk tokens (POST /api/tokens with a name, the console's kiosks); mode 0600 */
  tokens_file: z.string().min(1).default('.cache/auth/tokens.json'),
  /** lifetime of an operator console sign-in (its cookie), minutes */
  console_session_minutes: z.number().min(1).max(24 * 60).default(60),
  /** the audit log of admin actions (JSON lines, mode 0600) */
  audit_file: z.string().min(1).default('.cache/audit/admin.log'),
  /** bytes of the audit log before it is rotated; auth.audit_keep older files are kept */
  audit_max_bytes: z.number().int().min(1024).max(1 << 30).default(1 << 20),
  audit_keep: z.number().int().min(1).max(100).default(5),
  /** file of revoked token ids (POST /api/tokens/revoke); created when the first is revoked */
  revoked_file: z.string().min(1).default('.cache/auth/revoked.json'),
});

export const limitsSchema = z.strictObject({
  /** bytes of one uploaded audio file */
  audio_upload_bytes: z.number().int().min(1024).max(256 << 20).default(16 << 20),
  /** seconds of speech that may wait in a session's queue (chunks and files together) */
  max_queued_seconds: z.number().min(1).max(600).default(60),
  /** HTTP requests per minute from one address (429 past it) */
  http_requests_per_minute: z.number().int().min(10).max(1_000_000).default(1200),
  /** refused credentials per minute from one address before it is refused everything for the rest of the minute */
  auth_failures_per_minute: z.number().int().min(1).max(10_000).default(20),
  /** socket.io messages per second from one connection (bursts of twice as many pass); past it: 'rate-limited' */
  socket_messages_per_second: z.number().int().min(5).max(10_000).default(200),
  /**
   * interrupts per second a session takes, from every kiosk, source and admin together (bursts of
   * twice as many pass); past it: 'rate-limited' (the face is already at rest: nothing is lost)
   */
  interrupts_per_second: z.number().min(0.1).max(100).default(2),
  /** new socket.io connections per minute from one address (bursts of as many); past it: refused at the handshake */
  socket_connections_per_minute: z.number().int().min(10).max(100_000).default(120),
  /** live /kiosk connections one token may hold (a kiosk reloading holds two for a moment); past it: refused */
  kiosks_per_token: z.number().int().min(1).max(1000).default(3),
  /** live /audio connections one token may hold (a TTS source or a host microphone); past it: refused */
  audio_connections_per_token: z.number().int().min(1).max(1000).default(4),
  /**
   * microphones (/audio `mic` streams) one session hears at once; each runs a voice-activity gate.
   * A further one is refused ('too-many-microphones') until one disconnects
   */
  mics_per_session: z.number().int().min(1).max(100).default(2),
  /** kiosk microphones in listen mode one session hears at once (each runs a voice-activity gate); past it 'too-many-microphones' */
  listeners_per_session: z.number().int().min(1).max(100).default(4),
});

export const voiceSchema = z.strictObject({
  /**
   * An upstream TTS service on the LAN or the WAN. The server POSTs JSON `{ text, voice }` and reads
   * the answer as it streams: audio/wav, or raw s16le mono as audio/L16 or audio/pcm with a `rate`
   * parameter, or application/json with the audio and the phones spoken (server/voice/upstream-json.ts).
   * null = local speech only.
   */
  upstream: z
    .strictObject({
      url: z.string().url().nullable().default(null),
      /** voice name passed to the service (null = its default) */
      voice: z.string().min(1).max(100).nullable().default(null),
      /** Authorization header value sent with each request (null = none) */
      authorization: z.string().min(1).nullable().default(null),
      /**
       * ms the watchdog waits for the first audio byte of a sentence, and between bytes after
       * that: past it, the sentence (and those after) go to the local engine. Keep it under
       * ~900 ms so speech switches within 1 s.
       */
      timeout_ms: z.number().int().min(50).max(30_000).default(700),
      /** ms between health probes (a short synthesis) while the upstream is down */
      probe_interval_ms: z.number().int().min(100).max(600_000).default(2000),
      /**
       * the service's dialect: "native" (POST { text, voice }) or "openai" (POST /v1/audio/speech
       * { model, input, voice, response_format }, as many local TTS servers speak it)
       */
      protocol: z.enum(['native', 'openai']).default('native'),
      /** openai dialect: the model asked for */
      model: z.string().min(1).max(100).default('tts-1'),
      /** openai dialect: "wav", or "pcm" (raw s16le mono at 24 kHz) */
      response_format: z.enum(['wav', 'pcm']).default('wav'),
    })
    .default({ url: null, voice: null, authorization: null, timeout_ms: 700, probe_interval_ms: 2000, protocol: 'native', model: 'tts-1', response_format: 'wav' }),
  /** the local engine that always works offline: espeak-ng (Debian package), one process per sentence */
  local: z
    .strictObject({
      command: z.string().min(1).default('espeak-ng'),
      /** espeak-ng voice (-v), e.g. en-us, en-gb, de, fr, cmn */
      voice: z.string().regex(/^[A-Za-z0-9_+-]{1,40}$/, 'an espeak-ng voice name such as en-us').default('en-us'),
      /** words per minute (-s) */
      rate_wpm: z.number().int().min(80).max(450).default(165),
      /** ms one sentence may take before the process is killed */
      timeout_ms: z.number().int().min(100).max(60_000).default(5000),
    })
    .default({ command: 'espeak-ng', voice: 'en-us', rate_wpm: 165, timeout_ms: 5000 }),
  /** sentences that may wait in a session's say queue */
  max_sentences: z.number().int().min(1).max(10_000).default(200),
  /** characters of one say request */
  max_text_chars: z.number().int().min(1).max(100_000).default(5000),
  /** a longer sentence is cut at a comma or a space */
  sentence_max_chars: z.number().int().min(20).max(2000).default(250),
  /** sentences synthesised ahead of the one being queued for the avatar */
  prefetch_sentences: z.number().int().min(0).max(8).default(2),
  /** speech (ms) a session's timeline may hold before the say queue waits to hand over more */
  ahead_ms: z.number().int().min(500).max(60_000).default(8000),
  /** microphone input: Silero voice activity decides what reaches the avatar */
  vad: z
    .strictObject({
      /** probability above which a 32 ms frame is speech */
      threshold: z.number().min(0.05).max(0.99).default(0.5),
      /** ms of speech before the gate opens (shorter blips are ignored) */
      min_speech_ms: z.number().int().min(0).max(1000).default(64),
      /** ms of non-speech after which the gate closes and the utterance ends */
      hangover_ms: z.number().int().min(0).max(5000).default(400),
      /** ms of audio before the opening kept and sent with it (the start of the first word) */
      preroll_ms: z.number().int().min(0).max(1000).default(200),
    })
    .default({ threshold: 0.5, min_speech_ms: 64, hangover_ms: 400, preroll_ms: 200 }),
});

/** The Sonic engine (runtime.engine "sonic"): its ONNX export, windows, guidance and execution providers. */
export const sonicSchema = z
  .strictObject({
    /** folder of the ONNX export and its manifest.json (models/sonic/export/); never in the repository */
    weights_dir: z.string().min(1).default('models/sonic/weights'),
    /** npm run render and batch jobs: offline (whole clip, windows shifted every step, as the reference) or streaming */
    render_mode: z.enum(['offline', 'streaming']).default('offline'),
    /** offline windows, generated frames (12.5 fps): 25 = 2 s, as the reference (n_sample_frames) */
    window_frames: z.number().int().min(2).max(64).default(25),
    /** offline: frames neighbouring windows share (sonic.yaml overlap: 0; shared frames are averaged) */
    overlap_frames: z.number().int().min(0).max(32).default(0),
    /** offline: frames the windows move back at every sampler step (sonic.yaml shift_offset) */
    shift_offset: z.number().int().min(0).max(64).default(7),
    /**
     * streaming (the live server): causal windows, 25 generated frames as Sonic always runs; a
     * window makes window - overlap new frames and must compute in less than their duration
     * (hop / 12.5 s) to keep up: latency = window / 12.5 fps + 0.52 s audio lookahead + compute
     */
    stream_window_frames: z.number().int().min(2).max(64).default(25),
    stream_overlap_frames: z.number().int().min(0).max(32).default(5),
    /** three-way guidance: image (2.0) and audio (7.5) scales */
    image_guidance: z.number().min(0).max(20).default(2.0),
    audio_guidance: z.number().min(0).max(20).default(7.5),
    /** noise added to the portrait before the VAE encodes its image condition (sonic.yaml noise_aug_strength: 0) */
    noise_aug_strength: z.number().min(0).max(1).default(0),
    /** frames the VAE decodes per run (memory against speed) */
    decode_chunk_frames: z.number().int().min(1).max(64).default(8),
    /** execution providers, tried in this order (onnxruntime-node does not fall back by itself) */
    providers: z.array(z.enum(['tensorrt', 'cuda', 'cpu'])).min(1).default(['tensorrt', 'cuda', 'cpu']),
    /** FP16 kernels on TensorRT */
    fp16: z.boolean().default(true),
    /** TensorRT engine cache: the first start builds engines (minutes), later starts load them */
    trt_cache_dir: z.string().min(1).default('.cache/sonic-trt'),
    device_id: z.number().int().min(0).max(15).default(0),
  })
  .refine((s) => s.overlap_frames < s.window_frames, { message: 'overlap_frames must be less than window_frames', path: ['overlap_frames'] })
  .refine((s) => s.stream_overlap_frames < s.stream_window_frames, { message: 'stream_overlap_frames must be less than stream_window_frames', path: ['stream_overlap_frames'] });

export const jobsSchema = z.strictObject({
  /**
   * Folder of the batch jobs: one sub-folder per job with its inputs, its MP4 and its log. With
   * queue "redis" and workers on several machines it must be storage they all share (NFS, ...).
   */
  dir: z.string().min(1).default('.cache/jobs'),
  /** embedded: jobs kept in `dir`, run by this server, survive restarts; redis: BullMQ, workers anywhere */
  queue: z.enum(['embedded', 'redis']).default('embedded'),
  /** with queue "redis" */
  redis_url: z.string().url().nullable().default(null),
  /** jobs this process renders at once (0: none; with redis, workers started by npm run jobs:worker render) */
  concurrency: z.number().int().min(0).max(64).default(1),
  /**
   * niceness of the render processes (0..19): live sessions come first, a render takes the CPU the
   * live streams leave (0: same priority as the server)
   */
  render_nice: z.number().int().min(0).max(19).default(10),
  /**
   * render processes run under SCHED_IDLE (chrt --idle 0) as well: they get a core only when no live
   * session wants it, so a render never delays a frame; on a box the live sessions keep busy, jobs
   * wait (and may reach jobs.timeout_sec). false: nice alone
   */
  render_idle: z.boolean().default(true),
  /** seconds a job may run before its render process is killed and the job fails */
  timeout_sec: z.number().min(1).max(86_400).default(900),
  /** jobs waiting at once; more are refused (429) */
  max_queued: z.number().int().min(1).max(100_000).default(100),
  /** bytes of an uploaded portrait */
  portrait_upload_bytes: z.number().int().min(1024).max(64 << 20).default(10 << 20),
});

/**
 * Several nodes as one service (server/cluster/): each node runs its own sessions (their engines)
 * and serves kiosks of every session in the cluster; a kiosk on another node than its session's
 * gets the stream through a mediasoup pipe transport between the two nodes. Signalling events
 * reach kiosks on every node through socket.io's Redis adapter. null redis_url = one node alone.
 * Every node must share auth.secret_file and auth.admin_key_file (same contents).
 */
export const clusterSchema = z.strictObject({
  /** Redis of the cluster (LAN); null = this node is alone */
  redis_url: z.string().url().nullable().default(null),
  /** this node's name in the cluster (unique); null = host name and port */
  node_id: z.string().regex(/^[A-Za-z0-9._:-]{1,64}$/).nullable().default(null),
  /** URL the other nodes reach this node's HTTP API at; null = the URL it listens on */
  internal_url: z.string().url().nullable().default(null),
  /** IP of the pipe transports between nodes; null = media.listen_ip (announced as media.announced_ip) */
  pipe_ip: z.string().min(1).nullable().default(null),
  /** Redis key prefix (several clusters may share one Redis) */
  prefix: z.string().regex(/^[A-Za-z0-9._:-]{1,64}$/).default('kiosk-avatar'),
  /** seconds a node's sessions stay listed after it last said they run (it says so every ttl/3) */
  session_ttl_sec: z.number().int().min(3).max(300).default(15),
  /** ms an edge keeps a relay (and its pipe) open after its last kiosk left */
  relay_idle_ms: z.number().int().min(0).max(600_000).default(10_000),
});

/** A session id: lower-case letters, digits and dashes (it appears in URLs and metric labels). */
export const SESSION_ID = /^[a-z0-9][a-z0-9-]{0,31}$/;

export const sessionSchema = z.strictObject({
  id: z.string().regex(SESSION_ID, 'must be 1-32 of a-z, 0-9 and -, starting with a letter or digit'),
  /** portrait photo (PNG or JPEG); relative paths are taken from the current directory */
  portrait: z.string().min(1),
  /** what operators call it ("Hall A reception"); the id when absent */
  name: z.string().trim().min(1).max(80).optional(),
  /** the voice say() speaks with (the local engine's voice name, also sent to the upstream TTS); voice.local.voice when absent */
  voice: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_+\-]{0,39}$/, 'a voice name: letters, digits, _, + and -').optional(),
  /** the preset of this session's engine; the server's when absent */
  preset: z.enum(['fast', 'quality']).optional(),
  /** kiosks show the sentence being spoken (say requests; plain audio has no text), in large type below the face; on by default with listen */
  captions: z.boolean().optional(),
  /** listen mode: kiosks send their microphone; speaking over the avatar stops it, each utterance goes to the agent (agent.url) */
  listen: z.boolean().optional(),
  /** how kiosks fit the picture to their screen: cover (fills it, cropped around the face; the default) or contain (all of it, bands beside) */
  fit: z.enum(['cover', 'contain']).optional(),
});
export type SessionSpec = z.infer<typeof sessionSchema>;

/** The embedded portrait (public domain), by absolute path so the server may start from any directory. */
export const DEFAULT_PORTRAIT = fileURLToPath(new URL('../models/portraits/default.png', import.meta.url));

/** The agent that answers what citizens say at kiosks in listen mode (sessions with `listen: true`). */
export const agentSchema = z.strictObject({
  /** POST each utterance here (WAV); null: no agent, utterances only interrupt */
  url: z.string().url().nullable().default(null),
  /** Authorization header value sent with each request (null = none) */
  authorization: z.string().min(1).nullable().default(null),
  /** ms for the answer's first byte, and between bytes after it */
  timeout_ms: z.number().int().min(100).max(120_000).default(8000),
  /** ms for the whole answer */
  total_timeout_ms: z.number().int().min(100).max(600_000).default(30_000),
  /** what the avatar says when the agent cannot answer (unreachable, an error, too slow) */
  fallback_text: z.string().min(1).max(500).default('Sorry, I cannot answer right now. Please ask at the counter.'),
});

export const configSchema = z.strictObject({
  preset: z.enum(['fast', 'quality']).default('fast'),
  agent: agentSchema.default(agentSchema.parse({})),
  avatar: avatarSchema.default(avatarSchema.parse({})),
  encoder: encoderSchema.default(encoderSchema.parse({})),
  runtime: runtimeSchema.default(runtimeSchema.parse({})),
  server: serverSchema.default(serverSchema.parse({})),
  media: mediaSchema.default(mediaSchema.parse({})),
  auth: authSchema.default(authSchema.parse({})),
  limits: limitsSchema.default(limitsSchema.parse({})),
  voice: voiceSchema.default(voiceSchema.parse({})),
  jobs: jobsSchema.default(jobsSchema.parse({})),
  sonic: sonicSchema.default(sonicSchema.parse({})),
  cluster: clusterSchema.default(clusterSchema.parse({})),
  /**
   * the avatar sessions the server runs; each is one portrait + one engine + one outgoing stream.
   * A cluster node may run none (an edge that only serves kiosks).
   */
  sessions: z
    .array(sessionSchema)
    .max(64)
    .default([{ id: 'default', portrait: DEFAULT_PORTRAIT }])
    .refine((list) => new Set(list.map((s) => s.id)).size === list.length, 'session ids must be unique'),
}).refine((c) => c.media.rtc_min_port <= c.media.rtc_max_port, {
  message: 'rtc_min_port must not exceed rtc_max_port',
  path: ['media', 'rtc_min_port'],
}).refine((c) => c.sessions.length > 0 || c.cluster.redis_url !== null, {
  message: 'at least one session (only a cluster node, cluster.redis_url set, may run none)',
  path: ['sessions'],
}).refine((c) => (c.avatar.width === null) === (c.avatar.height === null), {
  message: 'set both avatar.width and avatar.height (or neither: a square of min_resolution)',
  path: ['avatar', 'width'],
}).refine((c) => c.avatar.width === null || c.avatar.height === null || frameSizeFits(c.avatar.width, c.avatar.height), {
  message: 'at most 1080x1920 (or 1920x1080)',
  path: ['avatar', 'width'],
}).refine((c) => c.cluster.redis_url === null || c.media.mode !== 'direct', {
  message: 'a cluster node needs the sfu path (kiosks on other nodes get the stream through mediasoup pipe transports)',
  path: ['media', 'mode'],
});

export type Config = z.infer<typeof configSchema>;
export type AvatarConfig = Config['avatar'];
export type EncoderConfig = Config['encoder'];
export type PresetName = Config['preset'];
export type VoiceConfig = Config['voice'];
export type JobsConfig = Config['jobs'];
export type SonicConfig = Config['sonic'];
export type ClusterConfig = Config['cluster'];
