/**
 * Bench and look: renders the synthetic portrait (or, with --astronaut, the astronaut photo enrolled
 * by models/face/enrol.ts) and reports ms per frame (best of 5 runs of frames/5) and the rest
 * frame's PSNR against the portrait.
 *
 *   npx tsx models/portrait-renderer/bench.ts [--frames 200] [--png /tmp/portrait] [--astronaut]
 *
 * With --png it writes rest / jaw / blink / yaw / mix frames as RGB PNGs for a human to look at.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { PNG } from 'pngjs';
import { REST_POSE, type MotionParams } from '../../pipeline/records.js';
import type { EnrolledPortrait } from '../face/PortraitTypes.js';
import { syntheticPortrait } from '../../test/helpers/synthetic-portrait.js';
import { i420ToRgba, planesToI420, rgbaToYuvPlanes } from './colour.js';
import { createPortraitRenderer } from './renderer.js';

const args = process.argv.slice(2);
const arg = (name: string, def: string) => { const i = args.indexOf(name); return i >= 0 ? args[i + 1]! : def; };
const frames = Number(arg('--frames', '200'));
const pngDir = args.includes('--png') ? arg('--png', '/tmp/portrait') : undefined;

async function loadPortrait(): Promise<EnrolledPortrait> {
  if (!args.includes('--astronaut')) return syntheticPortrait();
  const path = '../face/enrol.js';
  const mod = (await import(path)) as { enrolPortrait: (bytes: Uint8Array, o?: object) => Promise<EnrolledPortrait> };
  const { readFileSync } = await import('node:fs');
  return mod.enrolPortrait(readFileSync('/work/shared/media/portrait-astronaut.png'), { minResolution: 512, expandRatio: 0.5, cacheDir: '/tmp/portrait-renderer-cache' });
}

const portrait = await loadPortrait();
const r = await createPortraitRenderer(portrait);
console.log(`portrait ${r.width}x${r.height}, ROI ${JSON.stringify(r.roi)} (${r.roi.width * r.roi.height} px)`);
{
  // rest frame vs the portrait converted directly
  const ref = planesToI420(rgbaToYuvPlanes(portrait.rgba, portrait.width, portrait.height));
  const f = await r.render(REST_POSE);
  let se = 0;
  for (let i = 0; i < r.width * r.height; i++) se += (f[i]! - ref[i]!) ** 2;
  const mse = se / (r.width * r.height);
  console.log(`rest frame vs portrait: Y PSNR ${mse === 0 ? 'inf' : (10 * Math.log10((255 * 255) / mse)).toFixed(1)} dB`);
}

const out = new Uint8Array((r.width * r.height * 3) / 2);
const pose = (t: number): MotionParams => ({
  jawOpen: 0.5 + 0.5 * Math.sin(t / 3), lipWidth: 0.5 * Math.sin(t / 7), lipRound: 0.5 + 0.5 * Math.sin(t / 11), lipPress: 0, lipBite: 0,
  blinkLeft: t % 40 < 4 ? 1 : 0, blinkRight: t % 40 < 4 ? 1 : 0,
  headYaw: 3 * Math.sin(t / 17), headPitch: 2 * Math.sin(t / 13), headRoll: 2 * Math.sin(t / 19), breath: Math.sin(t / 30),
});
for (let i = 0; i < 20; i++) await r.renderInto(pose(i), out);
let best = Infinity;
const runs: number[] = [];
for (let run = 0; run < 5; run++) {
  const t0 = performance.now();
  for (let i = 0; i < frames / 5; i++) await r.renderInto(pose(i), out);
  const ms = (performance.now() - t0) / (frames / 5);
  runs.push(ms);
  best = Math.min(best, ms);
}
console.log(`ms/frame (renderInto, one thread): best ${best.toFixed(2)}, runs ${runs.map((x) => x.toFixed(2)).join(' ')}`);

if (pngDir) {
  mkdirSync(pngDir, { recursive: true });
  const shots: Record<string, Partial<MotionParams>> = {
    rest: {}, jaw05: { jawOpen: 0.5 }, jaw1: { jawOpen: 1 }, blink: { blinkLeft: 1, blinkRight: 1 }, blinkhalf: { blinkLeft: 0.5, blinkRight: 0.5 },
    yaw3: { headYaw: 3 }, mix: { jawOpen: 0.7, headYaw: 3, headPitch: 2, headRoll: 2, lipWidth: 0.5 }, round: { jawOpen: 0.4, lipRound: 1 },
    wide: { jawOpen: 0.3, lipWidth: 1 }, jaw02: { jawOpen: 0.2 }, narrow: { lipWidth: -1 },
  };
  for (const [name, p] of Object.entries(shots)) {
    const f = await r.render({ ...REST_POSE, ...p });
    const png = new PNG({ width: r.width, height: r.height });
    png.data = Buffer.from(i420ToRgba(f, r.width, r.height));
    writeFileSync(`${pngDir}/${name}.png`, PNG.sync.write(png));
  }
  console.log(`PNGs in ${pngDir}`);
}
await r.close();
