import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Selector tests block the thread in select() on purpose; keep files in
    // separate processes so that one blocking file never stalls another.
    pool: 'forks',
    // Memory-bound tests collect garbage before they measure, so that heap
    // sizing is not mistaken for a leak.
    execArgv: ['--expose-gc'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
