/**
 * Engine module for the inference worker (InferenceWorker.start({ engineModule })): builds the
 * engine named by the configuration (the portrait engine) for one portrait photo, inside the
 * worker thread.
 *
 * Options must be structured-clonable, so they carry the portrait's path and the raw config
 * object; both are checked here. A bad config throws ConfigError, a photo without a usable face
 * throws PortraitError; the worker reports either as "engine failed to start: <message>".
 */
import { ConfigError, parseConfig } from '../../config/load.js';
import type { Config } from '../../config/schema.js';
import { enrolOptions, enrolPortrait } from '../../models/face/enrol.js';
import { createEngine as createConfiguredEngine } from './create-engine.js';
import type { TalkingHeadEngine } from './EngineTypes.js';

export interface PortraitEngineModuleOptions {
  /** path of the portrait photo (PNG or JPEG) */
  portrait: string;
  /** raw configuration object (as in a config file), validated with parseConfig; defaults when absent */
  config?: unknown;
}

/** Validates the options and the config; throws TypeError / ConfigError naming what is wrong. */
export function parseModuleOptions(options: unknown): { portrait: string; config: Config } {
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new TypeError('portrait engine module: options must be an object { portrait: string, config?: object }');
  }
  const { portrait, config } = options as Partial<PortraitEngineModuleOptions>;
  if (typeof portrait !== 'string' || portrait.length === 0) {
    throw new TypeError(`portrait engine module: options.portrait must be the path of a portrait image, got ${JSON.stringify(portrait)}`);
  }
  if (config !== undefined && (config === null || typeof config !== 'object' || Array.isArray(config))) {
    throw new ConfigError(`engine options config: must be a JSON object (got ${JSON.stringify(config)})`);
  }
  return { portrait, config: parseConfig(config ?? {}, 'engine options config') };
}

/** Module entry for the inference worker. */
export async function createEngine(options: PortraitEngineModuleOptions): Promise<TalkingHeadEngine> {
  const { portrait: path, config } = parseModuleOptions(options);
  const portrait = await enrolPortrait(path, enrolOptions(config.avatar, config.runtime.cache_dir));
  return createConfiguredEngine(portrait, config);
}
