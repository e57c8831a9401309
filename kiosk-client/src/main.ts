/**
 * The kiosk page. Reads its token from the URL (#token=...), joins the session over socket.io,
 * receives the avatar over WebRTC (SFU or direct, whichever the server runs) and shows it.
 *
 * States (body[data-state]): connecting -> live; offline while the server is unreachable (the
 * socket reconnects by itself, every <= 1 s); error when the token is refused (retried every 5 s,
 * a server restart with the same secret lets it back). The media is set up afresh on every
 * (re)connection, after a media failure and when the server says its media restarted.
 *
 * window.kiosk exposes the state and stats for diagnostics and the end-to-end tests.
 */
import type { JoinResult, SessionInfo } from '../../server/protocol.js';
import { layout, type Layout } from './layout.js';
import { startDirectReceiver } from './direct-receiver.js';
import { MicSender } from './mic.js';
import { SayClient } from './say.js';
import type { Receiver } from './receiver.js';
import { startSfuReceiver } from './sfu-receiver.js';
import { ReportBuilder } from './stats.js';
import { connectKiosk, request } from './signalling.js';

type State = 'connecting' | 'live' | 'offline' | 'error' | 'ended';
const REPORT_MS = 2000;

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const video = $<HTMLVideoElement>('avatar');
const statusText = $<HTMLParagraphElement>('status-text');
const stopButton = $<HTMLButtonElement>('stop');
const micButton = $<HTMLButtonElement>('mic');
const unmuteButton = $<HTMLButtonElement>('unmute');
const sayForm = $<HTMLFormElement>('say');
const sayText = $<HTMLInputElement>('say-text');

function readToken(): string {
  const fromHash = new URLSearchParams(location.hash.slice(1)).get('token');
  return fromHash ?? new URLSearchParams(location.search).get('token') ?? '';
}

const token = readToken();
/** #muted=1: a preview (the operator console's): the picture only, no sound, no microphone */
const previewMuted = new URLSearchParams(location.hash.slice(1)).get('muted') === '1';
let state: State = 'connecting';
let receiver: Receiver | undefined;
let joined: Extract<JoinResult, { ok: true }> | undefined;
/** bumps on every (re)join; a set-up that finds it changed stops */
let generation = 0;
let mic: MicSender | undefined;
/** listen mode's microphone (the session listens), started once */
let listening: Promise<MicSender | undefined> | undefined;
let joins = 0;
const sayClient = new SayClient(token);
let lastSay: unknown;
let lastError = '';
/** what the picture is laid out by (the session's info, updated by 'layout' events), and the result */
let layoutInfo: SessionInfo | undefined;
let lastLayout: Layout | undefined;

/** Draws the picture (cover or contain, the face in view, the mouth clear of the controls) and places the caption. */
function applyLayout(): void {
  const info = layoutInfo;
  if (!info) return;
  // the controls along the bottom (Stop, microphone) and the host's say box above them
  const nav = document.getElementById('controls')!;
  const shown: HTMLElement[] = [];
  if ([...nav.children].some((c) => !(c as HTMLElement).hidden)) shown.push(nav);
  if (!sayForm.hidden) shown.push(sayForm);
  const reservedBottom = Math.max(0, ...shown.map((e) => window.innerHeight - e.getBoundingClientRect().top));
  const captionEl = document.getElementById('caption')!;
  const captionHeight = parseFloat(getComputedStyle(captionEl).maxHeight) || 120;
  const fit = info.fit ?? 'cover'; // a server from before `fit` sends none
  const l = layout({
    screen: { width: window.innerWidth, height: window.innerHeight },
    video: { width: video.videoWidth || info.width, height: video.videoHeight || info.height },
    face: info.face,
    mouth: info.mouth,
    fit,
    reservedBottom,
    captionHeight,
  });
  Object.assign(video.style, { position: 'fixed', left: `${l.frame.x}px`, top: `${l.frame.y}px`, width: `${l.frame.width}px`, height: `${l.frame.height}px`, maxHeight: 'none', objectFit: 'fill' });
  Object.assign(captionEl.style, { top: `${l.captionTop}px`, bottom: 'auto' });
  document.body.dataset.fit = fit;
  lastLayout = l;
  paintBands();
}

/**
 * Where the frame leaves bands of the screen, they take the colours of the frame's own edges
 * (left and right, or top and bottom), sampled once a second from a 16x16 copy: the picture looks
 * completed, not boxed in black.
 */
