import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { resolveUsageAdapter, type UsageAdapterV1 } from '@utt/core';
import { importModule } from '../bundle/import-module';
import { findWorkerFolder } from '../bundle/worker-folder';
import { AdapterLoadError } from './adapter-load-error';
import { FIRST_PARTY_ADAPTERS } from './first-party-adapters';
import { findPackageFolder, matchImportConditions, rootExport } from './package-exports';

/**
 * Loads an adapter by package name or path with a dynamic import, so a
 * deployment installs only the adapters it uses and a third-party
 * `utt-adapter-foo` loads exactly like a first-party one.
 *
 * A package name resolves from the config file's folder first, then the
 * working directory (where the operator installed it), then from the worker
 * itself (the adapters it ships with). Each way a load can fail gets its own
 * message with the fix: not installed, a dependency of it missing, no export
 * Node can import, no default export, or a file that exists but fails.
 */
export async function loadAdapter(specifier: string, options: { directory: string; cwd: string }): Promise<UsageAdapterV1<unknown>> {
  const isPath = specifier.startsWith('.') || path.isAbsolute(specifier);
  const file = isPath ? resolvePathSpecifier(specifier, options.directory) : resolvePackageEntry(specifier, [options.directory, options.cwd, WORKER_ROOT]);
  const firstParty = isPath ? undefined : FIRST_PARTY_ADAPTERS[specifier];
  let loaded: unknown;
  try {
    loaded = firstParty !== undefined && isWorkersOwnCopy(specifier, file) ? await firstParty() : await importModule(pathToFileURL(file).href);
  } catch (error) {
    throw describeImportFailure(specifier, file, error, options.directory);
  }
  const module = loaded as Record<string, unknown>;
  if (typeof module === 'object' && module !== null && !('default' in module) && !('specificationVersion' in module)) {
    const names = Object.keys(module);
    throw new AdapterLoadError({
      specifier,
      problem: `it has no default export${names.length > 0 ? ` (it exports ${names.join(', ')})` : ''}`,
      fix: 'the worker loads the default export: add `export default myAdapter` (or `export { myAdapter as default }`) to its entry',
    });
  }
  return resolveUsageAdapter(loaded, specifier);
}

function resolvePathSpecifier(specifier: string, directory: string): string {
  const file = path.resolve(directory, specifier);
  if (!existsSync(file)) {
    throw new AdapterLoadError({
      specifier,
      problem: `no file at ${file}`,
      fix: "relative paths resolve against the config file's folder; check the path, or name an installed package instead",
    });
  }
  if (statSync(file).isDirectory()) {
    const manifest = path.join(file, 'package.json');
    if (existsSync(manifest)) return packageEntry(specifier, file);
    throw new AdapterLoadError({ specifier, problem: `${file} is a folder without a package.json`, fix: 'name the module file itself (e.g. ./adapters/acme/index.js)' });
  }
  return file;
}

/** Whether `file` is the entry of the copy of package `name` the worker itself depends on (not one installed next to the config). */
function isWorkersOwnCopy(name: string, file: string): boolean {
  try {
    return resolvePackageEntry(name, [WORKER_ROOT]) === file;
  } catch {
    return false;
  }
}

/** Finds `node_modules/<name>` from each folder upwards, then its entry as `import()` would. */
function resolvePackageEntry(name: string, roots: readonly string[]): string {
  for (const root of roots) {
    const folder = findPackageFolder(name, root);
    if (folder !== undefined) return packageEntry(name, folder);
  }
  const suggestion = closestKnownAdapter(name);
  throw new AdapterLoadError({
    specifier: name,
    problem: 'the package is not installed',
    fix: suggestion
      ? `did you mean ${suggestion}?`
      : `install it where the config file is (npm install ${name}), or give a path to the module (./adapters/x.js)`,
  });
}

