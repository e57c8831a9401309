/**
 * Encodes mono float audio into compressed test files with beamcoder (FFmpeg): MP3 (libmp3lame)
 * and Opus in OGG (libopus). The tests make their own MP3/Opus versions of espeak-ng speech.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beamcoder, type Beamcoder } from '../../pipeline/media/beamcoder.js';
import { resample } from '../../pipeline/audio/resampler.js';

export type CompressedKind = 'mp3' | 'opus';

interface Recipe {
  encoder: string;
  format: string;
  sampleFmt: string;
  ext: string;
  /** Hz the encoder accepts; other rates are resampled first */
  rates: number[];
}

const RECIPES: Record<CompressedKind, Recipe> = {
  mp3: { encoder: 'libmp3lame', format: 'mp3', sampleFmt: 'fltp', ext: 'mp3', rates: [8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000] },
  opus: { encoder: 'libopus', format: 'ogg', sampleFmt: 'flt', ext: 'ogg', rates: [48000, 24000, 16000, 12000, 8000] },
};

/** Writes `samples` (mono, `rate` Hz) as an MP3 or OGG/Opus file in a new temp folder; returns its path. */
export async function encodeAudioFile(samples: Float32Array, rate: number, kind: CompressedKind, bitRate = 64_000): Promise<string> {
  const recipe = RECIPES[kind];
  const bc = beamcoder();
  if (!bc.encoders()[recipe.encoder]) throw new Error(`FFmpeg has no ${recipe.encoder} encoder (install Debian's libavcodec59 with it)`);
  const encRate = recipe.rates.includes(rate) ? rate : 48_000;
  const pcm = encRate === rate ? samples : resample(samples, rate, encRate);
  const path = join(mkdtempSync(join(tmpdir(), 'encoded-')), `speech.${recipe.ext}`);

  const encoder: Beamcoder = bc.encoder({
    name: recipe.encoder,
    sample_rate: encRate,
    sample_fmt: recipe.sampleFmt,
    channels: 1,
    channel_layout: 'mono',
    bit_rate: bitRate,
    time_base: [1, encRate],
  });
  const muxer: Beamcoder = bc.muxer({ format_name: recipe.format });
  const stream: Beamcoder = muxer.newStream({ name: recipe.encoder === 'libopus' ? 'opus' : 'mp3', time_base: [1, encRate] });
  Object.assign(stream.codecpar, encoder.extractParams());
  await muxer.openIO({ url: `file:${path}` });
  await muxer.writeHeader();

  const frameSize: number = encoder.frame_size;
  const write = async (packets: Beamcoder[]): Promise<void> => {
    for (const p of packets) {
      p.stream_index = stream.index;
      await muxer.writeFrame(p);
    }
  };
  for (let at = 0; at < pcm.length; at += frameSize) {
    const n = Math.min(frameSize, pcm.length - at);
    const frame = bc.frame({ format: recipe.sampleFmt, sample_rate: encRate, channels: 1, channel_layout: 'mono', nb_samples: n, pts: at }).alloc();
    const plane: Buffer = frame.data[0];
    new Float32Array(plane.buffer, plane.byteOffset, n).set(pcm.subarray(at, at + n));
    await write((await encoder.encode(frame)).packets);
  }
  await write((await encoder.flush()).packets);
  await muxer.writeTrailer();
  return path;
}

/** Writes a one-frame 16x16 FFV1 Matroska file (a media file with no audio); returns its path. */
export async function encodeVideoOnlyFile(): Promise<string> {
  const bc = beamcoder();
  const path = join(mkdtempSync(join(tmpdir(), 'video-only-')), 'video.mkv');
  const encoder: Beamcoder = bc.encoder({
    name: 'ffv1',
    width: 16,
    height: 16,
    pix_fmt: 'yuv420p',
    time_base: [1, 25],
    flags: { GLOBAL_HEADER: true },
  });
  const muxer: Beamcoder = bc.muxer({ format_name: 'matroska' });
  const stream: Beamcoder = muxer.newStream({ name: 'ffv1', time_base: [1, 1000] });
  const { extradata } = encoder.extractParams();
  Object.assign(stream.codecpar, { width: 16, height: 16, format: 'yuv420p', extradata });
  await muxer.openIO({ url: `file:${path}` });
  await muxer.writeHeader();
  const frame = bc.frame({ width: 16, height: 16, format: 'yuv420p', pts: 0 }).alloc();
  const { packets } = await encoder.encode(frame);
  for (const p of [...packets, ...(await encoder.flush()).packets]) {
    p.stream_index = stream.index;
    p.pts = 0;
    p.dts = 0;
    p.duration = 40;
    await muxer.writeFrame(p);
  }
  await muxer.writeTrailer();
  return path;
}
