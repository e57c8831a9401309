/**
 * The socket.io protocol between the server and its clients (the kiosk page, TTS sources, tools),
 * shared by both sides. Two namespaces:
 *
 *   /kiosk  watch a session: join, then media set-up for the mode the server runs in
 *           (sfu: mediasoup transport + consumers; direct: one offer/answer), interrupt, stats.
 *   /audio  drive a session with speech: PCM chunks with acknowledgements (backpressure),
 *           segment-end, interrupt; `say` (text, spoken sentence by sentence by the TTS);
 *           `mic` (a live microphone, gated by voice activity).
 *
 * Both authenticate in the handshake: `io(url + '/kiosk', { auth: { token } })`. A token names its
 * session and scopes (server/auth/tokens.ts); the admin key works too, with `auth.session` naming
 * the session. Every request takes an acknowledgement callback whose answer is a Result.
 */
import type { types as msc } from 'mediasoup-client';
import type { NormBox } from '../pipeline/engine/EngineTypes.js';

export type Result<T> = ({ ok: true } & T) | { ok: false; error: string; code: ErrorCode };
export type ErrorCode =
  | 'bad-request' // malformed or out-of-range arguments
  | 'forbidden' // the token lacks the scope
  | 'audio-format' // a chunk that is not valid PCM in the format it claims
  | 'queue-full' // the session's speech queue is full: wait or interrupt
  | 'too-many-kiosks'
  | 'too-many-microphones' // the session hears limits.mics_per_session microphones already
  | 'unavailable' // the session is (re)starting
  | 'not-found' // no such session (admin API)
  | 'conflict' // the session exists, or is being changed (admin API)
  | 'bad-portrait' // a photo without a usable face, not an image, too small (admin API)
  | 'rate-limited' // too many messages, requests or refused credentials: slow down
  | 'internal';

export type MediaMode = 'sfu' | 'direct';

export interface SessionInfo {
  id: string;
  /** the engine behind the session (runtime.engine): portrait or sonic */
  engine: string;
  width: number;
  height: number;
  fps: number;
  /** ms the engine waits for audio past a frame; the audio is delayed by the same */
  lookaheadMs: number;
  /** listen mode: kiosks send their microphone (`listen` on /audio) */
  listen?: boolean;
  /** the face and the mouth in the frame (fractions), when the engine knows: the page keeps them in view and clear of its controls */
  face?: NormBox;
  mouth?: NormBox;
  /** how the page fits the video to its screen: cover (fill, cropping around the face) or contain (all of it, bands beside) */
  fit: 'cover' | 'contain';
}

export interface TransportInfo {
  id: string;
  iceParameters: msc.IceParameters;
  iceCandidates: msc.IceCandidate[];
  dtlsParameters: msc.DtlsParameters;
}

export interface ConsumerInfo {
  id: string;
  producerId: string;
  kind: 'audio' | 'video';
  rtpParameters: msc.RtpParameters;
  /** both consumers share it: the browser lip-syncs tracks of one stream */
  streamId: string;
}

export type JoinResult = Result<{
  mode: MediaMode;
  session: SessionInfo;
  /** what this token may do */
  scopes: string[];
  /** present in sfu mode */
  sfu?: { routerRtpCapabilities: msc.RtpCapabilities; transport: TransportInfo };
}>;

/** What a kiosk reports about what it receives (from RTCPeerConnection.getStats), every few seconds. */
export interface KioskReport {
  framesDecoded: number;
  framesDropped: number;
  /** frames per second decoded over the last report interval */
  fps: number;
  /** audio samples received */
  audioSamples: number;
  /** ms, mean video jitter-buffer delay minus mean audio jitter-buffer delay (positive = video later) */
  avOffsetMs: number | null;
  /** ms the audio waits in the jitter buffer lately (what a voice sent now waits before it is heard); absent from older pages */
  audioDelayMs?: number | null;
  width: number;
  height: number;
}

type Ack<T> = (res: T) => void;

export interface KioskClientToServer {
  join: (req: Record<string, never>, ack: Ack<JoinResult>) => void;
  /** sfu: the kiosk's DTLS parameters for its receive transport */
  'sfu:connect': (req: { dtlsParameters: msc.DtlsParameters }, ack: Ack<Result<object>>) => void;
  /** sfu: consumers for the session's video and audio, created paused */
  'sfu:consume': (req: { rtpCapabilities: msc.RtpCapabilities }, ack: Ack<Result<{ consumers: ConsumerInfo[] }>>) => void;
  /** resumes the consumers of `kind` (default both); the page starts video first, audio once it plays */
  'sfu:resume': (req: { kind?: 'audio' | 'video' }, ack: Ack<Result<object>>) => void;
  /** direct: the server's offer (video + audio in one stream, ICE candidates gathered) */
  'direct:offer': (req: Record<string, never>, ack: Ack<Result<{ sdp: string }>>) => void;
  'direct:answer': (req: { sdp: string }, ack: Ack<Result<object>>) => void;
  /** direct: the audio starts flowing (the page asks once video frames are shown) */
  'direct:start-audio': (req: Record<string, never>, ack: Ack<Result<object>>) => void;
  /** barge-in: the avatar stops speaking and returns to rest */
  interrupt: (req: Record<string, never>, ack: Ack<InterruptResult>) => void;
  report: (report: KioskReport) => void;
}

