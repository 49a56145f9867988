import { defineConfig } from 'tsup';
import { libraryConfig } from '../../tsup.config.base';
import manifest from './package.json' with { type: 'json' };
import { copyAdapterTemplate } from './scripts/copy-adapter-template';

// `utt new-adapter` copies dist/adapter-template: the repository's
// templates/adapter, which CI builds and tests, with real version ranges.
export default defineConfig(
  libraryConfig(manifest.version, { entry: ['src/cli.ts'], dts: false, onSuccess: () => copyAdapterTemplate(new URL('./dist/adapter-template/', import.meta.url)) }),
);
