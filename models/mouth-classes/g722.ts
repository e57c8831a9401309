/**
 * A raw G.722 file (Asterisk's 16 kHz prompts), decoded by FFmpeg (beamcoder) to 16 kHz 16-bit
 * samples; for prep-asterisk.ts and prep-asterisk-lang.ts.
 */
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { beamcoder } from '../../pipeline/media/beamcoder.js';

export async function decodeG722(path: string): Promise<Int16Array> {
  const bc = beamcoder();
  const demuxer = await bc.demuxer({ url: `file:${path}`, iformat: bc.demuxers().g722 });
  const dec = bc.decoder({ demuxer, stream_index: 0 });
  const parts: Int16Array[] = [];
  const take = (frames: { data: Buffer[]; nb_samples: number; format: string }[]) => {
    for (const f of frames) {
      if (f.format !== 's16') throw new Error(`${path}: G.722 decoded to ${f.format}, s16 expected`);
      parts.push(new Int16Array(f.data[0]!.buffer.slice(f.data[0]!.byteOffset, f.data[0]!.byteOffset + 2 * f.nb_samples)));
    }
  };
  for (let p = await demuxer.read(); p != null; p = await demuxer.read()) take((await dec.decode(p)).frames);
  take((await dec.flush()).frames);
  const s = new Int16Array(parts.reduce((a, p) => a + p.length, 0));
  let k = 0;
  for (const p of parts) { s.set(p, k); k += p.length; }
  return s;
}

/** The .g722 files under `dir`, by their path below it without the extension ("vm-intro", "digits/1"). */
export function g722Files(dir: string): Map<string, string> {
  const files = new Map<string, string>();
  (function walk(d: string) {
    for (const n of readdirSync(d)) {
      const p = join(d, n);
      if (statSync(p).isDirectory()) walk(p);
      else if (n.endsWith('.g722')) files.set(relative(dir, p).slice(0, -5), p);
    }
  })(dir);
  return files;
}
