import { defineConfig } from 'tsup';
import { libraryConfig } from '../../tsup.config.base';
import manifest from './package.json' with { type: 'json' };

// The migrations and verification queries in ../../sql are bundled as text, so
// the published package works without the repository's sql/ folder. Split so
// that each database driver (pg, PGlite) is loaded only when a store opens with it.
export default defineConfig(libraryConfig(manifest.version, { loader: { '.sql': 'text' }, splitting: true }));
