import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    setupFiles: ['test/setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: 'forks',
    // Vitest's default (cores - 1) runs one file at a time on 2 cores, while most of the slow files
    // wait on child processes and sockets: two at a time took Node 20's run from 913 to 713 s here.
    maxWorkers: Math.max(2, availableParallelism() - 1),
  },
});
