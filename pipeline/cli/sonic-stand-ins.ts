/**
 * npm run sonic:stand-ins -- --out <folder> [--fp16]
 * Writes the tiny stand-in graphs with the Sonic ONNX contract (models/sonic/stand-in.ts) and their
 * manifest, to try `runtime.engine: "sonic"` on a CPU. They are not Sonic: the picture is the
 * portrait, blurred, tinted by the audio. Exit codes: 0 done, 2 usage.
 */
import { parseArgs, UsageError } from './args.js';
import { writeStandInWeights } from '../../models/sonic/stand-in.js';

const USAGE = 'usage: npm run sonic:stand-ins -- --out <folder> [--fp16] [--size 512x512 (the frame size the manifest declares)]';

async function main(argv: string[]): Promise<number> {
  let args;
  try {
    args = parseArgs(argv, { values: ['out', 'size'], flags: ['fp16', 'help'] });
    if (args.flags.has('help')) {
      console.log(USAGE);
      return 0;
    }
    if (!args.values.out) throw new UsageError('--out is required');
    if (args.values.size !== undefined && !/^\d+x\d+$/.test(args.values.size)) throw new UsageError('--size is WIDTHxHEIGHT, multiples of 64');
  } catch (e) {
    console.error(`sonic:stand-ins: ${(e as Error).message}\n${USAGE}`);
    return 2;
  }
  const [width, height] = (args.values.size ?? '512x512').split('x').map(Number) as [number, number];
  if (width % 64 || height % 64) {
    console.error(`sonic:stand-ins: --size sides must be multiples of 64 (got ${width}x${height})\n${USAGE}`);
    return 2;
  }
  const m = await writeStandInWeights(args.values.out!, { fp16: args.flags.has('fp16'), frame: { width, height } });
  console.log(`sonic:stand-ins: wrote ${Object.keys(m.files).length} stand-in graphs (${m.precision}) and manifest.json to ${args.values.out}; ` +
    `set sonic.weights_dir to it and runtime.engine to "sonic" (these are NOT Sonic)`);
  return 0;
}

main(process.argv.slice(2)).then((code) => process.exit(code));
