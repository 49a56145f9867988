import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig, type Options } from 'tsup';
import { buildCommonJsFile, libraryConfig } from '../../tsup.config.base';
import manifest from './package.json' with { type: 'json' };

// pg's crypto helpers, which its client and SASL code require when they load:
// bundled behind src/pg-crypto-utils.cjs, which loads them on their first call.
const pgCryptoUtils = createRequire(import.meta.url).resolve('pg/lib/crypto/utils.js');
const lazyPgCryptoUtils: NonNullable<Options['esbuildPlugins']>[number] = {
  name: 'lazy-pg-crypto-utils',
  setup(bundle) {
    bundle.onResolve({ filter: /^\.\/(crypto\/)?utils$/ }, (args) =>
      path.join(args.resolveDir, `${args.path}.js`) === pgCryptoUtils ? { path: fileURLToPath(new URL('src/pg-crypto-utils.cjs', import.meta.url)) } : undefined,
    );
  },
};

// The migrations and verification queries in ../../sql are bundled as text, so
// the published package works without the repository's sql/ folder. Split so
// that each database driver (pg, PGlite) is loaded only when a store opens with it.
export default defineConfig(
  libraryConfig(manifest.version, {
    loader: { '.sql': 'text' },
    splitting: true,
    // Then pg and its modules as one CommonJS file (load-pg.ts).
    onSuccess: () =>
      buildCommonJsFile('pg-driver', 'src/pg-driver.cjs', {
        noExternal: ['pg'],
        // pg requires it only for `pg.native`, which utt never uses; an optional peer of pg's.
        external: ['pg-native'],
        esbuildPlugins: [lazyPgCryptoUtils],
        // The copyright notices of what is bundled travel with it (pg stays a dependency: its packages are installed too).
        banner: {
          js: '/*! pg and its dependencies (pg-pool, pg-protocol, pg-types, pg-connection-string, pg-int8, pg-cloudflare, pgpass, postgres-array, postgres-bytea, postgres-date, postgres-interval, split2, xtend), bundled unchanged (but for the crypto helpers of pg, loaded on their first call: src/pg-crypto-utils.cjs); MIT or ISC licensed, see each package in node_modules. */',
        },
      }),
  }),
);
