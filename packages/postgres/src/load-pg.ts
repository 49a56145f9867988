import { createRequire } from 'node:module';
import type pgModule from 'pg';

/**
 * The `pg` driver, loaded without paying for a second HTTP stack. While it
 * loads, pg asks whether it runs in a Cloudflare Worker: where there is no
 * `navigator` (Node 20) it constructs a `Response`, and the first touch of
 * that global makes Node load its fetch implementation (undici, 15–30 ms of
 * every command that opens a server store). Node 21 and later have a
 * `navigator`; on Node 20 a stand-in answers the question for the length of
 * the require, which is synchronous (no other code runs meanwhile), and is
 * removed again.
 */
export function loadPg(): typeof pgModule {
  const require = createRequire(import.meta.url);
  const scope = globalThis as { navigator?: unknown };
  if (scope.navigator !== undefined) return require('pg') as typeof pgModule;
  scope.navigator = { userAgent: `Node.js/${process.versions.node}` };
  try {
    return require('pg') as typeof pgModule;
  } finally {
    delete scope.navigator;
  }
}
