import { defineConfig } from 'tsup';
import { libraryConfig } from '../../tsup.config.base';
import manifest from './package.json' with { type: 'json' };
import { buildCliBundle, buildLauncher } from './scripts/build-cli-bundle';
import { copyAdapterTemplate } from './scripts/copy-adapter-template';

// `utt new-adapter` copies dist/adapter-template: the repository's
// templates/adapter, which CI builds and tests, with real version ranges.
// Split at every `await import()`: each command (and what it imports: the
// database drivers, the price registry, the adapters) is its own chunk, loaded
// when the command runs, so `utt --help` does not load them (bench/startup).
// Then, after this ES build, dist/cli-bundle.cjs: the same CLI as one
// CommonJS file, which dist/cli.js runs on Node < 22.1 with a compile cache
// (scripts/build-cli-bundle.ts).
//
// The ES build is dist/cli-main.mjs and its chunks (*.mjs); dist/cli.js, the
// `utt` command, is a small CommonJS launcher (src/cli.ts) that picks the
// bundle or the ES build: a CommonJS entry spares every process Node's ES
// module loader. dist/package.json tells Node that dist/*.js is CommonJS.
const base = libraryConfig(manifest.version, { entry: { 'cli-main': 'src/cli-main.ts' }, dts: false });
export default defineConfig({
  ...base,
  splitting: true,
  outExtension: () => ({ js: '.mjs' }),
  onSuccess: async () => {
    await copyAdapterTemplate(new URL('./dist/adapter-template/', import.meta.url));
    await buildCliBundle(base);
    await buildLauncher(base);
  },
});
