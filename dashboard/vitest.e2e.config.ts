import { defineConfig } from 'vitest/config';

// The browser tests: a real ledger process serving the built dashboard, driven by Debian's chromium.
export default defineConfig({
  test: {
    environment: 'node',
    include: ['e2e/**/*.test.ts'],
    testTimeout: 180_000,
    hookTimeout: 180_000,
    fileParallelism: false,
  },
});
