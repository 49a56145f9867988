import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig, type Options } from 'tsup';
import { buildCommonJsFile, libraryConfig } from '../../tsup.config.base';
import manifest from './package.json' with { type: 'json' };

// Where zod imports its locales (`z.locales`, `z.core.locales`): a module that
// keeps English and loads the others, built as dist/zod-locales.cjs, on their
// first call (src/zod/lazy-zod-locales.ts).
const lazyZodLocales: NonNullable<Options['esbuildPlugins']>[number] = {
  name: 'lazy-zod-locales',
  setup(bundle) {
    bundle.onResolve({ filter: /^\.\.\/locales\/index\.js$/ }, (args) =>
      /[\\/]zod[\\/]v4[\\/](classic|core)$/.test(args.resolveDir) && path.basename(path.dirname(path.dirname(args.resolveDir))) === 'zod'
        ? { path: fileURLToPath(new URL('src/zod/lazy-zod-locales.ts', import.meta.url)) }
        : undefined,
    );
  },
};

// zod is bundled into the one module: imported from node_modules it is some
// ninety ES modules (every locale, the JSON Schema converters), and Node's
// loader spent 50–60 ms resolving, reading and compiling them at every start
// of `utt`, more than all of utt's own code. Every utt package takes `z` from
// @utt/core, so there is one copy in a process; the declarations still refer
// to the zod package.
export default defineConfig(
  libraryConfig(manifest.version, {
    noExternal: ['zod'],
    esbuildPlugins: [lazyZodLocales],
    // Then the locales but English as one CommonJS file.
    onSuccess: () => buildCommonJsFile('zod-locales', 'src/zod/zod-locales.cjs', { noExternal: ['zod'] }),
  }),
);
