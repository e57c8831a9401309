/** Errors of the inference worker. */

/** pushAudio would overflow both the shared ring and the pending queue; none of the chunk was taken. */
export class QueueFullError extends Error {
  override readonly name = 'QueueFullError';
  constructor(
    /** samples in the refused chunk */
    readonly chunkSamples: number,
    /** ring capacity, samples */
    readonly ringCapacity: number,
    /** samples already pending on the main thread */
    readonly pendingSamples: number,
    /** pending queue capacity, samples */
    readonly pendingCapacity: number,
  ) {
    super(
      `InferenceWorker: audio queue full, chunk of ${chunkSamples} samples refused ` +
        `(ring of ${ringCapacity} samples, pending ${pendingSamples} of ${pendingCapacity}); ` +
        'the engine renders slower than audio arrives: slow the producer or retry after frames come out',
    );
  }
}

/** A method was called on a closed or failed worker. */
export class InvalidStateError extends Error {
  override readonly name = 'InvalidStateError';
}