function packageEntry(specifier: string, folder: string): string {
  const manifest = JSON.parse(readFileSync(path.join(folder, 'package.json'), 'utf8')) as { exports?: unknown; main?: string; name?: string };
  let target: string | undefined;
  if (manifest.exports !== undefined) {
    const root = rootExport(manifest.exports);
    if (root === undefined) {
      throw new AdapterLoadError({ specifier, problem: 'its package.json "exports" has no "." entry', fix: 'add "exports": { ".": "./dist/index.js" } to the adapter package' });
    }
    target = matchImportConditions(root);
    if (target === undefined) {
      const offered = typeof root === 'object' && root !== null ? Object.keys(root).join(', ') : String(root);
      throw new AdapterLoadError({
        specifier,
        problem: `its package.json "exports" has no condition Node's import() can use (it offers ${offered})`,
        fix: 'add an "import" or "default" condition pointing at an ES module, e.g. "exports": { ".": { "types": "./dist/index.d.ts", "default": "./dist/index.js" } }',
      });
    }
  } else {
    target = manifest.main ?? 'index.js';
  }
  const entry = path.resolve(folder, target);
  if (!existsSync(entry)) {
    throw new AdapterLoadError({
      specifier,
      problem: `its entry ${path.relative(folder, entry)} does not exist (in ${folder})`,
      fix: 'the package is not built or not packed completely: build it (npm run build) or reinstall it',
    });
  }
  return entry;
}

function describeImportFailure(specifier: string, file: string, error: unknown, directory: string): AdapterLoadError {
  const code = (error as NodeJS.ErrnoException).code;
  const message = error instanceof Error ? error.message : String(error);
  if (code === 'ERR_MODULE_NOT_FOUND') {
    const missingPackage = /Cannot find package '([^']+)'/.exec(message)?.[1];
    if (missingPackage) {
      return new AdapterLoadError({
        specifier,
        problem: `it imports ${missingPackage}, which is not installed`,
        fix: `install it next to the adapter (npm install ${missingPackage} in ${directory}); an adapter should list it in its dependencies`,
        cause: error,
      });
    }
    const missingFile = /Cannot find module '([^']+)'/.exec(message)?.[1];
    return new AdapterLoadError({
      specifier,
      problem: `${file} imports ${missingFile ?? 'a module'} that does not exist`,
      fix: 'an ES module imports files with their extension (./x.js); rebuild or reinstall the adapter',
      cause: error,
    });
  }
  return new AdapterLoadError({
    specifier,
    problem: `${file} exists but fails to load: ${message.split('\n')[0]}`,
    fix: 'it must be an ES module Node can run (built JavaScript, not TypeScript source); run it with node to see the full error',
    cause: error,
  });
}

/** The worker's own folder: the adapters it ships with are its dependencies. */
const WORKER_ROOT = findWorkerFolder(path.dirname(fileURLToPath(import.meta.url)));

/** A first-party adapter whose name is close to a mistyped one (`@utt/adapter-openai` → `@utt/adapter-openai-usage`). */
function closestKnownAdapter(name: string): string | undefined {
  let known: string[] = [];
  try {
    const manifest = JSON.parse(readFileSync(path.join(WORKER_ROOT, 'package.json'), 'utf8')) as { dependencies?: Record<string, string> };
    known = Object.keys(manifest.dependencies ?? {}).filter((dependency) => /^@utt\/adapter-/.test(dependency) && dependency !== '@utt/adapter-testkit');
  } catch {
    return undefined;
  }
  const bare = (value: string) => value.replace(/^@utt\/adapter-|^utt-adapter-/, '');
  const wanted = bare(name);
  const scored = known
    .map((candidate) => ({ candidate, distance: editDistance(bare(candidate), wanted), prefix: bare(candidate).startsWith(wanted) || wanted.startsWith(bare(candidate)) }))
    .filter(({ distance, prefix }) => prefix || distance <= 2)
    .sort((a, b) => Number(b.prefix) - Number(a.prefix) || a.distance - b.distance);
  return wanted.length >= 3 ? scored[0]?.candidate : undefined;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, index) => index);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length]!;
}
