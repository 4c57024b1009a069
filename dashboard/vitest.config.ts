import react from '@vitejs/plugin-react';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  plugins: [react()],
  test: {
    environment: 'jsdom',
    include: ['src/**/*.test.{ts,tsx}'],
    setupFiles: ['src/test-setup.ts'],
    // Typing into forms with user-event takes a few seconds on a busy 2-core machine; a bound, not a speed check.
    testTimeout: 30_000,
  },
});
