import { defineConfig } from 'tsup';
import { libraryConfig } from '../../tsup.config.base';
import manifest from './package.json' with { type: 'json' };

// The migrations and verification queries in ../../sql are bundled as text, so
// the published package works without the repository's sql/ folder.
export default defineConfig(libraryConfig(manifest.version, { loader: { '.sql': 'text' } }));
