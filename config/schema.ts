/**
 * The one configuration of the server and the renderer: a zod schema with defaults and ranges.
 * Parameter names follow the ones users of talking-head tools know (Sonic / ComfyUI):
 * min_resolution, expand_ratio, inference_steps, dynamic_scale, motion_scale, fps, ...
 */
import { z } from 'zod';

const smoothingSchema = z.strictObject({
  /** One-Euro filter minimum cutoff, Hz: lower = smoother at rest, more lag */
  min_cutoff: z.number().min(0.01).max(50).default(2.0),
  /** One-Euro speed coefficient: higher = less lag on fast motion */
  beta: z.number().min(0).max(10).default(0.3),
  /** cutoff of the derivative filter, Hz */
  d_cutoff: z.number().min(0.01).max(50).default(1.0),
});

export const avatarSchema = z.strictObject({
  /** shorter side of the rendered portrait, pixels (even) */
  min_resolution: z.number().int().min(128).max(1024).multipleOf(2).default(512),
  /** fraction of the face box added on each side before cropping the portrait */
  expand_ratio: z.number().min(0).max(2).default(0.5),
  /** output frames per second */
  fps: z.number().int().min(10).max(60).default(25),
  /** diffusion sampler steps (Sonic engine; the portrait engine has no sampler and ignores it) */
  inference_steps: z.number().int().min(1).max(100).default(25),
  /** scale of mouth motion (and Sonic's motion bucket) */
  dynamic_scale: z.number().min(0).max(3).default(1.0),
  /** scale of head motion, blinks' and breathing's amplitude */
  motion_scale: z.number().min(0).max(3).default(1.0),
  /** shift of mouth motion against the audio, ms; positive = the mouth moves later */
  lip_sync_offset_ms: z.number().min(-200).max(200).default(0),
  /** audio past a frame's end the engine waits for before rendering it, ms; 0 = only what its analysis needs */
  lookahead_ms: z.number().min(0).max(200).default(0),
  /** motion smoothing (One-Euro filter) on the motion parameters */
  smoothing: smoothingSchema.default({ min_cutoff: 2.0, beta: 0.3, d_cutoff: 1.0 }),
  /** seed of the idle motion (blinks, head motion); same seed = same motion */
  seed: z.number().int().min(0).max(2 ** 31 - 1).default(1),
});

export const encoderSchema = z.strictObject({
  /** libx264 preset */
  x264_preset: z.enum(['ultrafast', 'superfast', 'veryfast', 'faster', 'fast', 'medium', 'slow']).default('veryfast'),
  /** libx264 constant rate factor (lower = better) */
  crf: z.number().int().min(0).max(51).default(23),
  /** AAC bit rate, bits per second */
  audio_bitrate: z.number().int().min(32_000).max(320_000).default(128_000),
});

export const runtimeSchema = z.strictObject({
  /** engine behind the pipeline */
  engine: z.enum(['portrait', 'sonic']).default('portrait'),
  /** ONNX Runtime intra-op threads of the engine's sessions */
  intra_op_threads: z.number().int().min(1).max(64).default(1),
  /** directory of cached portrait enrolments */
  cache_dir: z.string().min(1).default('.cache/portraits'),
});

export const serverSchema = z.strictObject({
  /** bind address; loopback by default, nothing listens beyond what this says */
  host: z.string().min(1).default('127.0.0.1'),
  port: z.number().int().min(0).max(65535).default(8080),
});

export const configSchema = z.strictObject({
  preset: z.enum(['fast', 'quality']).default('fast'),
  avatar: avatarSchema.default(avatarSchema.parse({})),
  encoder: encoderSchema.default(encoderSchema.parse({})),
  runtime: runtimeSchema.default(runtimeSchema.parse({})),
  server: serverSchema.default(serverSchema.parse({})),
});

export type Config = z.infer<typeof configSchema>;
export type AvatarConfig = Config['avatar'];
export type EncoderConfig = Config['encoder'];
export type PresetName = Config['preset'];
