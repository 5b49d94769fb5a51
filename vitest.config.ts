import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Selector tests block the thread in select() on purpose; keep files in
    // separate processes so that one blocking file never stalls another.
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
