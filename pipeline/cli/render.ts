/**
 * npm run render -- --audio <file> --portrait <image> --out <file.mp4>
 *                   [--preset fast|quality] [--config <file.json>] [--engine portrait|sonic] [--size 720x1280]
 * Exit codes: 0 done, 2 bad input or usage, 1 unexpected failure.
 */
import { loadConfig, ConfigError } from '../../config/load.js';
import { parseArgs, UsageError } from './args.js';
import { createProgress } from './progress.js';
import { renderToMp4 } from '../render/render-file.js';
import { isInputError } from '../errors.js';
import { FRAME_SIZE_RULE, parseFrameSize } from '../../config/frame-size.js';

const USAGE =
  'usage: npm run render -- --audio <file> --portrait <image> --out <file.mp4> [--preset fast|quality] [--config <file.json>] [--engine portrait|sonic] [--size WIDTHxHEIGHT]';

async function main(argv: string[]): Promise<number> {
  let args;
  try {
    args = parseArgs(argv, { values: ['audio', 'portrait', 'out', 'preset', 'config', 'engine', 'size'], flags: ['help'] });
    if (args.flags.has('help')) {
      console.log(USAGE);
      return 0;
    }
    for (const k of ['audio', 'portrait', 'out']) if (!args.values[k]) throw new UsageError(`--${k} is required`);
    if (!args.values.out!.toLowerCase().endsWith('.mp4')) throw new UsageError('--out must name an .mp4 file');
    if (args.values.size !== undefined && !parseFrameSize(args.values.size)) throw new UsageError(`--size must be ${FRAME_SIZE_RULE}, e.g. 720x1280 (got "${args.values.size}")`);
  } catch (e) {
    console.error(`render: ${(e as Error).message}\n${USAGE}`);
    return 2;
  }
  const { values } = args;
  try {
    const preset = values.preset as 'fast' | 'quality' | undefined;
    if (preset && preset !== 'fast' && preset !== 'quality') throw new ConfigError(`--preset must be fast or quality (got "${preset}")`);
    const config = loadConfig({
      file: values.config,
      preset,
      overrides: {
        ...(values.engine ? { runtime: { engine: values.engine } } : {}),
        ...(values.size ? { avatar: parseFrameSize(values.size) } : {}),
      },
    });
    let progress: ReturnType<typeof createProgress> | undefined;
    const res = await renderToMp4({
      audio: values.audio!,
      portrait: values.portrait!,
      out: values.out!,
      config,
      onProgress(done, total) {
        progress ??= createProgress(total, 'render');
        progress.update(done);
      },
    });
    progress?.stop();
    console.log(
      `render: wrote ${values.out} — ${res.frames} frames ${res.width}x${res.height} @ ${res.fps} fps, ` +
        `${res.durationSec.toFixed(2)} s of audio in ${res.wallSec.toFixed(2)} s (${(res.durationSec / res.wallSec).toFixed(2)}x real time)`,
    );
    return 0;
  } catch (e) {
    if (isInputError(e)) {
      console.error(`render: ${(e as Error).message}`);
      return 2;
    }
    // not the input's fault (a disk, a codec, a bug): the message, and the stack when DEBUG is set
    console.error(`render: failed: ${(e as Error).message ?? e}`);
    if (process.env.DEBUG) console.error(e);
    return 1;
  }
}

// A process that loaded native media addons may crash on normal teardown: exit explicitly.
main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e) => {
    console.error('render: failed:', e);
    process.exit(1);
  },
);
