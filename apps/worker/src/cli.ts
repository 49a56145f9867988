#!/usr/bin/env node

import { runCachedBundle } from './bundle/run-cached-bundle';

// Built as CommonJS (dist/cli.js, with dist/package.json saying so; the ES
// build is dist/*.mjs): Node runs a CommonJS entry without setting up its ES
// module loader, which an ES-module entry costs every process, `utt --help`
// included (bench/startup/README.md, issue-12y). Nothing here may need it: no
// top-level await, no import.meta; the ES build is imported only when it runs.
const ES_BUILD = './cli-main.mjs';

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
//
// A failed import() is an unhandled rejection: Node prints it and exits with 1.
const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
if (major > 22 || (major === 22 && minor >= 1)) {
  (process.getBuiltinModule('node:module') as { enableCompileCache?: () => unknown }).enableCompileCache?.();
  void import(ES_BUILD);
} else if (!runCachedBundle(process.getBuiltinModule('node:path').join(__dirname, 'cli-bundle.cjs'), process.argv.slice(2), (specifier) => import(specifier))) {
  void import(ES_BUILD);
}
