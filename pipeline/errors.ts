/**
 * Which errors are the caller's input (reported as a one-line reason, exit code 2, HTTP 4xx)
 * rather than a fault of ours.
 */
import { ConfigError } from '../config/load.js';
import { AudioFileError, AudioFormatError } from './audio/errors.js';
import { PortraitError } from '../models/face/errors.js';
import { SonicWeightsError } from '../models/sonic/weights.js';

export function isInputError(e: unknown): e is Error {
  return e instanceof ConfigError || e instanceof AudioFileError || e instanceof AudioFormatError || e instanceof PortraitError || e instanceof SonicWeightsError;
}
