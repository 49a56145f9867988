import { defineConfig } from 'tsup';
import { libraryConfig } from '../../tsup.config.base';
import manifest from './package.json' with { type: 'json' };

// codex-format.js is what a scan's worker threads load (workerModule): the format alone.
export default defineConfig(libraryConfig(manifest.version, { entry: ['src/index.ts', 'src/codex-format.ts'] }));
