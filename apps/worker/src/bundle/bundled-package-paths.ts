import { existsSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { findPackageFolder, matchImportConditions, rootExport } from '../config/package-exports';
import { importModule } from './import-module';

/**
 * What the CommonJS bundle (dist/cli-bundle.cjs, built for Node < 22.1 so
 * that its compiled code can be cached: see run-cached-bundle.ts) needs to
 * reach files of the packages it has inlined. The build rewrites, in each
 * inlined file of a first-party package, `import.meta.url` into
 * `bundledPackageFileUrl(name, file)` and the package's `import()` of its own
 * dependencies into `importDependencyOf(name, specifier)`: the worker-thread
 * scripts, pg's bundled driver, zod's locales and PGlite are then loaded from
 * the installed package, exactly as its ES build would load them.
 *
 * The folders are found by the launcher before it runs the bundle (it checks
 * that each holds the version the bundle was built from) and handed to it as
 * `__uttBundledPackageRoots` (a parameter of the bundle's function wrapper).
 */
declare const __uttBundledPackageRoots: ReadonlyMap<string, string> | undefined;

function packageRoot(name: string): string {
  const root = typeof __uttBundledPackageRoots === 'undefined' ? undefined : __uttBundledPackageRoots.get(name);
  if (root === undefined) throw new Error(`utt: ${name} was bundled, but the launcher found no installed copy of it`);
  return root;
}

/** The URL `import.meta.url` has in `file` (relative to the package's folder) of the installed package `name`. */
export function bundledPackageFileUrl(name: string, file: string): string {
  return pathToFileURL(path.join(packageRoot(name), file)).href;
}

/** `import(specifier)` as the installed package `name` would resolve it: from its own folder, with import conditions. */
export function importDependencyOf(name: string, specifier: string): Promise<unknown> {
  return importModule(pathToFileURL(resolveDependencyEntry(specifier, packageRoot(name))).href);
}

/** `require(specifier)` as the installed package `name` would resolve it (pg's optional pg-native, from @utt/postgres). */
export function requireDependencyOf(name: string, specifier: string): unknown {
  return createRequire(path.join(packageRoot(name), 'package.json'))(specifier);
}

function resolveDependencyEntry(specifier: string, from: string): string {
  const folder = findPackageFolder(specifier, from);
  if (folder === undefined) throw Object.assign(new Error(`Cannot find package '${specifier}' imported from ${from}`), { code: 'ERR_MODULE_NOT_FOUND' });
  return packageEntry(folder);
}

function packageEntry(folder: string): string {
  const manifest = JSON.parse(readFileSync(path.join(folder, 'package.json'), 'utf8')) as { exports?: unknown; main?: string };
  if (manifest.exports !== undefined) {
    const target = matchImportConditions(rootExport(manifest.exports));
    if (target === undefined) throw new Error(`utt: ${folder}/package.json exports nothing import() can load`);
    return path.resolve(folder, target);
  }
  // A CommonJS package without "exports": its "main", with the extensions Node's legacy lookup tries.
  const main = path.resolve(folder, manifest.main ?? 'index.js');
  return [main, `${main}.js`, path.join(main, 'index.js')].find((candidate) => existsSync(candidate) && !isFolder(candidate)) ?? main;
}

function isFolder(file: string): boolean {
  return statSync(file).isDirectory();
}
