#!/usr/bin/env node

import { fileURLToPath } from 'node:url';
import { runCachedBundle } from './bundle/run-cached-bundle';

// A compile cache: the modules a command loads are compiled once, then read
// back from disk. Set up before the CLI's own modules load, so that it covers
// them all: they are imported below, not statically.
//
// On Node 22.1 and later, V8's through module.enableCompileCache(). Without an
// argument Node picks the folder: NODE_COMPILE_CACHE if the user set it (Node
// has then enabled the cache at start, and this call changes nothing), else
// os.tmpdir()/node-compile-cache, never the package's folder;
// NODE_DISABLE_COMPILE_CACHE=1 turns it off. It never throws.
//
// Node 20 has no compile cache for ES modules: there the CLI runs as one
// CommonJS bundle (dist/cli-bundle.cjs) compiled with cached data of its own
// (src/bundle/run-cached-bundle.ts), and falls back to the ES build when the
// bundle cannot stand in for it.
const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
if (major > 22 || (major === 22 && minor >= 1)) {
  const { enableCompileCache } = (await import('node:module')) as { enableCompileCache?: () => unknown };
  enableCompileCache?.();
  await import('./cli-main');
} else if (!runCachedBundle(fileURLToPath(new URL('./cli-bundle.cjs', import.meta.url)), process.argv.slice(2), (specifier) => import(specifier))) {
  await import('./cli-main');
}

// An ES module (for the top-level awaits above), though it exports nothing.
export {};
