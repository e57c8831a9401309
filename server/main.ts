/**
 * npm start [-- --config <file.json>] [--preset fast|quality] [--host <ip>] [--port <n>] [--mode auto|sfu|direct] [--log-level info]
 *
 * Starts the server on the embedded defaults (or the given config), prints the URL a kiosk opens
 * for each session, and runs until SIGINT/SIGTERM. Exit codes: 0 stopped, 2 bad config or usage,
 * 1 failure. Ends with process.exit() (a process that used wrtc must not drain its event loop).
 */
import { ConfigError, loadConfig } from '../config/load.js';
import { parseArgs } from '../pipeline/cli/args.js';
import { isInputError } from '../pipeline/errors.js';
import { startServer } from './app.js';
import { startBanner } from './start-banner.js';

const USAGE =
  'usage: npm start -- [--config <file.json>] [--preset fast|quality] [--host <ip>] [--port <n>] [--mode auto|sfu|direct] [--log-level debug|info|warn|error]';

async function main(argv: string[]): Promise<number> {
  let values: Record<string, string>;
  try {
    const args = parseArgs(argv, { values: ['config', 'preset', 'host', 'port', 'mode', 'log-level'], flags: ['help'] });
    if (args.flags.has('help')) {
      console.log(USAGE);
      return 0;
    }
    values = args.values;
  } catch (e) {
    console.error(`server: ${(e as Error).message}\n${USAGE}`);
    return 2;
  }
  let server: Awaited<ReturnType<typeof startServer>>;
  try {
    const overrides: Record<string, Record<string, unknown>> = {};
    if (values.host) overrides.server = { host: values.host };
    if (values.port) {
      const port = Number(values.port);
      if (!Number.isInteger(port)) throw new ConfigError(`--port must be an integer (got "${values.port}")`);
      overrides.server = { ...overrides.server, port };
    }
    if (values.mode) overrides.media = { mode: values.mode };
    const preset = values.preset as 'fast' | 'quality' | undefined;
    if (preset && preset !== 'fast' && preset !== 'quality') throw new ConfigError(`--preset must be fast or quality (got "${preset}")`);
    const config = loadConfig({ file: values.config, preset, overrides });
    server = await startServer(config, { logLevel: values['log-level'] ?? 'info' });
    console.log(`\n${startBanner(server, config, process.stdout.isTTY === true).map((l) => `  ${l}`).join('\n\n')}\n`);
  } catch (e) {
    if (isInputError(e)) {
      console.error(`server: ${(e as Error).message}`);
      return 2;
    }
    console.error(`server: failed to start: ${process.env.DEBUG ? (e as Error).stack : (e as Error).message}`);
    return 1;
  }
  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) return;
      stopping = true;
      server.log.info({ signal }, 'stopping');
      const force = setTimeout(() => resolve(1), 5000);
      server.close().then(
        () => {
          clearTimeout(force);
          resolve(0);
        },
        (e) => {
          server.log.error({ err: e }, 'error while stopping');
          resolve(1);
        },
      );
    };
    process.on('SIGINT', () => stop('SIGINT'));
    process.on('SIGTERM', () => stop('SIGTERM'));
  });
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e) => {
    console.error('server: failed:', e);
    process.exit(1);
  },
);
