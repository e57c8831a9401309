/** The engine named by `runtime.engine`, for one enrolled portrait. */
import type { Config } from '../../config/schema.js';
import { ConfigError } from '../../config/load.js';
import type { EnrolledPortrait } from '../../models/face/PortraitTypes.js';
import type { TalkingHeadEngine } from './EngineTypes.js';
import { PortraitEngine } from './portrait-engine.js';

export async function createEngine(portrait: EnrolledPortrait, config: Config): Promise<TalkingHeadEngine> {
  switch (config.runtime.engine) {
    case 'portrait':
      return PortraitEngine.create(portrait, config);
    case 'sonic':
      throw new ConfigError(
        'runtime.engine: "sonic" needs the Sonic ONNX export and a GPU host; its runner is not part of this build yet (use "portrait")',
      );
  }
}
