/**
 * The render command on bad input: a one-line reason on stderr, exit code 2, no MP4 left behind
 * half-written as if it were good. Runs the real command in a child process.
 */
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';
import { ASTRONAUT, speakWav, wavBytes, wavSamples } from '../helpers/speech.js';
import { runRender } from '../helpers/render-cli.js';

const dir = mkdtempSync(join(tmpdir(), 'render-cli-'));
const render = (args: string[]) => runRender(args);

function file(name: string, bytes: Uint8Array | string): string {
  const p = join(dir, name);
  writeFileSync(p, bytes);
  return p;
}

const good = wavSamples(speakWav('One, two.'));
const goodWav = file('good.wav', wavBytes(good.samples, good.sampleRate));

/** The last line on stderr that the command itself wrote. */
function reason(stderr: string): string {
  return stderr.split('\n').filter((l) => l.startsWith('render:')).pop() ?? '';
}

describe('npm run render on bad input', () => {
  it('a truncated WAV: exit 2 and says it is truncated', () => {
    const whole = wavBytes(good.samples, good.sampleRate);
    const out = join(dir, 'a.mp4');
    const r = render(['--audio', file('truncated.wav', whole.subarray(0, 2000)), '--portrait', ASTRONAUT, '--out', out]);
    expect(r.code).toBe(2);
    expect(reason(r.stderr)).toMatch(/truncated WAV/);
  });

  it('a WAV whose header has a wrong sample rate: exit 2 and names the inconsistency', () => {
    const bad = Buffer.from(wavBytes(good.samples, good.sampleRate));
    bad.writeUInt32LE(0, 24); // sample rate 0
    const r = render(['--audio', file('rate0.wav', bad), '--portrait', ASTRONAUT, '--out', join(dir, 'b.mp4')]);
    expect(r.code).toBe(2);
    expect(reason(r.stderr)).toMatch(/sample rate/i);
  });

  it('empty audio: exit 2, no samples', () => {
    const r = render(['--audio', file('empty.wav', wavBytes(new Float32Array(0), 22050)), '--portrait', ASTRONAUT, '--out', join(dir, 'c.mp4')]);
    expect(r.code).toBe(2);
    expect(reason(r.stderr)).toMatch(/no (audio )?samples/i);
  });

  it('a portrait that is not an image: exit 2, expected PNG or JPEG', () => {
    const r = render(['--audio', goodWav, '--portrait', file('notes.png', 'this is not a picture'), '--out', join(dir, 'd.mp4')]);
    expect(r.code).toBe(2);
    expect(reason(r.stderr)).toMatch(/PNG or JPEG/);
  });

  it('an image without a face: exit 2, no face found, and no MP4 is written', () => {
    const png = new PNG({ width: 256, height: 256 });
    for (let i = 0; i < png.data.length; i += 4) {
      png.data[i] = 90;
      png.data[i + 1] = 140;
      png.data[i + 2] = 200;
      png.data[i + 3] = 255;
    }
    const out = join(dir, 'e.mp4');
    const r = render(['--audio', goodWav, '--portrait', file('sky.png', PNG.sync.write(png)), '--out', out]);
    expect(r.code).toBe(2);
    expect(reason(r.stderr)).toMatch(/no face/i);
    expect(existsSync(out)).toBe(false);
  });

  it('usage errors: a missing --out, an unknown option, a bad preset', () => {
    expect(render(['--audio', goodWav, '--portrait', ASTRONAUT]).code).toBe(2);
    const u = render(['--audio', goodWav, '--portrait', ASTRONAUT, '--out', join(dir, 'f.mp4'), '--fps', '30']);
    expect(u.code).toBe(2);
    expect(u.stderr).toMatch(/unknown option --fps/);
    const p = render(['--audio', goodWav, '--portrait', ASTRONAUT, '--out', join(dir, 'g.mp4'), '--preset', 'turbo']);
    expect(p.code).toBe(2);
    expect(p.stderr).toMatch(/preset/);
  });

  it('an output folder that does not exist: exit 1, says it cannot write there, leaves nothing', () => {
    const out = join(dir, 'no-such-folder', 'x.mp4');
    const r = render(['--audio', goodWav, '--portrait', ASTRONAUT, '--out', out]);
    expect(r.code).toBe(1);
    expect(reason(r.stderr)).toMatch(/render: failed: .*cannot open .*for writing/);
    expect(existsSync(out)).toBe(false);
  });

  it('good input renders: exit 0 and an MP4 on disk', () => {
    const out = join(dir, 'ok.mp4');
    const r = render(['--audio', goodWav, '--portrait', ASTRONAUT, '--out', out]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/render: wrote .* 540x960 @ 25 fps/);
    expect(existsSync(out)).toBe(true);
  });
});
