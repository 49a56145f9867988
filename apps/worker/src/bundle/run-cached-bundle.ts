/**
 * Runs dist/cli-bundle.cjs (the whole CLI as one CommonJS file, see
 * scripts/build-cli-bundle.ts) with a compile cache, for Node < 22.1: it has
 * no compile cache for ES modules (module.enableCompileCache is Node 22.1+)
 * and compiling the CLI's modules is a good part of a short command
 * (bench/startup/README.md). This does what v8-compile-cache did for
 * CommonJS: the bundle is compiled by vm.Script with V8's cached data from
 * the last run of the same command, and, when there was none or V8 rejected
 * it, the data is written when the process exits, so that it holds the
 * functions the command compiled lazily as well.
 *
 * Where: NODE_COMPILE_CACHE if set (as Node 22 does), else
 * os.tmpdir()/utt-compile-cache-<uid>; never the package's folder.
 * NODE_DISABLE_COMPILE_CACHE=1 turns it off. A cache file is named after the
 * bundle's content hash, size and mtime, Node's version and architecture, the
 * V8 flags of the process and the command; it holds a CRC-32 of the data,
 * which is checked before V8 sees it. A missing, foreign, corrupt or rejected
 * cache is ignored (and rewritten; a missing one by the second run, the first
 * leaves an empty file); a cache folder that cannot be created or
 * written, or is not the user's own, only means no cache: nothing here fails a
 * command. NODE_DEBUG=utt-compile-cache prints, on stderr, whether the cache
 * was used (hit), missing (miss), rejected by V8 or off.
 *
 * Returns false, having run nothing, when the bundle cannot stand in for the
 * ES build: it is missing, or a first-party package it inlined is not
 * installed next to the worker in the very version it was built from, or is
 * a linked folder (a workspace) rebuilt since the bundle was (the bundle
 * would otherwise run older code than the installed one). The caller then
 * imports the ES build.
 */

import { findWorkerFolder } from './worker-folder';

export function runCachedBundle(bundleFile: string, argv: readonly string[], importModule: (specifier: string) => Promise<unknown>): boolean {
  const fs = process.getBuiltinModule('node:fs');
  const path = process.getBuiltinModule('node:path');
  let source: string;
  let manifest: BundleManifest | undefined;
  let roots: Map<string, string> | undefined;
  let written: { size: number; mtimeMs: number };
  try {
    // The build makes it ASCII (non-ASCII characters escaped): then it is read as Latin-1, a one-byte string, without decoding UTF-8.
    const bytes = fs.readFileSync(bundleFile);
    source = process.getBuiltinModule('node:buffer').isAscii(bytes) ? bytes.toString('latin1') : bytes.toString('utf8');
    manifest = readTrailer(source);
    written = fs.statSync(bundleFile);
    roots = manifest && installedPackageRoots(workerFolderOf(bundleFile), manifest.packages, written.mtimeMs);
  } catch {
    return false;
  }
  if (!manifest || !roots) return false;

  const vm = process.getBuiltinModule('node:vm');
  const { createRequire } = process.getBuiltinModule('node:module');
  const cacheFile = compileCacheFile(bundleFile, written, manifest.hash, argv);
  const cached = cacheFile === undefined ? undefined : readCompileCache(cacheFile);
  const cachedData = cached?.data;
  const wrapper = `(function (exports, require, module, __filename, __dirname, __uttBundledPackageRoots, __uttImport) {${source}\n})`;
  const script = new vm.Script(wrapper, { filename: bundleFile, cachedData });
  const rejected = script.cachedDataRejected === true;
  if (process.env.NODE_DEBUG?.includes('utt-compile-cache')) {
    const state = cacheFile === undefined ? 'off' : cachedData === undefined ? 'miss' : rejected ? 'rejected' : 'hit';
    process.stderr.write(`utt-compile-cache: ${state}${cacheFile === undefined ? '' : ` ${cacheFile}`}\n`);
  }
  if (cacheFile !== undefined && (cachedData === undefined || rejected)) {
    // Writing the data costs about 20 ms at exit. A first run only leaves an empty file behind, so that a
    // process that never runs twice with this folder (a cron job in a fresh container) is not slower for it;
    // the second run, finding the file, writes the data.
    if (cached?.exists === true) process.once('exit', () => writeCompileCache(cacheFile, script));
    else notePlaceholder(cacheFile);
  }
  const run = script.runInThisContext() as (...args: unknown[]) => void;
  const module = { exports: {} };
  run.call(module.exports, module.exports, createRequire(bundleFile), module, bundleFile, path.dirname(bundleFile), roots, importModule);
  return true;
}

