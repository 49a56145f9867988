import { defineConfig } from 'tsup';
import { libraryConfig } from '../../tsup.config.base';
import manifest from './package.json' with { type: 'json' };

// scan-worker.js is loaded by URL on worker threads during large scans, and
// line-format.js by the formats they build there.
export default defineConfig(libraryConfig(manifest.version, { entry: ['src/index.ts', 'src/scan-worker.ts', 'src/line-format.ts'] }));
