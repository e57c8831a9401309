/** Errors of portrait enrolment: one class, a machine-readable `code`, a message that says what is wrong. */

export type PortraitErrorCode =
  | 'not-found'
  | 'not-an-image'
  | 'image-too-large'
  | 'image-too-small'
  | 'no-face'
  | 'face-too-small'
  | 'decode-failed';

export class PortraitError extends Error {
  override readonly name = 'PortraitError';

  constructor(
    readonly code: PortraitErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
