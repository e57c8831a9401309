/**
 * Errors of audio ingest. Both are the caller's input (see pipeline/errors.ts isInputError):
 * the message says what is wrong with the chunk or file and, where it helps, what to send instead.
 */

/** A raw PCM chunk (from a kiosk, a TTS service) or its declared format is wrong. */
export class AudioFormatError extends Error {
  override readonly name = 'AudioFormatError';
}

/** An audio file cannot be used: not audio, truncated, inconsistent header, empty, too long. */
export class AudioFileError extends Error {
  override readonly name = 'AudioFileError';

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}