const edgeCanvas = document.createElement('canvas');
edgeCanvas.width = edgeCanvas.height = 16;
function paintBands(): void {
  const l = lastLayout;
  const root = document.body;
  if (!l?.bands || video.readyState < 2) {
    root.style.background = '';
    return;
  }
  const g = edgeCanvas.getContext('2d', { willReadFrequently: true });
  if (!g) return;
  g.drawImage(video, 0, 0, 16, 16);
  const px = g.getImageData(0, 0, 16, 16).data;
  const mean = (pick: (k: number) => number) => {
    const c = [0, 0, 0];
    for (let k = 0; k < 16; k++) for (let ch = 0; ch < 3; ch++) c[ch]! += px[pick(k) * 4 + ch]! / 16;
    return `rgb(${c.map(Math.round).join(',')})`;
  };
  const { x, y, width, height } = l.frame;
  const sw = window.innerWidth;
  const sh = window.innerHeight;
  if (x > 0.5 || x + width < sw - 0.5) {
    const a = (x / sw) * 100;
    const b = ((x + width) / sw) * 100;
    root.style.background = `linear-gradient(to right, ${mean((k) => k * 16)} ${a}%, ${mean((k) => k * 16 + 15)} ${b}%)`;
  } else {
    const a = (y / sh) * 100;
    const b = ((y + height) / sh) * 100;
    root.style.background = `linear-gradient(to bottom, ${mean((k) => k)} ${a}%, ${mean((k) => 15 * 16 + k)} ${b}%)`;
  }
}
setInterval(paintBands, 1000);
window.addEventListener('resize', applyLayout);
video.addEventListener('loadedmetadata', applyLayout);
video.addEventListener('resize', applyLayout);

function setState(next: State, text: string): void {
  state = next;
  document.body.dataset.state = next;
  statusText.textContent = text;
  stopButton.disabled = next !== 'live';
  if (next === 'error') lastError = text;
}

const socket = connectKiosk(token);

function teardown(): void {
  const c = document.getElementById('caption');
  if (c) c.hidden = true;
  generation += 1;
  receiver?.close();
  receiver = undefined;
  joined = undefined;
  video.srcObject = null;
}

async function join(): Promise<void> {
  teardown();
  const gen = generation;
  setState('connecting', 'Connecting…');
  try {
    const res = await request(socket, 'join', {});
    if (gen !== generation) return;
    joined = res;
    // the layout by the join answer now: a 'layout' event that arrives while the receiver starts
    // is newer than the answer (one socket, in order), and must not be overwritten by it below
    layoutInfo = res.session;
    const r = res.mode === 'sfu' ? await startSfuReceiver(socket, res) : await startDirectReceiver(socket);
    if (gen !== generation) {
      r.close();
      return;
    }
    receiver = r;
    joins += 1;
    r.onFailed((why) => {
      if (gen !== generation) return;
      setState('connecting', `Reconnecting (${why})…`);
      setTimeout(() => gen === generation && void join(), 300);
    });
    stopButton.hidden = !res.scopes.includes('interrupt');
    micButton.hidden = !res.scopes.includes('speak') || !navigator.mediaDevices;
    sayForm.hidden = !res.scopes.includes('speak');
    applyLayout();
    // listen mode: the kiosk's microphone is on (echo cancellation, noise suppression, auto gain)
    // (not in the console's preview, which is muted: the operator's microphone stays off)
    if (res.session.listen && !previewMuted && !listening && !mic && navigator.mediaDevices) {
      listening = MicSender.start(token, 'listen').catch((e: Error) => {
        console.warn(`listen mode: no microphone (${e.message})`);
        listening = undefined;
        return undefined;
      });
    }
    video.srcObject = r.stream;
    const playing = play();
    await r.start(video);
    await playing;
    setState('live', '');
  } catch (e) {
    if (gen !== generation) return;
    const msg = (e as Error).message;
    if (socket.connected) {
      setState('connecting', `Could not start the video (${msg}); retrying…`);
      setTimeout(() => gen === generation && socket.connected && void join(), 2000);
    }
  }
}

async function play(): Promise<void> {
  if (previewMuted) {
    video.muted = true;
    await video.play();
    return;
  }
  try {
    await video.play();
  } catch (e) {
    if ((e as DOMException).name !== 'NotAllowedError') throw e;
    // the browser blocks sound without a touch: play muted, offer a button for the sound
    video.muted = true;
    unmuteButton.hidden = false;
    await video.play();
  }
}

