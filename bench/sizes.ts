/**
 * 14. Cost by output size (issue 15; `npm run bench -- --only sizes`): the portrait engine and the
 * H.264 encode (x264 at the config preset, all its threads) at 512x512, 540x960, 720x1280 and
 * 1080x1920, ms per frame, from the embedded portrait framed by the config's rule. The warp moves
 * only the head region, so the engine grows with the head's size on screen, not with the frame;
 * the encoder grows with the frame.
 */
import { parseConfig } from '../config/load.js';
import type { Config } from '../config/schema.js';
import { enrolOptions, enrolPortrait } from '../models/face/enrol.js';
import { benchEncode } from './encode.js';
import { CACHE_DIR, PORTRAIT_PATH, benchConfig, f, section, speechClip } from './common.js';
import { benchStages } from './stages.js';
import { readFileSync } from 'node:fs';
import { decodeImage, encodePng, resizeRgba } from '../models/face/image.js';

function enlarged2x(): Uint8Array {
  const src = decodeImage(new Uint8Array(readFileSync(PORTRAIT_PATH)));
  return new Uint8Array(encodePng(resizeRgba(src, { x: 0, y: 0, width: src.width, height: src.height }, src.width * 2, src.height * 2)));
}

export interface SizeRow {
  size: string;
  engineMs: number;
  renderMs: number;
  encodeCpuMs: number;
  /** real-time streams this machine's cores hold at this size (engine + encode, means) */
  streams: number;
}

export async function benchSizes(cores: number): Promise<SizeRow[]> {
  section('14. cost by output size (portrait engine on one thread; x264 all threads), ms per frame');
  const clip = speechClip(4, 6);
  const base = benchConfig();
  const rows: SizeRow[] = [];
  console.log(`${'size'.padEnd(12)}${'engine'.padStart(9)}${'render'.padStart(9)}${'encode CPU'.padStart(12)}${'streams'.padStart(9)}`);
  for (const size of [null, [540, 960], [720, 1280], [1080, 1920]] as const) {
    const config: Config = parseConfig({ ...base, avatar: { ...base.avatar, width: size?.[0] ?? null, height: size?.[1] ?? null } });
    // the embedded portrait's face (104 px) is too small for 1080x1920 (it would be enlarged 5.5x,
    // refused past 4x): there, a copy enlarged 2x stands for a larger photo (the cost does not
    // depend on the photo's sharpness)
    const photo = size?.[1] === 1920 ? enlarged2x() : PORTRAIT_PATH;
    const portrait = await enrolPortrait(photo, enrolOptions(config.avatar, CACHE_DIR));
    const st = await benchStages(portrait, config, clip, 2);
    const enc = await benchEncode(st.frames, portrait.width, portrait.height, config.avatar.fps, config);
    st.frames.length = 0;
    const engineMs = st.best.perFrame.engine.mean;
    const row = {
      size: `${portrait.width}x${portrait.height}`,
      engineMs,
      renderMs: st.best.perFrame.render.mean,
      encodeCpuMs: enc.cpuMsPerFrame,
      streams: Math.floor((cores * 1000) / config.avatar.fps / (engineMs + enc.cpuMsPerFrame)),
    };
    rows.push(row);
    console.log(`${row.size.padEnd(12)}${f(row.engineMs, 9)}${f(row.renderMs, 9)}${f(row.encodeCpuMs, 12)}${String(row.streams).padStart(9)}`);
  }
  console.log('streams = floor(cores x 40 ms / (engine + encode)): offline arithmetic; live sessions also pay the WebRTC (VP8) encode, see section 13');
  return rows;
}
