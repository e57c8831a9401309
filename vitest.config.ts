import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Native addons (onnxruntime-node, beamcoder) are not safe to share across worker_threads: use processes.
    pool: 'forks',
    maxWorkers: 2,
  },
});
