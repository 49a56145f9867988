#!/usr/bin/env node

// V8's compile cache on Node 22.1 and later: the modules a command loads are
// compiled once, then read back from disk. Enabled before the CLI's own
// modules load, so that it covers them all: they are imported below, not
// statically. Node 20 has no enableCompileCache, and node:module is not
// loaded there at all (it would cost `utt --help` half a millisecond for
// nothing). Without an argument Node picks the folder: NODE_COMPILE_CACHE if
// the user set it (Node has then enabled the cache at start, and this call
// changes nothing), else os.tmpdir()/node-compile-cache, never the package's
// folder; NODE_DISABLE_COMPILE_CACHE=1 turns it off. It never throws.
const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
if (major > 22 || (major === 22 && minor >= 1)) {
  const { enableCompileCache } = (await import('node:module')) as { enableCompileCache?: () => unknown };
  enableCompileCache?.();
}

await import('./cli-main');

// An ES module (for the top-level awaits above), though it exports nothing.
export {};
