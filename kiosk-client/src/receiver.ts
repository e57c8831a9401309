/** What the page needs from either media path: a stream to show, stats, a way to hear of failure. */
export interface Receiver {
  /** video and audio in one MediaStream (the browser lip-syncs tracks of one stream) */
  readonly stream: MediaStream;
  /**
   * Lets the media flow (sfu: resumes the video, then the audio once frames are shown; direct:
   * sends the answer). Call it once the stream is attached to `video`. Audio that reaches the
   * browser in a clump while the page is still busy starting (page load, decoders, DTLS) stays in
   * its audio jitter buffer, and the voice then plays up to ~200 ms late for the next 10-15 s
   * (measured in headless Chromium 156): so the audio starts once the page is calm.
   */
  start(video: HTMLVideoElement): Promise<void>;
  getStats(): Promise<RTCStatsReport>;
  /** called once when the connection fails or stays disconnected */
  onFailed(cb: (why: string) => void): void;
  close(): void;
}

/** A 'disconnected' ICE state may recover; treat it as failed after this long. */
export const DISCONNECTED_GRACE_MS = 2500;

/** Tracks a connection state and calls `fail` once for 'failed', or for 'disconnected' that lasts. */
export function watchConnection(): { update(state: string): void; onFailed(cb: (why: string) => void): void; stop(): void } {
  let cb: ((why: string) => void) | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let done = false;
  const fail = (why: string) => {
    if (done) return;
    done = true;
    cb?.(why);
  };
  return {
    update(state) {
      if (timer) clearTimeout(timer);
      timer = undefined;
      if (state === 'failed' || state === 'closed') fail(`media connection ${state}`);
      else if (state === 'disconnected') timer = setTimeout(() => fail('media connection lost'), DISCONNECTED_GRACE_MS);
    },
    onFailed(f) {
      cb = f;
    },
    stop() {
      done = true;
      if (timer) clearTimeout(timer);
    },
  };
}

/** ms the page waits, once video frames are shown, before it lets the audio flow */
export const AUDIO_SETTLE_MS = 600;

/** Resolves once `video` has presented a few frames and AUDIO_SETTLE_MS more have passed (at most 5 s). */
export function firstFrames(video: HTMLVideoElement, frames = 5): Promise<void> {
  return new Promise((resolve) => {
    const done = () => setTimeout(resolve, AUDIO_SETTLE_MS);
    const limit = setTimeout(resolve, 5000);
    let seen = 0;
    const v = video as HTMLVideoElement & { requestVideoFrameCallback?: (cb: () => void) => number };
    if (!v.requestVideoFrameCallback) {
      clearTimeout(limit);
      done();
      return;
    }
    const onFrame = () => {
      if (++seen >= frames) {
        clearTimeout(limit);
        done();
      } else v.requestVideoFrameCallback!(onFrame);
    };
    v.requestVideoFrameCallback(onFrame);
  });
}
