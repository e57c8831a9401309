/**
 * The Sonic engine (streaming windows, offline clip, barge-in) on real ONNX Runtime sessions of the
 * stand-in graphs (CPU; the GPU providers cannot run here).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_PROVIDERS } from '../../models/sonic/providers.js';
import { writeStandInWeights } from '../../models/sonic/stand-in.js';
import { planesToI420 } from '../../models/sonic/frames.js';
import { SonicEngine, type SonicEngineOptions } from '../../pipeline/engine/sonic-engine.js';
import { framePts, type AvatarFrame } from '../../pipeline/records.js';
import { syntheticPortrait } from '../helpers/synthetic-portrait.js';

const enrolled = syntheticPortrait({ width: 128, height: 128 });
const portrait = { rgba: enrolled.rgba, width: enrolled.width, height: enrolled.height, faceBox: enrolled.landmarks.faceBox };
let dir: string;
/** the ideal-denoiser stand-in (a = 1, no temporal mixing): its frames are exactly what the windows make, no noise residue */
let idealDir: string;

function options(over: Partial<SonicEngineOptions> = {}): SonicEngineOptions {
  return {
    runner: {
      weightsDir: dir,
      providers: DEFAULT_PROVIDERS,
      steps: 6,
      guidance: { image: 2, audio: 7.5 },
      seed: 5,
      dynamicScale: 1,
      lipSyncOffsetMs: 0,
      noiseAugStrength: 0,
      decodeChunkFrames: 4,
    },
    fps: 25,
    window: 8,
    overlap: 3,
    offline: { window: 10, overlap: 3, shiftOffset: 3 },
    ...over,
  };
}

/** a tone whose loudness climbs for `sec` seconds: the motion bucket differs from window to window */
function swell(sec: number): Float32Array {
  const n = Math.round(sec * 16_000);
  return Float32Array.from({ length: n }, (_, i) => (0.05 + (0.6 * i) / n) * Math.sin(i * 0.15));
}

function meanY(f: AvatarFrame): number {
  let s = 0;
  for (let i = 0; i < f.width * f.height; i++) s += f.i420[i]!;
  return s / (f.width * f.height);
}

