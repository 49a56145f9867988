import { existsSync, realpathSync } from 'node:fs';
import path from 'node:path';

/** The conditions Node's `import()` matches in a package's `exports`. */
const IMPORT_CONDITIONS = new Set(['node', 'import', 'default', 'module-sync']);

/** The export of "." in a package's `exports`. */
export function rootExport(exports: unknown): unknown {
  if (typeof exports === 'string' || Array.isArray(exports)) return exports;
  if (typeof exports !== 'object' || exports === null) return undefined;
  const keys = Object.keys(exports);
  // Either a subpath map ("." and "./x") or conditions for "." alone.
  return keys.some((key) => key.startsWith('.')) ? (exports as Record<string, unknown>)['.'] : exports;
}

/** Node's rule: the first key, in order, that is one of the active conditions. */
export function matchImportConditions(target: unknown): string | undefined {
  if (typeof target === 'string') return target;
  if (Array.isArray(target)) {
    for (const item of target) {
      const found = matchImportConditions(item);
      if (found !== undefined) return found;
    }
    return undefined;
  }
  if (typeof target !== 'object' || target === null) return undefined;
  for (const [condition, value] of Object.entries(target)) {
    if (!IMPORT_CONDITIONS.has(condition)) continue;
    const found = matchImportConditions(value);
    if (found !== undefined) return found;
  }
  return undefined;
}

/** The real folder of `node_modules/<name>` nearest above `from`, where Node looks for a package; undefined if there is none. */
export function findPackageFolder(name: string, from: string): string | undefined {
  for (let directory = path.resolve(from); ; directory = path.dirname(directory)) {
    const folder = path.join(directory, 'node_modules', name);
    if (existsSync(path.join(folder, 'package.json'))) return realpathSync(folder);
    if (path.dirname(directory) === directory) return undefined;
  }
}
