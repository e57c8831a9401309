// Types for the parts of @met4citizen/headaudio@0.1.0 (MIT, untyped ES modules) that visemes.ts uses.
declare module '@met4citizen/headaudio/modules/processor.mjs' {
  export interface HeadAudioPrototype {
    phoneme: string;
    group: number;
    /** HeadAudio viseme id: aa E I O U PP SS TH DD FF kk nn RR CH sil (0..14) */
    viseme: number;
    mu: Float32Array;
    sigmaInvLower: Float32Array;
  }
  export interface HeadAudioEvent {
    event: string;
    [key: string]: unknown;
  }
  export class Processor {
    constructor(
      options: { sampleRate: number; speakerMeanHz?: number; processorOptions?: Record<string, unknown>; parameterData?: Record<string, unknown> },
      worklet?: { port: { postMessage(message: HeadAudioEvent): void } },
    );
    sampleCount: number;
    classifier: {
      prototypes: HeadAudioPrototype[];
      distanceMahalanobis(v: Float32Array, mu: Float32Array, sigmaInvLower: Float32Array): number;
    };
    _onmessage(message: { data: Record<string, unknown> }): void;
    process(data: Float32Array): void;
  }
}
declare module '@met4citizen/headaudio/modules/training.mjs' {
  import type { HeadAudioPrototype } from '@met4citizen/headaudio/modules/processor.mjs';
  export class Training {
    decodeBinaryRecord(record: Float32Array): HeadAudioPrototype;
  }
}
declare module '@met4citizen/headaudio/modules/parameters.mjs' {
  export const MFCC_SAMPLES_N: number;
  export const MFCC_SAMPLES_HOP: number;
  export const AUDIO_DOWNSAMPLE_FILTER_N: number;
  export const MODEL_VISEMES_N: number;
  export const MODEL_VISEME_SIL: number;
  export const RECORD_LEN: number;
}
