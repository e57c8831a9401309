/** The engine named by `runtime.engine`, for one enrolled portrait. */
import type { Config } from '../../config/schema.js';
import type { EnrolledPortrait } from '../../models/face/PortraitTypes.js';
import type { TalkingHeadEngine } from './EngineTypes.js';
import { PortraitEngine } from './portrait-engine.js';
import { SonicEngine } from './sonic-engine.js';

export async function createEngine(portrait: EnrolledPortrait, config: Config): Promise<TalkingHeadEngine> {
  switch (config.runtime.engine) {
    case 'portrait':
      return PortraitEngine.create(portrait, config);
    case 'sonic':
      return SonicEngine.create(portrait, config);
  }
}
