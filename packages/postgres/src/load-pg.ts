import { createRequire } from 'node:module';
import type pgModule from 'pg';

/**
 * The `pg` driver, loaded as cheaply as it can be. The build ships pg as one
 * bundled CommonJS file, `pg-driver.cjs` (pg is still a dependency: from
 * src/ that file is a plain `require('pg')`): Node resolves, reads and
 * compiles one file instead of pg's thirty-odd, 10–20 ms less of every
 * command that opens a server store.
 *
 * And without paying for a second HTTP stack: while it loads, pg asks whether
 * it runs in a Cloudflare Worker; where there is no `navigator` (Node 20) it
 * constructs a `Response`, and the first touch of that global makes Node load
 * its fetch implementation (undici, 15–30 ms). Node 21 and later have a
 * `navigator`; on Node 20 a stand-in answers the question for the length of
 * the require, which is synchronous (no other code runs meanwhile), and is
 * removed again.
 */
export function loadPg(): typeof pgModule {
  const require = createRequire(import.meta.url);
  const scope = globalThis as { navigator?: unknown };
  if (scope.navigator !== undefined) return require('./pg-driver.cjs') as typeof pgModule;
  scope.navigator = { userAgent: `Node.js/${process.versions.node}` };
  try {
    return require('./pg-driver.cjs') as typeof pgModule;
  } finally {
    delete scope.navigator;
  }
}
