/**
 * Asterisk's prompts as Debian packages them, for prep-asterisk.ts and prep-asterisk-lang.ts: the
 * transcript of asterisk-core-sounds-LANG (lines "NAME: the words") with the G.722 file of each
 * (asterisk-core-sounds-LANG-g722, 16 kHz), and each prompt written out as 16 kHz 16-bit WAV.
 */
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { encodeWavS16 } from '../../pipeline/audio/wav.js';
import { beamcoder } from '../../pipeline/media/beamcoder.js';

export interface AsteriskPrompt {
  /** the file name to write it under: its path below the voice's folder, "/" as "__" */
  name: string;
  /** the words of the transcript's line */
  text: string;
  /** its .g722 file; undefined where the package has none */
  file: string | undefined;
}

/** Every transcript line of `lang` (extracted under `root`), with the file of the voice in `subdir` ("en_US_f_Allison"). */
export function asteriskPrompts(root: string, lang: string, subdir: string): AsteriskPrompt[] {
  const files = g722Files(join(root, 'usr/share/asterisk/sounds', subdir));
  const texts = gunzipSync(readFileSync(join(root, `usr/share/doc/asterisk-core-sounds-${lang}/core-sounds-${lang}.txt.gz`))).toString('utf8');
  const prompts: AsteriskPrompt[] = [];
  for (const line of texts.split('\n')) {
    const m = /^([\w/-]+):\s*(.+)$/.exec(line);
    if (m) prompts.push({ name: m[1]!.replace(/\//g, '__'), text: m[2]!, file: files.get(m[1]!) });
  }
  return prompts;
}

/** Writes a prompt's G.722 `file` as OUT/NAME.wav and `words` as OUT/NAME.txt; returns its length in seconds. */
export async function writePrompt(out: string, name: string, file: string, words: string): Promise<number> {
  const samples = await decodeG722(file);
  writeFileSync(join(out, `${name}.wav`), encodeWavS16(samples, 16_000));
  writeFileSync(join(out, `${name}.txt`), words + '\n');
  return samples.length / 16_000;
}

/** A raw G.722 file decoded by FFmpeg (beamcoder) to 16 kHz 16-bit samples. */
async function decodeG722(path: string): Promise<Int16Array> {
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
function g722Files(dir: string): Map<string, string> {
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
