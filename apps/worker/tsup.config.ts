import { defineConfig } from 'tsup';
import { libraryConfig } from '../../tsup.config.base';
import manifest from './package.json' with { type: 'json' };
import { copyAdapterTemplate } from './scripts/copy-adapter-template';

// `utt new-adapter` copies dist/adapter-template: the repository's
// templates/adapter, which CI builds and tests, with real version ranges.
// Split at every `await import()`: each command (and what it imports: the
// database drivers, the price registry, the adapters) is its own chunk, loaded
// when the command runs, so `utt --help` does not load them (bench/startup).
export default defineConfig(
  libraryConfig(manifest.version, {
    entry: ['src/cli.ts'],
    dts: false,
    splitting: true,
    onSuccess: () => copyAdapterTemplate(new URL('./dist/adapter-template/', import.meta.url)),
  }),
);
