import { defineProject, type Plugin } from 'vitest/config';

/** Imports `.sql` files as their text, as tsup's text loader does in the build. */
const sqlAsText: Plugin = {
  name: 'utt-sql-as-text',
  enforce: 'pre',
  transform(code, id) {
    if (!id.endsWith('.sql')) return null;
    return { code: `export default ${JSON.stringify(code)};`, map: null };
  },
};

export default defineProject({
  plugins: [sqlAsText],
  test: {
    include: ['src/**/*.test.ts'],
    globalSetup: ['./src/test-support/global-setup.ts'],
    // PGlite starts a WebAssembly PostgreSQL per test file, which takes seconds.
    hookTimeout: 60_000,
    testTimeout: 30_000,
  },
});