async function renderAll(e: SonicEngine): Promise<AvatarFrame[]> {
  const out: AvatarFrame[] = [];
  while (e.framesReady() > 0) out.push(...(await e.renderReady(7)));
  return out;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sonic-engine-'));
  idealDir = join(dir, 'ideal');
  await writeStandInWeights(dir);
  await writeStandInWeights(idealDir, { a: 1, mix: 0 });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('Sonic engine on stand-in graphs', () => {
  it('streams: no frame before a window has its audio, then consecutive frames at the output fps with their pts', async () => {
    const e = await SonicEngine.open(portrait, options());
    try {
      // window 1 (generated frames 5..12) reads whisper frames up to 4 * 12 + 26 = 74 (the bucket
      // window of its last frame), i.e. mel frames to 147, samples to 147 * 160 + 200 = 23720
      // (1482.5 ms); the output frame just before generated frame 5 ends at 4 / 12.5 s + 40 ms
      expect(e.info.lookaheadMs).toBeCloseTo(1482.5 - 360, 6);
      expect([e.info.width, e.info.height, e.info.fps]).toEqual([128, 128, 25]);
      e.pushAudio(swell(0.5));
      expect(e.framesReady()).toBe(0);
      e.pushAudio(swell(2.5));
      const frames = await renderAll(e);
      // 3 s of audio = 150 whisper frames. Window j (frames 5j .. 5j+7) reads whisper frames up to
      // 4 (5j + 7) + 26 = 20j + 54: windows 0..4 can run, so generated frames 0..24 are final
      // (25..27 wait for window 5's blend) and output frames 0..48 interpolate them.
      expect(frames.length).toBe(49);
      frames.forEach((f, k) => {
        expect(f.index).toBe(k);
        expect(f.pts).toBe(framePts(k, 25));
        expect(f.i420.length).toBe((128 * 128 * 3) / 2);
      });
      expect(frames.slice(10).every((f) => f.speaking)).toBe(true);
      const st = e.stats();
      expect(st.framesRendered).toBe(frames.length);
      expect(st.stages.unet!.count).toBe(6 * st.stages.sample_window!.count);
      expect(st.stages.window!.count).toBe(st.stages.sample_window!.count);
    } finally {
      await e.close();
    }
  });

  it('joins windows without seams: the jump at a window boundary is no larger than within windows (and is, without overlap)', async () => {
    const seamRatio = async (overlap: number) => {
      const base = options({ overlap });
      const e = await SonicEngine.open(portrait, { ...base, runner: { ...base.runner, weightsDir: idealDir } });
      try {
        e.pushAudio(swell(6));
        const frames = await renderAll(e);
        const stride = 8 - overlap;
        // even output frames are generated frames (25 = 2 x 12.5): g = k / 2
        const gen = frames.filter((f) => f.index % 2 === 0).map(meanY);
        const seams: number[] = [];
        const inside: number[] = [];
        for (let g = 1; g < gen.length; g++) (g % stride === 0 ? seams : inside).push(Math.abs(gen[g]! - gen[g - 1]!));
        const mean = (a: number[]) => a.reduce((x, y) => x + y, 0) / a.length;
        expect(seams.length).toBeGreaterThanOrEqual(4);
        return mean(seams) / mean(inside);
      } finally {
        await e.close();
      }
    };
    // each window's motion bucket is its own (as in Sonic): without overlap, the picture steps at every boundary
    const hard = await seamRatio(0);
    const blended = await seamRatio(3);
    expect(hard).toBeGreaterThan(5);
    expect(blended).toBeLessThan(2);
  });

  it('states when it cannot stream: latency grows by compute - hop every window once a window computes slower than its hop', async () => {
    const e = await SonicEngine.open(portrait, options());
    try {
      // window 8, overlap 3: a hop of 5 generated frames = 400 ms of video
      expect(e.info.hopMs).toBeCloseTo(400, 6);
      expect(e.latency(300)).toMatchObject({ realTime: true, growthPerWindowMs: 0, firstMs: e.info.lookaheadMs + 300 });
      expect(e.latency(650, 5)).toMatchObject({ realTime: false, growthPerWindowMs: 250, lastMs: e.info.lookaheadMs + 650 + 4 * 250 });
      e.pushAudio(swell(2));
      await renderAll(e);
      // measured: the mean window compute of this run
      const measured = e.latency();
      expect(measured.firstMs).toBeGreaterThan(e.info.lookaheadMs);
    } finally {
      await e.close();
    }
  });

  it('renders a whole clip offline (windows shifted every step), deterministically, with the requested frame count', async () => {
    const run = async () => {
      const e = await SonicEngine.open(portrait, options());
      try {
        const frames: AvatarFrame[] = [];
        await e.renderClip(swell(2), 50, async (f) => {
          frames.push(f);
        });
        return { frames, stats: e.stats() };
      } finally {
        await e.close();
      }
    };
    const a = await run();
    const b = await run();
    expect(a.frames.map((f) => f.index)).toEqual(Array.from({ length: 50 }, (_, k) => k));
    expect(a.frames.every((f, k) => Buffer.from(f.i420).equals(Buffer.from(b.frames[k]!.i420)))).toBe(true);
    // 25 generated frames, windows of 10 stepping by 7: 4 windows a step, 6 steps
    expect(a.stats.stages.unet!.count).toBe(4 * 6);
  });

  it('barge-in: audio from the next frame on becomes silence, the windows not yet shown are generated again, the face calms', async () => {
    // the reference: the same speech cut at frame 20 (0.8 s), then silence
    const cut = await SonicEngine.open(portrait, options());
    const e = await SonicEngine.open(portrait, options());
    try {
      cut.pushAudio(swell(3).subarray(0, 12_800));
      cut.pushSilence(16_000 * 4.2);
      const reference = await renderAll(cut);
      const uncut = await SonicEngine.open(portrait, options());
      uncut.pushAudio(swell(5));
      const speaking = await renderAll(uncut);
      await uncut.close();

      e.pushAudio(swell(3));
      const before = await e.renderReady(20);
      expect(before.length).toBe(20);
      e.interrupt();
      e.pushSilence(16_000 * 2);
      const after = await renderAll(e);
      expect(after[0]!.index).toBe(20); // the timeline goes on; no frame is shown twice
      expect(after.every((f) => !f.speaking)).toBe(true);
      // from the window after the cut on, the frames are the cut reference's, not the speech's
      let compared = 0;
      let speechShows = 0;
      for (const f of after.filter((x) => x.index >= 40)) {
        const ref = reference[f.index]!;
        const spoken = speaking[f.index]!;
        expect(Math.abs(meanY(f) - meanY(ref))).toBeLessThan(Math.abs(meanY(spoken) - meanY(ref)) / 4 + 0.05);
        speechShows += Math.abs(meanY(spoken) - meanY(ref));
        compared += 1;
      }
      expect(compared).toBeGreaterThan(20);
      expect(speechShows / compared).toBeGreaterThan(1); // had the speech gone on, it would show (luma levels)
    } finally {
      await Promise.all([cut.close(), e.close()]);
    }
  });
  it('a framed (kiosk-shaped) portrait: frames of the whole picture, Sonic pasted back on its square crop, the rest the still photo', async () => {
    // 128x224 (a 9:16-ish frame), face in the upper half; the stand-in export is 128x128
    const tall = syntheticPortrait({ width: 128, height: 224, cy: 80, ry: 36, rx: 26 });
    const p = { rgba: tall.rgba, width: 128, height: 224, faceBox: tall.landmarks.faceBox };
    const e = await SonicEngine.open(p, options(), { wholeFrame: true });
    try {
      expect([e.info.width, e.info.height]).toEqual([128, 224]);
      e.pushAudio(swell(3));
      const frames = await renderAll(e);
      expect(frames.length).toBeGreaterThan(20);
      const still = new Float32Array(3 * 128 * 224);
      for (let i = 0; i < 128 * 224; i++) for (let c = 0; c < 3; c++) still[c * 128 * 224 + i] = tall.rgba[i * 4 + c]! / 255;
      const stillY = planesToI420(still, 128, 224, undefined, 'unit');
      // the crop is the 128x128 square around the face (rows 16..143): below it, the photo as it was
      const f = frames[frames.length - 1]!;
      expect(f.i420.length).toBe((128 * 224 * 3) / 2);
      let below = 0, inside = 0;
      for (let y = 150; y < 224; y++) for (let x = 0; x < 128; x++) below = Math.max(below, Math.abs(f.i420[y * 128 + x]! - stillY[y * 128 + x]!));
      for (let y = 40; y < 120; y++) for (let x = 0; x < 128; x++) inside += Math.abs(f.i420[y * 128 + x]! - stillY[y * 128 + x]!);
      expect(below).toBeLessThanOrEqual(1);
      // inside the crop the picture is Sonic's (the stand-in blurs and tints it): it differs from the photo
      expect(inside / (80 * 128)).toBeGreaterThan(2);
      // and it moves with the audio while the rest stays still
      const first = frames[5]!;
      let moved = 0;
      for (let y = 40; y < 120; y++) for (let x = 0; x < 128; x++) moved += Math.abs(f.i420[y * 128 + x]! - first.i420[y * 128 + x]!);
      expect(moved / (80 * 128)).toBeGreaterThan(0.5);
    } finally {
      await e.close();
    }
  });
});
