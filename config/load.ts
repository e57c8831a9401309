/**
 * Loading the configuration: embedded defaults <- preset <- file <- overrides.
 * An invalid value fails with a message naming the key, its problem and the value given.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { configSchema, type Config, type PresetName } from './schema.js';
import { PRESETS } from './presets.js';

export class ConfigError extends Error {
  override name = 'ConfigError';
}

type Plain = Record<string, unknown>;

function isPlain(v: unknown): v is Plain {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Deep merge of plain objects; arrays and scalars from `over` replace. */
export function deepMerge(base: Plain, over: Plain): Plain {
  const out: Plain = { ...base };
  for (const [k, v] of Object.entries(over)) {
    out[k] = isPlain(v) && isPlain(out[k]) ? deepMerge(out[k] as Plain, v) : v;
  }
  return out;
}

function valueAt(obj: unknown, path: PropertyKey[]): unknown {
  let cur: unknown = obj;
  for (const k of path) {
    if (!isPlain(cur)) return undefined;
    cur = cur[k as string];
  }
  return cur;
}

function describe(issue: z.core.$ZodIssue, input: unknown, origin: string): string {
  const key = issue.path.map(String).join('.') || '(root)';
  if (issue.code === 'unrecognized_keys') {
    const keys = issue.keys.map((k) => (key === '(root)' ? k : `${key}.${k}`));
    return `${origin}: unknown key ${keys.join(', ')}`;
  }
  const got = valueAt(input, issue.path);
  return `${origin}: ${key}: ${issue.message}${got === undefined ? '' : ` (got ${JSON.stringify(got)})`}`;
}

/** Validate a raw configuration object (already merged with its preset). */
export function parseConfig(raw: unknown, origin = 'config'): Config {
  if (!isPlain(raw)) throw new ConfigError(`${origin}: must be a JSON object`);
  const preset = raw.preset ?? 'fast';
  if (preset !== 'fast' && preset !== 'quality') {
    throw new ConfigError(`${origin}: preset: must be "fast" or "quality" (got ${JSON.stringify(preset)})`);
  }
  const merged = deepMerge(PRESETS[preset as PresetName] as Plain, raw);
  const res = configSchema.safeParse(merged);
  if (!res.success) {
    throw new ConfigError(res.error.issues.map((i) => describe(i, merged, origin)).join('\n'));
  }
  return res.data;
}

export interface LoadOptions {
  /** path of a JSON configuration file */
  file?: string;
  /** preset that applies unless the file names one */
  preset?: PresetName;
  /** values that win over the file (e.g. from the command line) */
  overrides?: Plain;
}

export function loadConfig(opts: LoadOptions = {}): Config {
  let fromFile: Plain = {};
  if (opts.file) {
    let text: string;
    try {
      text = readFileSync(opts.file, 'utf8');
    } catch (e) {
      throw new ConfigError(`config file ${opts.file}: cannot read (${(e as NodeJS.ErrnoException).code ?? e})`);
    }
    try {
      const parsed: unknown = JSON.parse(text);
      if (!isPlain(parsed)) throw new ConfigError(`config file ${opts.file}: must hold a JSON object`);
      fromFile = parsed;
    } catch (e) {
      if (e instanceof ConfigError) throw e;
      throw new ConfigError(`config file ${opts.file}: not valid JSON (${(e as Error).message})`);
    }
  }
  let raw = deepMerge(opts.preset ? { preset: opts.preset } : {}, fromFile);
  if (opts.overrides) raw = deepMerge(raw, opts.overrides);
  return parseConfig(raw, opts.file ? `config file ${opts.file}` : 'config');
}

/** The embedded defaults (preset `fast`). */
export function defaultConfig(): Config {
  return parseConfig({});
}
