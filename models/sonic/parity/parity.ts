/**
 * npm run sonic:parity -- --sonic-src DIR [--keep DIR] [--portrait IMG] [--audio WAV | --text "..."]
 *                         [--seconds 2.6] [--steps 10] [--min-resolution 256] [--seed 7] [--full-size]
 *
 * The Sonic parity harness. DIR is a checkout of the official Sonic repository that you supply
 * (CC BY-NC-SA: read there, never copied here). With the Python environment of
 * `npm run sonic:parity:setup` (.cache/sonic-parity/venv) it:
 *   1. builds the official architecture at small sizes with seeded random weights, laid out as the
 *      official checkpoints folder (tiny_sonic.py);
 *   2. exports it with the project's exporter (models/sonic/export/export_sonic.py);
 *   3. runs the official preprocessing, sonic.py test() / SonicPipeline and RIFE on a portrait and
 *      2-3 s of speech, saving every intermediate (run_official.py; the face box comes from our
 *      face detector, as the official YOLO weights are not to be had);
 *   4. runs our TypeScript runner on the export, stage by stage and end to end (compare.ts), and
 *      prints the table and one line: `sonic parity: PASS, frames PSNR <x> dB` or
 *      `sonic parity: FAIL, <stage>: <why>`. Exit 0 only on PASS.
 * --full-size: the real-size architecture (1.5 B-parameter UNet) with random weights instead:
 * exports it at 512 x 512, loads it in onnxruntime-node and times one UNet call; prints time and
 * disk (no comparison: the official pipeline at full size does not run on this CPU in reasonable time).
 * Everything is written under .cache/ (or --keep DIR): nothing of it belongs in the repository.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import * as ort from 'onnxruntime-node';
import { parseArgs, UsageError } from '../../../pipeline/cli/args.js';
import { decodeImage } from '../../face/image.js';
import { detectFaces, closeFaceMesh } from '../../face/face-mesh.js';
import { pickFace } from '../../face/enrol.js';
import { decodeWavSamples, encodeWavS16, parseWavHeader } from '../../../pipeline/audio/wav.js';
import { Resampler } from '../../../pipeline/audio/resampler.js';
import { officialSize } from '../preprocess.js';
import { compareWithOfficial, TOLERANCE } from './compare.js';

const HERE = resolve(import.meta.dirname);
const ROOT = resolve(HERE, '../../..');
const PYTHON = join(ROOT, '.cache/sonic-parity/venv/bin/python');
const USAGE =
  'usage: npm run sonic:parity -- --sonic-src DIR [--keep DIR] [--portrait IMG] [--audio WAV | --text "..."] [--seconds 2.6] [--steps 10] [--min-resolution 256] [--seed 7] [--full-size]';
const DEFAULT_TEXT = 'Good morning. Please take a number, and wait until it is called.';

function python(script: string, args: string[]): void {
  const t0 = performance.now();
  const r = spawnSync(PYTHON, [join(HERE, '..', script.startsWith('export') ? 'export' : 'parity', script), ...args], {
    stdio: ['ignore', 'inherit', 'inherit'],
    env: { ...process.env, PYTHONWARNINGS: 'ignore', TRANSFORMERS_VERBOSITY: 'error', HF_HUB_OFFLINE: '1' },
  });
  if (r.status !== 0) throw new Error(`${script} failed (exit ${r.status ?? r.signal})`);
  console.log(`sonic parity: ${script} took ${((performance.now() - t0) / 1000).toFixed(1)} s`);
}

function du(dir: string): number {
  let n = 0;
  for (const f of readdirSync(dir, { withFileTypes: true })) n += f.isDirectory() ? du(join(dir, f.name)) : statSync(join(dir, f.name)).size;
  return n;
}

/** 16 kHz mono of at most `seconds`: the WAV given, or `text` spoken by espeak-ng. */
function speech16k(audioPath: string | undefined, text: string, seconds: number, work: string): Float32Array {
  let bytes: Uint8Array;
  if (audioPath) bytes = new Uint8Array(readFileSync(audioPath));
  else {
    const r = spawnSync('espeak-ng', ['-v', 'en-us', '--stdout', text], { maxBuffer: 64 << 20 });
    if (r.status !== 0) throw new Error(`espeak-ng could not speak the test text (${r.error?.message ?? r.stderr}): install it (deploy/setup.sh does) or pass --audio`);
    bytes = new Uint8Array(r.stdout);
  }
  const info = parseWavHeader(bytes);
  let samples = decodeWavSamples(bytes, info);
  if (info.sampleRate !== 16_000) {
    const rs = new Resampler(info.sampleRate, 16_000);
    const a = rs.process(samples);
    const b = rs.flush();
    samples = new Float32Array(a.length + b.length);
    samples.set(a);
    samples.set(b, a.length);
  }
  samples = samples.subarray(0, Math.min(samples.length, Math.round(seconds * 16_000)));
  // both sides read this file: the official with librosa, ours with the project's WAV reader
  const wav = encodeWavS16(samples, 16_000);
  writeFileSync(join(work, 'speech16k.wav'), wav);
  return decodeWavSamples(wav, parseWavHeader(wav));
}

