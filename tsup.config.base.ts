import type { Options } from 'tsup';

/**
 * The one build every publishable package shares: ESM for Node. Declarations
 * are a separate step (`build:types`, i.e. `tsup --dts-only`): they cost most of
 * the build time and only typechecking and publishing need them, so a first
 * `pnpm start` does not wait for them.
 */
export function libraryConfig(version: string, overrides: Options = {}): Options {
  return {
    entry: ['src/index.ts'],
    format: ['esm'],
    platform: 'node',
    target: 'node20',
    dts: false,
    sourcemap: true,
    clean: true,
    splitting: false,
    define: { __UTT_PACKAGE_VERSION__: JSON.stringify(version) },
    ...overrides,
  };
}
