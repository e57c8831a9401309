/**
 * npm run jobs:worker -- --config <file.json> [--concurrency N] [--log-level info]
 *
 * A batch-job worker without the live server: it takes jobs from the BullMQ queue on Redis
 * (jobs.queue "redis", jobs.redis_url) and renders them, up to N (default jobs.concurrency, at
 * least 1) at once. Run one per machine; jobs.dir must be storage all of them and the server share.
 * SIGINT/SIGTERM stop it: jobs it runs go back to the queue for another worker.
 */
import { ConfigError, loadConfig } from '../../config/load.js';
import { parseArgs } from '../../pipeline/cli/args.js';
import { isInputError } from '../../pipeline/errors.js';
import { createLogger } from '../log.js';
import { RedisQueue } from './job-queue.js';
import { WORKER_ID } from './job-runner.js';
import { JobStore } from './job-store.js';

const USAGE = 'usage: npm run jobs:worker -- --config <file.json> [--concurrency N] [--log-level debug|info|warn|error]';

async function main(argv: string[]): Promise<number> {
  let values: Record<string, string>;
  try {
    const args = parseArgs(argv, { values: ['config', 'concurrency', 'log-level'], flags: ['help'] });
    if (args.flags.has('help')) {
      console.log(USAGE);
      return 0;
    }
    values = args.values;
  } catch (e) {
    console.error(`jobs:worker: ${(e as Error).message}\n${USAGE}`);
    return 2;
  }
  const log = createLogger(values['log-level'] ?? 'info');
  try {
    const config = loadConfig({ file: values.config });
    if (config.jobs.queue !== 'redis' || !config.jobs.redis_url) throw new ConfigError('a jobs worker needs jobs.queue "redis" and jobs.redis_url in its config (the embedded queue runs inside the server)');
    const concurrency = values.concurrency ? Number(values.concurrency) : Math.max(1, config.jobs.concurrency);
    if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 64) throw new ConfigError(`--concurrency must be an integer in 1..64 (got "${values.concurrency}")`);
    const queue = await RedisQueue.connect(new JobStore(config.jobs.dir), config, log, concurrency);
    log.info({ worker: WORKER_ID, concurrency, redis: config.jobs.redis_url.replace(/\/\/[^@]*@/, '//'), dir: config.jobs.dir }, 'jobs worker ready');
    await new Promise<void>((resolve) => {
      const stop = (signal: string) => {
        log.info({ signal }, 'jobs worker stopping');
        void queue.close().finally(resolve);
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
    return 0;
  } catch (e) {
    log.error({ err: e }, 'jobs worker failed');
    if (isInputError(e) || e instanceof ConfigError) {
      console.error(`jobs:worker: ${(e as Error).message}`);
      return 2;
    }
    return 1;
  }
}

main(process.argv.slice(2)).then((code) => process.exit(code));
