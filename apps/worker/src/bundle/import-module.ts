/**
 * `import(specifier)` for a specifier known only at run time (an adapter's
 * file URL, a dependency of a first-party package). Its own module because
 * the CommonJS bundle (scripts/build-cli-bundle.ts) replaces it: code compiled
 * by vm.Script cannot call import() on Node 20 without an experimental flag
 * or warning, so there it calls the launcher's import() (dist/cli.js, a
 * CommonJS module compiled by Node's own loader, where import() works).
 */
export function importModule(specifier: string): Promise<unknown> {
  return import(specifier);
}
