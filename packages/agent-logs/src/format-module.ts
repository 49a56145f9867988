import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const resolved = new Map<string, string>();

/**
 * The module a scan's worker threads build a format from (its
 * `workerModule.url`): `builtEntry` (for example `./codex-format.js`) next to
 * the module at `moduleUrl` when the package's build has it, an entry holding
 * the format alone on `@utt/agent-logs/line-format`; the package's index
 * would load `@utt/core` (zod and every schema) on each thread, tens of
 * milliseconds of CPU. Otherwise (from the sources, in tests) `moduleUrl`
 * itself. Looked up once per pair.
 */
export function formatModuleUrl(moduleUrl: string, builtEntry: string): string {
  const key = `${moduleUrl}\u0000${builtEntry}`;
  let url = resolved.get(key);
  if (url === undefined) {
    // Only a module loaded from a file has files next to it (a data: URL cannot even be a base).
    const entry = moduleUrl.startsWith('file:') ? new URL(builtEntry, moduleUrl) : undefined;
    url = entry !== undefined && existsSync(fileURLToPath(entry)) ? entry.href : moduleUrl;
    resolved.set(key, url);
  }
  return url;
}
