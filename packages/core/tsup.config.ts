import { defineConfig } from 'tsup';
import { libraryConfig } from '../../tsup.config.base';
import manifest from './package.json' with { type: 'json' };

// zod is bundled into the one module: imported from node_modules it is some
// ninety ES modules (every locale, the JSON Schema converters), and Node's
// loader spent 50–60 ms resolving, reading and compiling them at every start
// of `utt`, more than all of utt's own code. Every utt package takes `z` from
// @utt/core, so there is one copy in a process; the declarations still refer
// to the zod package.
export default defineConfig(libraryConfig(manifest.version, { noExternal: ['zod'] }));
