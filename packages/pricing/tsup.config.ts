import { defineConfig } from 'tsup';
import { libraryConfig } from '../../tsup.config.base';
import manifest from './package.json' with { type: 'json' };

// One entry per subpath export; shared code goes to a chunk, so both entries use one priceOverrideSchema.
export default defineConfig(
  libraryConfig(manifest.version, {
    entry: { index: 'src/index.ts', 'override-schema': 'src/override-schema.ts' },
    splitting: true,
  }),
);
