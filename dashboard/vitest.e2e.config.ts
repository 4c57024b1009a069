import { defineConfig } from 'vitest/config';

// The browser tests: a real ledger process serving the built dashboard, driven by Debian's chromium.
export default defineConfig({
  test: {
    environment: 'node',
    include: ['e2e/**/*.test.ts'],
    testTimeout: 180_000,
    hookTimeout: 180_000,
    fileParallelism: false,
    // A page waits up to 20 s for what it expects (page.setDefaultTimeout); expect.poll's default of 1 s is too short
    // for a write and the refetch after it on a busy machine (a move of budget money failed that way on PGlite).
    expect: { poll: { timeout: 20_000 } },
  },
});
