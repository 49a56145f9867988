import type { Options } from 'tsup';

/** The one build every publishable package shares: ESM for Node, with declarations. */
export function libraryConfig(version: string, overrides: Options = {}): Options {
  return {
    entry: ['src/index.ts'],
    format: ['esm'],
    platform: 'node',
    target: 'node20',
    dts: true,
    sourcemap: true,
    clean: true,
    splitting: false,
    define: { __UTT_PACKAGE_VERSION__: JSON.stringify(version) },
    ...overrides,
  };
}
