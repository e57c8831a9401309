/**
 * The Sonic engine behind the two front doors: `npm run render -- --engine sonic` (a child
 * process, offline and streaming modes) and the live server's inference worker (the engine
 * module the avatar sessions start). Stand-in graphs with the Sonic contract, on CPU.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeStandInWeights } from '../../models/sonic/stand-in.js';
import { readMp4 } from '../../pipeline/encode/mp4-reader.js';
import { WorkerEngine } from '../../pipeline/engine/worker-engine.js';
import type { AvatarFrame } from '../../pipeline/records.js';
import { ASTRONAUT, speakWav, wavSamples } from '../helpers/speech.js';
import { runRender } from '../helpers/render-cli.js';

const ENGINE_MODULE = new URL('../../pipeline/engine/portrait-engine-module.ts', import.meta.url).pathname;
let dir: string;
let weights: string;
let wav: string;

const render = (args: string[]) => runRender(args, 120_000);

function config(name: string, sonic: Record<string, unknown>): string {
  const p = join(dir, name);
  writeFileSync(p, JSON.stringify({ sonic: { weights_dir: weights, ...sonic }, runtime: { cache_dir: join(dir, 'portraits') } }));
  return p;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'sonic-render-'));
  weights = join(dir, 'weights');
  await writeStandInWeights(weights, { frame: { width: 512, height: 512 } });
  wav = join(dir, 'speech.wav');
  writeFileSync(wav, speakWav('Good morning. Your number is forty two.'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('Sonic through the render command and the live server', () => {
  for (const mode of ['offline', 'streaming'] as const) {
    it(`npm run render -- --engine sonic (${mode}) writes a valid MP4: H.264 at 25 fps, one frame per 40 ms of audio, AAC, the default 540x960 picture (Sonic pasted back)`, async () => {
      const out = join(dir, `${mode}.mp4`);
      const r = render(['--audio', wav, '--portrait', ASTRONAUT, '--out', out, '--engine', 'sonic', '--preset', 'fast', '--config', config(`${mode}.json`, { render_mode: mode })]);
      expect(r.stderr.split('\n').filter((l) => l.startsWith('render:') && !/%/.test(l))).toEqual([]);
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/wrote .* 540x960 @ 25 fps/);
      const mp4 = await readMp4(out);
      const seconds = wavSamples(speakWav('Good morning. Your number is forty two.')).samples.length / 22_050;
      expect(mp4.video.codec).toBe('h264');
      expect([mp4.video.width, mp4.video.height]).toEqual([540, 960]);
      expect(Math.abs(mp4.video.frames.length - Math.round(seconds * 25))).toBeLessThanOrEqual(1);
      expect(mp4.audio.codec).toBe('aac');
      expect(Math.abs(mp4.durationSec - seconds)).toBeLessThan(0.1);
      // the stand-in shows the portrait: not a flat frame
      const y = mp4.video.frames[10]!.subarray(0, 540 * 960);
      const mean = y.reduce((a, b) => a + b, 0) / y.length;
      const spread = Math.sqrt(y.reduce((a, b) => a + (b - mean) ** 2, 0) / y.length);
      expect(spread).toBeGreaterThan(20);
    });
  }

  it('npm run render -- --engine sonic without the export: exit 2, naming the missing files and where they go', () => {
    const cfg = join(dir, 'none.json');
    writeFileSync(cfg, JSON.stringify({ sonic: { weights_dir: join(dir, 'absent') }, runtime: { cache_dir: join(dir, 'portraits') } }));
    const r = render(['--audio', wav, '--portrait', ASTRONAUT, '--out', join(dir, 'none.mp4'), '--engine', 'sonic', '--config', cfg]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/render: the Sonic weights are not complete in .*absent: missing audio_encoder\.onnx.*manifest\.json.*models\/sonic\/export/);
  });

  it('the live server path: the inference worker builds the Sonic engine from the config and streams its frames', async () => {
    const engine = await WorkerEngine.start({
      engineModule: ENGINE_MODULE,
      engineOptions: { portrait: ASTRONAUT, config: { runtime: { engine: 'sonic', cache_dir: join(dir, 'portraits') }, sonic: { weights_dir: weights }, avatar: { inference_steps: 4 } } },
    });
    try {
      expect(engine.info.name).toBe('sonic');
      expect([engine.info.width, engine.info.height]).toEqual([540, 960]);
      const speech = wavSamples(speakWav('Hello there.'));
      const { resample } = await import('../../pipeline/audio/resampler.js');
      engine.pushAudio(resample(speech.samples, speech.sampleRate, 16_000));
      engine.pushSilence(16_000 * 2);
      const frames: AvatarFrame[] = [];
      await expect.poll(async () => {
        frames.push(...(await engine.renderReady()));
        return frames.length;
      }, { timeout: 60_000, interval: 200 }).toBeGreaterThan(25);
      expect(frames.map((f) => f.index)).toEqual(frames.map((_, k) => k));
      expect(frames.some((f) => f.speaking)).toBe(true);
    } finally {
      await engine.close();
    }
  });
});
