import { defineConfig } from 'tsup';
import { libraryConfig } from '../../tsup.config.base';
import manifest from './package.json' with { type: 'json' };

export default defineConfig(libraryConfig(manifest.version, { entry: ['src/cli.ts'], dts: false, splitting: true }));