/** The worker package's real folder (the bundle lies in its dist/). */
function workerFolderOf(bundleFile: string): string {
  return process.getBuiltinModule('node:fs').realpathSync.native(findWorkerFolder(process.getBuiltinModule('node:path').dirname(bundleFile)));
}

const TRAILER = '\n//# utt-bundle ';

type BundleManifest = { readonly hash: string; readonly packages: Readonly<Record<string, { readonly version: string; readonly from: string }>> };

function readTrailer(source: string): BundleManifest | undefined {
  const at = source.lastIndexOf(TRAILER);
  if (at < 0) return undefined;
  try {
    const manifest = JSON.parse(source.slice(at + TRAILER.length)) as BundleManifest;
    return typeof manifest.hash === 'string' && typeof manifest.packages === 'object' && manifest.packages !== null ? manifest : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The real folder of each inlined package, found as Node would find it from
 * the package that imports it (the worker, or for @utt/agent-logs an
 * adapter); undefined unless every one holds the version that was bundled
 * and, if linked, was not rebuilt after the bundle.
 */
function installedPackageRoots(workerFolder: string, packages: BundleManifest['packages'], bundleModifiedMs: number): Map<string, string> | undefined {
  const roots = new Map<string, string>([['@utt/worker', workerFolder]]);
  let pending = Object.entries(packages);
  while (pending.length > 0) {
    const waiting = pending.filter(([, { from }]) => !roots.has(from));
    if (waiting.length === pending.length) return undefined;
    for (const [name, { version, from }] of pending) {
      if (!roots.has(from)) continue;
      const root = installedPackageRoot(name, version, roots.get(from)!, bundleModifiedMs);
      if (root === undefined) return undefined;
      roots.set(name, root);
    }
    pending = waiting;
  }
  return roots;
}

function installedPackageRoot(name: string, version: string, from: string, bundleModifiedMs: number): string | undefined {
  const fs = process.getBuiltinModule('node:fs');
  const path = process.getBuiltinModule('node:path');
  for (let directory = from; ; directory = path.dirname(directory)) {
    const folder = path.join(directory, 'node_modules', name);
    let manifest: string | undefined;
    try {
      manifest = fs.readFileSync(path.join(folder, 'package.json'), 'utf8');
    } catch {
      // not installed here: look further up, as Node does
    }
    if (manifest !== undefined) {
      try {
        const { version: installed, main } = JSON.parse(manifest) as { version?: unknown; main?: unknown };
        if (installed !== version) return undefined;
        const root = fs.realpathSync.native(folder);
        // A package installed in node_modules never changes under the same version. A linked one (this
        // repository's workspace, `npm link`) is rebuilt in place: its entry written after the bundle
        // means the bundle holds older code than the package now has.
        if (!root.split(path.sep).includes('node_modules') && typeof main === 'string' && fs.statSync(path.join(root, main)).mtimeMs > bundleModifiedMs) return undefined;
        return root;
      } catch {
        return undefined;
      }
    }
    if (path.dirname(directory) === directory) return undefined;
  }
}

function compileCacheFile(bundleFile: string, { size, mtimeMs }: { size: number; mtimeMs: number }, bundleHash: string, argv: readonly string[]): string | undefined {
  try {
    if (process.env.NODE_DISABLE_COMPILE_CACHE === '1') return undefined;
    const folder = compileCacheFolder();
    if (folder === undefined) return undefined;
    const fs = process.getBuiltinModule('node:fs');
    const path = process.getBuiltinModule('node:path');
    // V8 rejects data made with other flags; a name per flag set keeps two kinds of runs from rewriting each other's.
    const flags = fnv1a([...process.execArgv, process.env.NODE_OPTIONS ?? ''].join('\u0000'));
    const identity = fnv1a(`${bundleHash}|${size}|${mtimeMs}|${bundleFile}`);
    return path.join(folder, `cli-bundle-${bundleHash.slice(0, 16)}-${identity}-${process.version}-${process.arch}-${flags}-${commandOf(argv)}.cache`);
  } catch {
    return undefined;
  }
}

/** The folder for cache files, created if need be; undefined when it cannot be, or (the shared temporary folder) is not safely the user's own. */
function compileCacheFolder(): string | undefined {
  const fs = process.getBuiltinModule('node:fs');
  const path = process.getBuiltinModule('node:path');
  const chosen = process.env.NODE_COMPILE_CACHE;
  if (chosen) {
    fs.mkdirSync(chosen, { recursive: true });
    return path.resolve(chosen);
  }
  const os = process.getBuiltinModule('node:os');
  const uid = process.getuid?.();
  const folder = path.join(os.tmpdir(), `utt-compile-cache-${uid ?? os.userInfo().username}`);
  try {
    fs.mkdirSync(folder, { mode: 0o700 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') return undefined;
  }
  // Cached data is code: in a folder others can write to, it could be theirs.
  const stat = fs.lstatSync(folder);
  if (!stat.isDirectory()) return undefined;
  if (uid !== undefined && (stat.uid !== uid || (stat.mode & 0o022) !== 0)) return undefined;
  return folder;
}

/** The command's name (the first word that looks like one), so that each command's cache holds what it compiles. */
function commandOf(argv: readonly string[]): string {
  return argv.find((word) => /^[a-z][a-z-]{0,31}$/.test(word)) ?? 'none';
}

const MAGIC = 0x75747463; // "uttc"
const HEADER_BYTES = 12; // magic, CRC-32 of the data, its length

/** The cached data if the file holds good data; whether there is a file at all (a placeholder, or anything unusable). */
function readCompileCache(file: string): { exists: boolean; data?: Buffer } {
  let content: Buffer;
  try {
    content = process.getBuiltinModule('node:fs').readFileSync(file);
  } catch (error) {
    return { exists: (error as NodeJS.ErrnoException).code !== 'ENOENT' };
  }
  if (content.length < HEADER_BYTES || content.readUInt32LE(0) !== MAGIC || content.readUInt32LE(8) !== content.length - HEADER_BYTES) return { exists: true };
  const data = content.subarray(HEADER_BYTES);
  return crc32(data) === content.readUInt32LE(4) ? { exists: true, data } : { exists: true };
}

function notePlaceholder(file: string): void {
  try {
    process.getBuiltinModule('node:fs').writeFileSync(file, '', { mode: 0o600, flag: 'wx' });
  } catch {
    // another process was first, or the folder cannot be written: either way nothing to do
  }
}

function writeCompileCache(file: string, script: { createCachedData(): Buffer }): void {
  const fs = process.getBuiltinModule('node:fs');
  const temporary = `${file}.${process.pid}.tmp`;
  try {
    const data = script.createCachedData();
    const header = Buffer.alloc(HEADER_BYTES);
    header.writeUInt32LE(MAGIC, 0);
    header.writeUInt32LE(crc32(data), 4);
    header.writeUInt32LE(data.length, 8);
    fs.writeFileSync(temporary, Buffer.concat([header, data]), { mode: 0o600 });
    // Atomic: a concurrent run reads the old file or the new one, never half of one.
    fs.renameSync(temporary, file);
    removeStaleCacheFiles(file);
  } catch {
    try {
      fs.rmSync(temporary, { force: true });
    } catch {
      // a read-only or full folder: no cache, and nothing to clean up
    }
  }
}

const STALE_AFTER_MS = 7 * 24 * 3600 * 1000;

/**
 * The files of other builds (an upgraded utt, another checkout) not written
 * for a week: without this the folder would grow by a file per command and
 * release. A week, so that two installations used in turn keep theirs.
 */
function removeStaleCacheFiles(current: string): void {
  const fs = process.getBuiltinModule('node:fs');
  const path = process.getBuiltinModule('node:path');
  const folder = path.dirname(current);
  const build = path.basename(current).split('-').slice(0, 4).join('-');
  for (const name of fs.readdirSync(folder)) {
    if (!/^cli-bundle-[0-9a-f]{16}-.*\.(cache|tmp)$/.test(name) || name.startsWith(`${build}-`)) continue;
    try {
      const file = path.join(folder, name);
      if (Date.now() - fs.statSync(file).mtimeMs > STALE_AFTER_MS) fs.rmSync(file, { force: true });
    } catch {
      // gone already, or not ours to remove
    }
  }
}

function crc32(data: Buffer): number {
  return process.getBuiltinModule('node:zlib').crc32(data);
}

function fnv1a(text: string): string {
  let hash = 0x811c9dc5;
  for (let index = 0; index < text.length; index++) hash = Math.imul(hash ^ text.charCodeAt(index), 0x01000193);
  return (hash >>> 0).toString(16).padStart(8, '0');
}