async function fullSize(src: string, work: string, seed: number): Promise<void> {
  const t0 = performance.now();
  if (!existsSync(join(work, 'full', 'tiny_sonic.json'))) python('tiny_sonic.py', ['--sonic-src', src, '--out', join(work, 'full'), '--size', 'full', '--seed', String(seed)]);
  const tBuild = performance.now();
  python('export_sonic.py', ['--sonic', src, '--checkpoints', join(work, 'full', 'checkpoints'), '--out', join(work, 'onnx-full'), '--width', '512', '--height', '512', '--window', '2', '--device', 'cpu', '--tolerance', '1e-3']);
  const tExport = performance.now();
  const files = readdirSync(join(work, 'onnx-full')).map((f) => `${f} ${(statSync(join(work, 'onnx-full', f)).size / 2 ** 30).toFixed(2)} GiB`);
  console.log(`sonic parity (full size): random weights built in ${((tBuild - t0) / 1000).toFixed(0)} s (${(du(join(work, 'full')) / 2 ** 30).toFixed(1)} GiB), exported and checked in ${((tExport - tBuild) / 1000).toFixed(0)} s (${(du(join(work, 'onnx-full')) / 2 ** 30).toFixed(1)} GiB: ${files.join(', ')})`);
  const tLoad = performance.now();
  const session = await ort.InferenceSession.create(join(work, 'onnx-full', 'unet.onnx'), { intraOpNumThreads: 2, graphOptimizationLevel: 'all' });
  console.log(`sonic parity (full size): onnxruntime-node loaded unet.onnx (+ external data) in ${((performance.now() - tLoad) / 1000).toFixed(1)} s; inputs ${session.inputNames.join(', ')}`);
  for (const F of [1, 2]) {
    const h = 64;
    const feeds = {
      sample: new ort.Tensor('float32', new Float32Array(3 * F * 8 * h * h).map(() => Math.random() - 0.5), [3, F, 8, h, h]),
      timestep: new ort.Tensor('float32', new Float32Array(3).fill(0.25 * Math.log(20)), [3]),
      encoder_hidden_states: new ort.Tensor('float32', new Float32Array(3 * 1024).map(() => Math.random() - 0.5), [3, 1, 1024]),
      audio_tokens: new ort.Tensor('float32', new Float32Array(3 * F * 32 * 1024).map(() => Math.random() - 0.5), [3, F, 32, 1024]),
      face_mask: new ort.Tensor('float32', new Float32Array(512 * 512).fill(1), [1, 1, 512, 512]),
      added_time_ids: new ort.Tensor('float32', new Float32Array([12.5, 40, 60, 12.5, 40, 60, 12.5, 40, 60]), [3, 3]),
    };
    const tRun = performance.now();
    const out = await session.run(feeds);
    const ms = performance.now() - tRun;
    console.log(`sonic parity (full size): one UNet call, batch 3 (the guidance branches) x ${F} frame(s) at 512 x 512, CPU (2 threads): ${(ms / 1000).toFixed(1)} s (${(ms / 3 / F / 1000).toFixed(1)} s per frame-branch); output ${out.noise_pred!.dims.join('x')}`);
  }
  await session.release();
}

