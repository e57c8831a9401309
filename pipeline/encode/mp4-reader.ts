/**
 * Decodes an MP4 (or any file FFmpeg demuxes) back to tight I420 frames and mono float audio,
 * through beamcoder. Meant for tests and benchmarks that check what the writer produced; it holds
 * the whole decoded file in memory (use maxFrames to bound the video).
 */
import { existsSync } from 'node:fs';
import { beamcoder, type Beamcoder } from '../media/beamcoder.js';
import { concatSamples } from '../audio/pcm.js';
import { audioFrameToMono } from './audio-planes.js';
import { videoFrameToI420 } from './video-planes.js';

export interface DecodedVideo {
  width: number;
  height: number;
  /** frames per second the container declares (average frame rate) */
  fps: number;
  /** tight I420 frames in presentation order */
  frames: Uint8Array[];
  /** FFmpeg codec name, e.g. 'h264' */
  codec: string;
}

export interface DecodedAudio {
  /** Hz */
  sampleRate: number;
  /** channels in the file; samples are their average */
  channels: number;
  /** mono float samples in [-1, 1] */
  samples: Float32Array;
  /** FFmpeg codec name, e.g. 'aac' */
  codec: string;
}

export interface DecodedMp4 {
  video: DecodedVideo;
  audio: DecodedAudio;
  /** seconds, as the container reports it (what players show) */
  durationSec: number;
}

export interface ReadMp4Options {
  /** stop decoding video after this many frames (audio is still read in full) */
  maxFrames?: number;
}

export async function readMp4(path: string, opts: ReadMp4Options = {}): Promise<DecodedMp4> {
  const maxFrames = opts.maxFrames ?? Infinity;
  if (!(maxFrames === Infinity || (Number.isInteger(maxFrames) && maxFrames >= 0))) {
    throw new TypeError(`readMp4: maxFrames must be a non-negative integer, got ${maxFrames}`);
  }
  if (!existsSync(path)) throw new Error(`readMp4: no such file "${path}"`);
  const bc = beamcoder();
  let demuxer: Beamcoder;
  try {
    demuxer = await bc.demuxer(`file:${path}`);
  } catch (e) {
    throw new Error(`readMp4: cannot open "${path}" as media: ${(e as Error).message ?? e}`);
  }
  try {
    const vStream = demuxer.streams.find((s: Beamcoder) => s.codecpar.codec_type === 'video');
    const aStream = demuxer.streams.find((s: Beamcoder) => s.codecpar.codec_type === 'audio');
    if (!vStream || !aStream) {
      throw new Error(`readMp4: "${path}" needs one video and one audio stream, found ${demuxer.streams.length} stream(s) without ${vStream ? 'audio' : 'video'}`);
    }
    const vDec = bc.decoder({ demuxer, stream_index: vStream.index });
    const aDec = bc.decoder({ demuxer, stream_index: aStream.index });
    const frames: Uint8Array[] = [];
    const chunks: Float32Array[] = [];
    const takeVideo = (decoded: Beamcoder[]): void => {
      for (const f of decoded) if (frames.length < maxFrames) frames.push(videoFrameToI420(f));
    };
    const takeAudio = (decoded: Beamcoder[]): void => {
      for (const f of decoded) chunks.push(audioFrameToMono(f));
    };
    for (let packet = await demuxer.read(); packet != null; packet = await demuxer.read()) {
      if (packet.stream_index === vStream.index) {
        if (frames.length < maxFrames) takeVideo((await vDec.decode(packet)).frames);
      } else if (packet.stream_index === aStream.index) {
        takeAudio((await aDec.decode(packet)).frames);
      }
    }
    if (frames.length < maxFrames) takeVideo((await vDec.flush()).frames);
    takeAudio((await aDec.flush()).frames);

    const [num, den] = vStream.avg_frame_rate as number[];
    return {
      video: {
        width: vStream.codecpar.width,
        height: vStream.codecpar.height,
        fps: den > 0 ? num / den : NaN,
        frames,
        codec: vStream.codecpar.name,
      },
      audio: {
        sampleRate: aStream.codecpar.sample_rate,
        channels: aStream.codecpar.channels,
        samples: trimToStream(concatSamples(chunks), aStream),
        codec: aStream.codecpar.name,
      },
      // AVFormatContext.duration is in AV_TIME_BASE (microseconds)
      durationSec: demuxer.duration / 1e6,
    };
  } finally {
    demuxer.forceClose();
  }
}

/**
 * The decoder returns the last AAC frame whole; the stream's duration (from the MP4 edit list)
 * says where the audio really ends, as a player would cut it.
 */
function trimToStream(samples: Float32Array, stream: Beamcoder): Float32Array {
  const [num, den] = stream.time_base as number[];
  const duration: number | null = stream.duration;
  if (!duration || duration <= 0) return samples;
  const n = Math.round((duration * num * stream.codecpar.sample_rate) / den);
  return n < samples.length ? samples.subarray(0, n) : samples;
}

