import { defineProject } from 'vitest/config';

export default defineProject({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    // PGlite starts a WebAssembly PostgreSQL per store and Chromium takes a second to launch.
    hookTimeout: 120_000,
    testTimeout: 60_000,
  },
});
