import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { InvalidAdapterError, resolveUsageAdapter, type UsageAdapterV1 } from '@utt/core';

/**
 * Loads an adapter by package name or path with a dynamic import, so a
 * deployment installs only the adapters it uses and a third-party
 * `utt-adapter-foo` loads exactly like a first-party one.
 *
 * A package name resolves from the config file's folder first, then the
 * working directory (where the operator installed it), then from the worker
 * itself (the adapters it ships with).
 */
export async function loadAdapter(specifier: string, options: { directory: string; cwd: string }): Promise<UsageAdapterV1<unknown>> {
  const isPath = specifier.startsWith('.') || path.isAbsolute(specifier);
  let url: string;
  if (isPath) {
    url = pathToFileURL(path.resolve(options.directory, specifier)).href;
  } else {
    url = resolvePackage(specifier, [options.directory, options.cwd]) ?? specifier;
  }
  let loaded: unknown;
  try {
    loaded = await import(url);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason =
      code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND'
        ? isPath
          ? `file not found`
          : `package not installed (run: pnpm add ${specifier})`
        : `failed to load: ${(error as Error).message}`;
    throw new InvalidAdapterError({ packageName: specifier, reason, cause: error });
  }
  return resolveUsageAdapter(loaded, specifier);
}

function resolvePackage(name: string, directories: readonly string[]): string | undefined {
  for (const directory of directories) {
    try {
      const resolved = createRequire(path.join(directory, 'noop.js')).resolve(name);
      return pathToFileURL(resolved).href;
    } catch {
      // Not installed there; try the next place.
    }
  }
  return undefined;
}
