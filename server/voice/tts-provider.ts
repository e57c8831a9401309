/**
 * Text-to-speech providers behind one interface. A provider turns one sentence into mono float
 * audio, whole: the say queue commits a sentence to the avatar only once all of it is here, so a
 * provider that fails half-way loses nothing and the sentence is spoken once, by the next provider.
 */

import type { TimedPhone } from '../../pipeline/phonemes/phones.js';

export type ProviderName = 'upstream' | 'local';

export interface SpeechAudio {
  samples: Float32Array;
  /** Hz */
  sampleRate: number;
  /** the phones spoken, times in seconds from the start of `samples`, when the provider knows them (the mouth then follows them) */
  phones?: TimedPhone[];
}

export interface TtsProvider {
  readonly name: ProviderName;
  /**
   * One sentence's audio, in `voice` (a session's own) or the provider's configured voice. Rejects
   * with TtsError (or an AbortError when `signal` fires).
   */
  synthesize(text: string, signal: AbortSignal, voice?: string): Promise<SpeechAudio>;
}

/** A provider could not speak a sentence: unreachable, timed out, refused, or sent no usable audio. */
export class TtsError extends Error {
  override readonly name = 'TtsError';
  constructor(
    message: string,
    readonly reason: 'unreachable' | 'timeout' | 'http-status' | 'bad-audio' | 'process' | 'missing',
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export function isAbort(e: unknown): boolean {
  return e instanceof Error && (e.name === 'AbortError' || (e as { code?: string }).code === 'ABORT_ERR');
}

export function abortError(): Error {
  return new DOMException('the sentence was cancelled', 'AbortError');
}
