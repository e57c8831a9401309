import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Mp4Writer } from '../../pipeline/encode/mp4-writer.js';
import { readMp4 } from '../../pipeline/encode/mp4-reader.js';
import { i420Size } from '../../pipeline/records.js';

const OK = { width: 64, height: 64, fps: 25, sampleRate: 48_000 };
const tmp = (): string => join(mkdtempSync(join(tmpdir(), 'mp4-err-')), 'out.mp4');

describe('Mp4Writer rejects bad input with clear errors', () => {
  it('rejects an odd width', async () => {
    await expect(Mp4Writer.open(tmp(), { ...OK, width: 63 })).rejects.toThrow(/width must be an even integer.*got 63/);
  });

  it('rejects fps 0', async () => {
    await expect(Mp4Writer.open(tmp(), { ...OK, fps: 0 })).rejects.toThrow(/fps must be an integer.*got 0/);
  });

  it('rejects a sample rate AAC cannot signal', async () => {
    await expect(Mp4Writer.open(tmp(), { ...OK, sampleRate: 47_000 })).rejects.toThrow(/sampleRate must be one of the AAC rates/);
  });

  it('rejects an unknown x264 preset and a crf out of range', async () => {
    // @ts-expect-error: deliberately not a preset
    await expect(Mp4Writer.open(tmp(), { ...OK, x264Preset: 'warp' })).rejects.toThrow(/x264Preset must be one of/);
    await expect(Mp4Writer.open(tmp(), { ...OK, crf: 60 })).rejects.toThrow(/crf must be an integer in \[0, 51\]/);
  });

  it('rejects a path it cannot write, naming the path', async () => {
    const bad = join(tmpdir(), 'no-such-dir-for-mp4', 'sub', 'out.mp4');
    await expect(Mp4Writer.open(bad, OK)).rejects.toThrow(/cannot open ".*no-such-dir-for-mp4\/sub\/out\.mp4" for writing/);
    const dir = mkdtempSync(join(tmpdir(), 'mp4-dir-'));
    await expect(Mp4Writer.open(dir, OK)).rejects.toThrow(/cannot open .* for writing/);
  });

  it('rejects frames of the wrong size and use after close', async () => {
    const w = await Mp4Writer.open(tmp(), OK);
    expect(() => w.writeVideo(new Uint8Array(100))).toThrow(/expected an I420 Uint8Array of 6144 bytes \(64x64\), got Uint8Array\(100\)/);
    // @ts-expect-error: deliberately not a Float32Array
    expect(() => w.writeAudio([0, 1])).toThrow(/expected a Float32Array/);
    await w.writeVideo(new Uint8Array(i420Size(64, 64)).fill(100));
    await w.close();
    await expect(w.close()).rejects.toThrow(/closed/);
    expect(() => w.writeVideo(new Uint8Array(i420Size(64, 64)))).toThrow(/closed/);
  });

  it('refuses to finish a file without video', async () => {
    const w = await Mp4Writer.open(tmp(), OK);
    await w.writeAudio(new Float32Array(4800));
    await expect(w.close()).rejects.toThrow(/no video frames were written/);
  });

  it('readMp4 names a missing file', async () => {
    await expect(readMp4('/nonexistent/clip.mp4')).rejects.toThrow(/no such file "\/nonexistent\/clip\.mp4"/);
  });
});
