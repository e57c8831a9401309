/**
 * Offline render throughput: renderToMp4 on a ~10 s speech clip (WAV in /tmp, the embedded
 * portrait, enrolment already cached by the bench), seconds of video per second of wall time.
 * The engine is created inside renderToMp4, so its model loading counts in the total.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Config } from '../config/schema.js';
import { renderToMp4 } from '../pipeline/render/render-file.js';
import { clipWav, PORTRAIT_PATH, type SpeechClip } from './common.js';

export interface OfflineResult {
  durationSec: number;
  frames: number;
  wallSec: number;
  /** seconds of video per second of wall time, everything included */
  speed: number;
  /** the same, render+encode stage only (no decode, enrolment, model loading) */
  renderEncodeSpeed: number;
  stages: Record<string, number>;
  load1: number;
}

export async function benchOffline(clip: SpeechClip, config: Config): Promise<OfflineResult> {
  const dir = mkdtempSync(join(tmpdir(), 'kiosk-bench-offline-'));
  try {
    const wav = join(dir, 'speech.wav');
    writeFileSync(wav, clipWav(clip));
    const res = await renderToMp4({ audio: wav, portrait: PORTRAIT_PATH, out: join(dir, 'out.mp4'), config });
    const re = (res.stages['render+encode'] ?? NaN) / 1000;
    return {
      durationSec: res.durationSec,
      frames: res.frames,
      wallSec: res.wallSec,
      speed: res.durationSec / res.wallSec,
      renderEncodeSpeed: res.durationSec / re,
      stages: res.stages,
      load1: loadavg()[0]!,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
