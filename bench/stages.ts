/**
 * Engine stages, ms per frame: the engine is driven the way a live session drives it (one frame
 * of audio pushed, then whatever is ready rendered), so each renderReady() renders about one
 * frame and the engine's own StageStats give per-frame times (features: the batch's time / its
 * frames; motion and render: per frame). Several passes over the same clip; the pass with the
 * lowest mean engine time is reported (the 2 cores are shared with other work).
 */
import { loadavg } from 'node:os';
import { PortraitEngine } from '../pipeline/engine/portrait-engine.js';
import type { EngineStats } from '../pipeline/engine/EngineTypes.js';
import type { Config } from '../config/schema.js';
import type { EnrolledPortrait } from '../models/face/PortraitTypes.js';
import { summarise, type SpeechClip, type Summary } from './common.js';


export const STAGES = ['features', 'motion', 'render'] as const;
export type StageName = (typeof STAGES)[number];

export interface StagePass {
  frames: number;
  perFrame: Record<StageName | 'engine', Summary>;
  /** process CPU (all threads) per frame while the engine ran, ms */
  processCpuMsPerFrame: number;
  wallMsPerFrame: number;
  load1: number;
}

export interface StagesResult {
  passes: StagePass[];
  best: StagePass;
  info: PortraitEngine['info'];
  /** the frames of the first pass, for the encode bench */
  frames: Uint8Array[];
}

function totals(s: EngineStats, name: string) {
  const st = s.stages[name]!;
  return { count: st.count, totalMs: st.totalMs };
}

async function onePass(engine: PortraitEngine, clip: SpeechClip, keep: Uint8Array[] | undefined): Promise<StagePass> {
  engine.reset();
  const hop = engine.info.analysisRate / engine.info.fps;
  const total = Math.round(clip.durationSec * engine.info.fps);
  const per: Record<StageName | 'engine', number[]> = { features: [], motion: [], render: [], engine: [] };
  let prev = engine.stats();
  let done = 0;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const drain = async () => {
    const frames = await engine.renderReady();
    if (frames.length === 0) return;
    const now = engine.stats();
    let sum = 0;
    for (const name of STAGES) {
      const a = totals(prev, name);
      const b = totals(now, name);
      const n = b.count - a.count;
      const ms = n > 0 ? (b.totalMs - a.totalMs) / n : 0;
      sum += ms;
      for (let i = 0; i < frames.length; i++) per[name].push(ms);
    }
    for (let i = 0; i < frames.length; i++) per.engine.push(sum);
    prev = now;
    for (const fr of frames) {
      if (done < total && keep) keep.push(fr.i420);
      done++;
    }
  };
  for (let off = 0; off < clip.analysis.length; off += hop) {
    engine.pushAudio(clip.analysis.subarray(off, off + hop));
    await drain();
  }
  while (done < total) {
    engine.pushSilence(hop);
    await drain();
  }
  const wall = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  return {
    frames: done,
    perFrame: {
      features: summarise(per.features),
      motion: summarise(per.motion),
      render: summarise(per.render),
      engine: summarise(per.engine),
    },
    processCpuMsPerFrame: (cpu.user + cpu.system) / 1000 / done,
    wallMsPerFrame: wall / done,
    load1: loadavg()[0]!,
  };
}

export async function benchStages(portrait: EnrolledPortrait, config: Config, clip: SpeechClip, passes: number): Promise<StagesResult> {
  const engine = await PortraitEngine.create(portrait, config);
  try {
    // warm-up: first inferences allocate and JIT
    const hop = engine.info.analysisRate / engine.info.fps;
    for (let i = 0; i < 100; i++) {
      engine.pushAudio(clip.analysis.subarray(i * hop, (i + 1) * hop));
      await engine.renderReady();
    }
    const frames: Uint8Array[] = [];
    const out: StagePass[] = [];
    for (let p = 0; p < passes; p++) out.push(await onePass(engine, clip, p === 0 ? frames : undefined));
    const best = out.reduce((a, b) => (b.perFrame.engine.mean < a.perFrame.engine.mean ? b : a));
    return { passes: out, best, info: engine.info, frames };
  } finally {
    await engine.close();
  }
}
