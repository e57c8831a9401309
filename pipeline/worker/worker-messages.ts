/** Messages between InferenceWorker (main thread) and inference-thread (worker). */
import type { AvatarFrame } from '../records.js';
import type { TimedPhone } from '../phonemes/phones.js';
import type { EngineInfo } from '../engine/EngineTypes.js';
import type { AudioRingShared } from './audio-ring.js';
import type { PortraitErrorCode } from '../../models/face/errors.js';

/** workerData of the inference thread. */
export interface InferenceThreadData {
  /** file: URL of a module exporting createEngine(options) */
  engineModule: string;
  engineOptions: unknown;
  ring: AudioRingShared;
  /** InferenceWorkerOptions.dropLateAfterMs */
  dropLateAfterMs?: number;
}

/**
 * Control records, applied in order with the audio: each takes effect once the worker has read
 * the ring up to `at` (samples ever written when the control was issued).
 */
export type ControlOp =
  | { op: 'interrupt'; at: number }
  | { op: 'silence'; at: number; /** samples at the engine's rate */ count: number }
  | { op: 'segment-end'; at: number }
  | { op: 'reset'; at: number }
  | { op: 'flush'; at: number; id: number }
  /** the phones of the speech written next (times from its start): engine.pushPhones */
  | { op: 'phones'; at: number; phones: TimedPhone[] };

export type ToThread = ({ type: 'control' } & ControlOp) | { type: 'close' };

export type FromThread =
  | { type: 'ready'; info: EngineInfo }
  | { type: 'frame'; frame: AvatarFrame; /** ms the engine took for this frame */ renderMs: number; /** frames passed over (late) since the last one */ skipped?: number }
  | { type: 'flushed'; id: number }
  /** a reset took effect: frames posted after this are of the new timeline */
  | { type: 'reset-done' }
  /** portraitCode: the engine refused its portrait (PortraitError), rebuilt as one on the other side */
  | { type: 'fatal'; message: string; stack?: string; portraitCode?: PortraitErrorCode }
  | { type: 'closed' };