async function main(argv: string[]): Promise<number> {
  let args;
  try {
    args = parseArgs(argv, { values: ['sonic-src', 'keep', 'portrait', 'audio', 'text', 'seconds', 'steps', 'min-resolution', 'seed'], flags: ['full-size', 'help'] });
    if (args.flags.has('help')) {
      console.log(USAGE);
      return 0;
    }
    if (!args.values['sonic-src']) throw new UsageError('--sonic-src is required: a checkout of the official Sonic repository');
  } catch (e) {
    console.error(`sonic parity: ${(e as Error).message}\n${USAGE}`);
    return 2;
  }
  const src = resolve(args.values['sonic-src']!);
  if (!existsSync(join(src, 'src', 'pipelines', 'pipeline_sonic.py'))) {
    console.error(`sonic parity: ${src} is not a checkout of the official Sonic repository (no src/pipelines/pipeline_sonic.py)`);
    return 2;
  }
  if (!existsSync(PYTHON)) {
    console.error(`sonic parity: no Python environment at ${PYTHON}: run npm run sonic:parity:setup first`);
    return 2;
  }
  const keep = args.values.keep ? resolve(args.values.keep) : undefined;
  mkdirSync(join(ROOT, '.cache/sonic-parity'), { recursive: true });
  const work = keep ?? mkdtempSync(join(ROOT, '.cache/sonic-parity/run-'));
  mkdirSync(work, { recursive: true });
  const seed = Number(args.values.seed ?? 7);
  try {
    if (args.flags.has('full-size')) {
      await fullSize(src, work, seed);
      return 0;
    }
    const steps = Number(args.values.steps ?? 10);
    const minRes = Number(args.values['min-resolution'] ?? 256);
    const portraitPath = resolve(args.values.portrait ?? join(ROOT, '..', 'shared', 'media', 'portrait-astronaut.png'));
    if (!existsSync(portraitPath)) throw new UsageError(`no portrait at ${portraitPath}: pass --portrait IMG`);
    const img = decodeImage(new Uint8Array(readFileSync(portraitPath)));
    const face = pickFace(await detectFaces(img));
    await closeFaceMesh();
    const box = { x: Math.round(face.box.x), y: Math.round(face.box.y), width: Math.round(face.box.width), height: Math.round(face.box.height) };
    const frame = officialSize(img.width, img.height, minRes);
    const audio = speech16k(args.values.audio, args.values.text ?? DEFAULT_TEXT, Number(args.values.seconds ?? 2.6), work);
    console.log(`sonic parity: ${portraitPath} (${img.width}x${img.height}, face ${box.width}x${box.height} at ${box.x},${box.y}), ${(audio.length / 16_000).toFixed(2)} s of speech, frame ${frame.width}x${frame.height}, ${steps} steps`);
    if (!existsSync(join(work, 'tiny', 'tiny_sonic.json'))) python('tiny_sonic.py', ['--sonic-src', src, '--out', join(work, 'tiny'), '--seed', String(seed)]);
    python('export_sonic.py', ['--sonic', src, '--checkpoints', join(work, 'tiny', 'checkpoints'), '--out', join(work, 'onnx'), '--width', String(frame.width), '--height', String(frame.height), '--device', 'cpu', '--tolerance', '1e-4']);
    python('run_official.py', ['--sonic-src', src, '--checkpoints', join(work, 'tiny', 'checkpoints'), '--image', portraitPath, '--audio', join(work, 'speech16k.wav'),
      '--face-box', `${box.x},${box.y},${box.width},${box.height}`, '--min-resolution', String(minRes), '--steps', String(steps), '--out', join(work, 'reference')]);
    console.log(`\nstage (ours against the official, FP32, CPU; judged within ${TOLERANCE} relative)`);
    const report = await compareWithOfficial(
      { reference: join(work, 'reference'), weights: join(work, 'onnx'), portrait: img, faceBox: box, audio, streaming: { window: 25, overlap: 5 } },
      (line) => console.log(line),
    );
    if (report.streaming) {
      const s = report.streaming;
      console.log(`\nstreaming (25-frame causal windows, overlap 5, ${s.windows} windows; differs on purpose, reported): PSNR against the offline frames ${s.psnrDb.toFixed(2)} dB (I420); ` +
        `mean |luma step| at window seams ${s.seamStep.toFixed(2)} vs inside windows ${s.insideStep.toFixed(2)} (official offline at the same places: ${s.officialSeamStep.toFixed(2)} vs ${s.officialInsideStep.toFixed(2)})`);
    }
    console.log(report.pass ? `sonic parity: PASS, frames PSNR ${report.psnrDb.toFixed(2)} dB` : `sonic parity: FAIL, ${report.failure}`);
    return report.pass ? 0 : 1;
  } catch (e) {
    console.log(`sonic parity: FAIL, harness: ${(e as Error).message}`);
    return 1;
  } finally {
    if (!keep) rmSync(work, { recursive: true, force: true });
  }
}

main(process.argv.slice(2)).then((code) => process.exit(code));
