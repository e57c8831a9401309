/**
 * Worker entry: runs one TalkingHeadEngine. Pulls 16 kHz audio from the shared ring, applies
 * control records at their audio positions, renders ready frames and posts them (buffers
 * transferred) to the main thread.
 *
 * Controls are taken synchronously (receiveMessageOnPort) before each read of the ring, so each
 * applies exactly at its audio position.
 *
 * Backpressure: audio is read only while the engine has no frame ready, so the engine holds at
 * most about one frame plus its lookahead; a backlog stays in the ring where the main thread sees
 * it (and refuses audio when ring and queue are full) instead of growing unseen in here.
 */
import { PortraitError } from '../../models/face/errors.js';
import { parentPort, receiveMessageOnPort, workerData } from 'node:worker_threads';
import type { TalkingHeadEngine } from '../engine/EngineTypes.js';
import { AudioRing } from './audio-ring.js';
import type { ControlOp, FromThread, InferenceThreadData, ToThread } from './worker-messages.js';

/** Longest wait for audio before looking again, ms (a safety net; writes and messages wake us). */
const IDLE_WAIT_MS = 500;

const port = parentPort;
if (!port) throw new Error('inference-thread must run in a worker thread');
const data = workerData as InferenceThreadData;
const ring = AudioRing.attach(data.ring);
const controls: ControlOp[] = [];
let closing = false;
let wake: (() => void) | undefined;

const post = (m: FromThread, transfer: ArrayBuffer[] = []): void => port.postMessage(m, transfer);

const onMessage = (m: ToThread): void => {
  if (m.type === 'close') closing = true;
  else controls.push(m);
  wake?.();
};
port.on('message', onMessage);

/**
 * Takes the messages already sent, now: a control must be seen before the audio written after it
 * is read (the loop below reads the shared ring without yielding to the event loop, so a 'message'
 * event could come only after that audio went to the old timeline).
 */
function takeMessages(): void {
  for (let m = receiveMessageOnPort(port!); m; m = receiveMessageOnPort(port!)) onMessage(m.message as ToThread);
}

async function createEngine(): Promise<TalkingHeadEngine> {
  const mod = (await import(data.engineModule)) as { createEngine?: (o: unknown) => TalkingHeadEngine | Promise<TalkingHeadEngine> };
  if (typeof mod.createEngine !== 'function') throw new Error(`${data.engineModule} does not export createEngine(options)`);
  const engine = await mod.createEngine(data.engineOptions);
  if (!engine || typeof engine.pushAudio !== 'function' || typeof engine.renderReady !== 'function' || !engine.info) {
    throw new Error(`createEngine() of ${data.engineModule} did not return a TalkingHeadEngine`);
  }
  return engine;
}

async function run(engine: TalkingHeadEngine): Promise<void> {
  const { analysisRate, fps, lookaheadMs } = engine.info;
  const hop = Math.max(1, Math.round(analysisRate / fps));
  const lookahead = Math.round((lookaheadMs * analysisRate) / 1000);
  const scratch = new Float32Array(hop);
  /** samples on the engine's timeline since its start or last reset */
  let timeline = 0;

  // live: audio (and silence) waiting beyond this means the worker is behind the clock
  const lateAfter = data.dropLateAfterMs === undefined ? Infinity : Math.round((data.dropLateAfterMs * analysisRate) / 1000);
  let skipped = 0;
  /** frames passed over in a row: at most 2, so a worker that stays behind still draws every third */
  let skipRun = 0;
  const backlog = (): number => ring.availableRead + controls.reduce((n, c) => n + (c.op === 'silence' ? c.count : 0), 0);

  const renderOne = async (): Promise<void> => {
    // behind the clock: pass over this frame (the motion advances), it would arrive too late
    if (engine.skipReady && skipRun < 2 && backlog() > lateAfter) {
      const n = await engine.skipReady(1);
      skipped += n;
      skipRun += n;
      if (n > 0) return;
    }
    skipRun = 0;
    const t0 = performance.now();
    const [frame] = await engine.renderReady(1);
    const renderMs = performance.now() - t0;
    if (!frame) return;
    // The frame is ours (TalkingHeadEngine.renderReady): transferred as it is when it spans its
    // whole buffer (at 512x512 that spares a 393 KB copy and allocation a frame), else copied.
    const whole = frame.i420.byteOffset === 0 && frame.i420.byteLength === frame.i420.buffer.byteLength && frame.i420.buffer instanceof ArrayBuffer;
    const i420 = whole ? frame.i420 : frame.i420.slice();
    post({ type: 'frame', frame: { ...frame, i420 }, renderMs, ...(skipped > 0 ? { skipped } : {}) }, [i420.buffer as ArrayBuffer]);
    skipped = 0;
  };

  const apply = async (c: ControlOp): Promise<void> => {
    switch (c.op) {
      case 'interrupt':
        engine.interrupt();
        break;
      case 'silence':
        engine.pushSilence(c.count);
        timeline += c.count;
        break;
      case 'segment-end': {
        // Complete the frame in progress and give the engine its lookahead, so every frame of
        // the segment renders now rather than when the next speech arrives.
        const k = Math.ceil((timeline * fps) / analysisRate);
        const pad = Math.max(0, Math.round((k * analysisRate) / fps) - timeline) + lookahead;
        engine.pushSilence(pad);
        timeline += pad;
        break;
      }
      case 'reset':
        engine.reset();
        timeline = 0;
        post({ type: 'reset-done' });
        break;
      case 'flush':
        while (!closing && engine.framesReady() > 0) await renderOne();
        post({ type: 'flushed', id: c.id });
        break;
      case 'phones':
        engine.pushPhones?.(c.phones);
        break;
    }
  };

  while (!closing) {
    takeMessages();
    let progressed = false;
    while (controls.length > 0 && controls[0].at <= ring.totalRead) {
      await apply(controls.shift()!);
      progressed = true;
    }
    const head = controls[0];
    const limit = head ? head.at - ring.totalRead : Infinity;
    if (head?.op === 'interrupt') {
      // Audio written before a barge-in is never shown: drop it as fast as it arrives.
      if (ring.discard(limit) > 0) progressed = true;
    } else if (engine.framesReady() > 0) {
      await renderOne();
      progressed = true;
    } else {
      const n = ring.read(scratch, Math.min(hop, limit));
      if (n > 0) {
        engine.pushAudio(n === hop ? scratch : scratch.subarray(0, n));
        timeline += n;
        progressed = true;
      }
    }
    if (!progressed && !closing) await waitForInput();
  }
}

function waitForInput(): Promise<void> {
  if (controls.length > 0 && controls[0].at <= ring.totalRead) return Promise.resolve();
  return new Promise<void>((resolve) => {
    wake = resolve;
    void ring.waitForWrite(ring.totalWritten, IDLE_WAIT_MS).then(resolve);
  }).finally(() => {
    wake = undefined;
  });
}

async function main(): Promise<void> {
  let engine: TalkingHeadEngine;
  try {
    engine = await createEngine();
  } catch (e) {
    const err = e as Error;
    post({ type: 'fatal', message: `engine failed to start: ${err?.message ?? String(e)}`, stack: err?.stack, ...(e instanceof PortraitError ? { portraitCode: e.code } : {}) });
    return;
  }
  post({ type: 'ready', info: engine.info });
  try {
    await run(engine);
  } catch (e) {
    const err = e as Error;
    post({ type: 'fatal', message: `engine failed: ${err?.message ?? String(e)}`, stack: err?.stack });
  } finally {
    await engine.close().catch(() => undefined);
  }
  post({ type: 'closed' });
}

void main().finally(() => port.close());