/** the operator deleted this kiosk's session: say so, and keep saying it while the server refuses the token */
let ended: string | undefined;

socket.on('connect', () => {
  ended = undefined; // a session of this id runs again
  void join();
});
socket.on('disconnect', (reason) => {
  teardown();
  if (ended) {
    setState('ended', ended);
    setTimeout(() => socket.connect(), 10_000);
    return;
  }
  setState('offline', 'Offline: reconnecting to the server…');
  if (reason === 'io server disconnect') setTimeout(() => socket.connect(), 1000);
});
socket.on('connect_error', (err) => {
  if (socket.active) {
    setState('offline', 'Offline: the server cannot be reached, retrying…');
  } else {
    // refused by the server (a bad, expired or revoked token): it will not retry by itself
    if (ended) setState('ended', ended);
    else setState('error', `This kiosk was refused: ${err.message}`);
    setTimeout(() => socket.connect(), ended ? 10_000 : 5000);
  }
});
socket.on('media-restart', () => void join());
const caption = $<HTMLParagraphElement>('caption');
// the server sends a caption when the sentence's audio leaves it; it is heard after this page's
// jitter buffer: the caption waits as long, so it shows with the voice (show and clear alike)
let captionAt = 0;
socket.on('caption', (c) => {
  const arrived = performance.now();
  const show = (delayMs: number) => {
    // in order: a caption never shows before the one sent ahead of it
    captionAt = Math.max(captionAt, arrived + delayMs);
    setTimeout(() => {
      caption.textContent = c.text ?? '';
      caption.hidden = !c.text;
    }, captionAt - performance.now());
  };
  if (!receiver) return show(0);
  receiver.getStats().then((stats) => show(reports.audioDelay(stats)), () => show(reports.audioDelayMs));
});
socket.on('session-ended', () => {
  ended = 'This assistant is not available any more. Please ask at the counter.';
  teardown();
  setState('ended', ended);
});
socket.on('layout', (info) => {
  layoutInfo = info;
  applyLayout();
});
socket.on('state', (s) => {
  document.body.dataset.speaking = String(s.speaking);
});

stopButton.addEventListener('pointerdown', (e) => {
  e.preventDefault();
  if (state !== 'live') return;
  request(socket, 'interrupt', {}).catch((err: Error) => console.warn('interrupt refused:', err.message));
});

unmuteButton.addEventListener('click', () => {
  video.muted = false;
  unmuteButton.hidden = true;
});

micButton.addEventListener('click', async () => {
  if (mic) {
    mic.stop();
    mic = undefined;
    micButton.setAttribute('aria-pressed', 'false');
    video.muted = false;
    return;
  }
  try {
    mic = await MicSender.start(token);
    micButton.setAttribute('aria-pressed', 'true');
    video.muted = true; // the host hears themself live; the kiosk must not feed the avatar's voice back
  } catch (e) {
    console.warn('microphone unavailable:', (e as Error).message);
  }
});

sayForm.addEventListener('submit', async (e) => {
  e.preventDefault();
  const text = sayText.value.trim();
  if (!text) return;
  const res = await sayClient.say(text);
  lastSay = res;
  if (res.ok) sayText.value = '';
  else console.warn('say refused:', res.error);
});

const reports = new ReportBuilder();
setInterval(async () => {
  if (!receiver || state !== 'live') return;
  try {
    socket.emit('report', reports.build(await receiver.getStats()));
  } catch {
    /* the receiver closed meanwhile */
  }
}, REPORT_MS);

if (!token) setState('error', 'This kiosk has no token: open the URL the server printed (…/kiosk/#token=…)');
else setState('connecting', 'Connecting…');

Object.assign(window, {
  kiosk: {
    get state() {
      return state;
    },
    get mode() {
      return joined?.mode;
    },
    get session() {
      return joined?.session;
    },
    /** where the picture and the caption are (kiosk-client/src/layout.ts) */
    get layout() {
      return lastLayout;
    },
    get joins() {
      return joins;
    },
    get lastError() {
      return lastError;
    },
    get mic() {
      return mic?.stats;
    },
    get say() {
      return { last: lastSay, spoken: sayClient.spoken };
    },
    get socketId() {
      return socket.id;
    },
    video,
    getStats: () => receiver?.getStats(),
  },
});