export interface KioskServerToClient {
  /** the session's media was rebuilt (e.g. after a media worker restart): join again */
  'media-restart': () => void;
  /** captions (sessions with `captions: true`): the sentence being spoken, in step with the voice */
  caption: (c: CaptionEvent) => void;
  /** the session's layout changed (its fit, or a new portrait's face): lay the picture out again */
  layout: (info: SessionInfo) => void;
  /** the operator deleted the session: the kiosk shows so (its connection closes next) */
  'session-ended': (e: { reason: string }) => void;
  /** speaking state of the avatar (for the page's indicator) */
  state: (s: { speaking: boolean; queuedMs: number }) => void;
}

export type PcmEncoding = 's16le' | 'f32le';

export interface ChunkFormat {
  encoding: PcmEncoding;
  /** Hz, 8000..48000 */
  sampleRate: number;
  channels: 1 | 2;
}

export type ChunkResult = Result<{
  /** ms of this chunk taken */
  acceptedMs: number;
  /** ms of speech waiting in the session's queue, this chunk included: senders slow down above ~2 s */
  queuedMs: number;
}>;

export type InterruptResult = Result<{
  /** ms of queued speech dropped */
  droppedMs: number;
  /** sentences of say requests dropped before they were spoken */
  droppedSentences: number;
}>;

export interface SayRequest {
  /** the text; split into sentences, each synthesised and spoken in order */
  text: string;
  /** barge in first (drop what is being said) */
  interrupt?: boolean;
}

export type SayResult = Result<{
  sayId: number;
  /** sentences this text was split into */
  sentences: number;
  /** sentences now waiting in the session's say queue, these included */
  queuedSentences: number;
}>;

export type MicResult = Result<{
  /** the voice-activity gate is open: the host is speaking */
  speech: boolean;
  /** ms of audio handed to the avatar since the previous answer (pre-roll included when the gate opened); the gate analyses behind the answer */
  forwardedMs: number;
  queuedMs: number;
}>;

export type ListenResult = Result<{
  /** the gate is open: the citizen is speaking */
  speech: boolean;
  /** the chunk was taken for the kiosk's own loudspeaker (not the citizen) */
  echo: boolean;
}>;

/** A sentence of a say request reached the avatar. */
export interface SentenceEvent {
  sayId: number;
  index: number;
  count: number;
  /** the sentence's text */
  text: string;
  provider: 'upstream' | 'local';
  audioMs: number;
}

/** The sentence the avatar is speaking now (text), for `durationMs`; text null: no caption (ended, interrupted). */
export interface CaptionEvent {
  text: string | null;
  durationMs: number;
}

export interface AudioClientToServer {
  /** one PCM chunk (bytes: ArrayBuffer / Buffer / Uint8Array), queued as it is */
  chunk: (format: ChunkFormat, pcm: ArrayBuffer | Uint8Array, ack: Ack<ChunkResult>) => void;
  /** one chunk of a live microphone: only what the voice-activity gate (Silero VAD) lets through is queued */
  mic: (format: ChunkFormat, pcm: ArrayBuffer | Uint8Array, ack: Ack<MicResult>) => void;
  /** listen mode (a kiosk token, its session `listen: true`): the citizen's microphone */
  listen: (format: ChunkFormat, pcm: ArrayBuffer | Uint8Array, ack: Ack<ListenResult>) => void;
  /** the utterance ended: its last samples play now (for `mic`: the gate closes) */
  'segment-end': (req: Record<string, never>, ack: Ack<Result<object>>) => void;
  /** text to speak */
  say: (req: SayRequest, ack: Ack<SayResult>) => void;
  interrupt: (req: Record<string, never>, ack: Ack<InterruptResult>) => void;
}

export interface AudioServerToClient {
  /** sent to the session's /audio clients as each sentence of a say request reaches the avatar */
  sentence: (e: SentenceEvent) => void;
}

/** Where the kiosk page is served and the namespaces' names. */
export const KIOSK_PATH = '/kiosk/';
export const KIOSK_NAMESPACE = '/kiosk';
export const AUDIO_NAMESPACE = '/audio';
