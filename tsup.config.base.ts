import { build, type Options } from 'tsup';

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

/**
 * One more file beside a package's ES build: `source` as CommonJS in
 * dist/<name>.cjs (a bundled dependency loaded on demand). Run from the main
 * build's onSuccess: built alongside it, the main build's clean would race
 * with it.
 */
export function buildCommonJsFile(name: string, source: string, overrides: Options = {}): Promise<void> {
  return build({
    config: false,
    entry: { [name]: source },
    format: ['cjs'],
    platform: 'node',
    target: 'node20',
    outExtension: () => ({ js: '.cjs' }),
    clean: false,
    dts: false,
    sourcemap: false,
    splitting: false,
    silent: true,
    ...overrides,
  });
}
