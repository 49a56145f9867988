import { readdirSync, statSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import path from 'node:path';

export type DiscoveredFiles = {
  /** Absolute paths, sorted, without duplicates. */
  readonly files: string[];
  /** Roots that exist and were walked. */
  readonly roots: string[];
  /** Roots that do not exist (an agent not installed on this machine is not an error). */
  readonly missingRoots: string[];
  /** Some directory was listed again (or vanished): the listings should be saved. */
  readonly listingsChanged: boolean;
};

/**
 * Every file under `roots` whose name passes `accept`, recursively. A root may
 * be a single file. Symbolic-link loops cannot occur: the walk does not
 * follow directory links.
 */
export async function discoverFiles(
  roots: readonly string[],
  accept: (file: string) => boolean,
  /** Listings kept between cycles: a directory whose mtime has not changed is not listed again. */
  listings?: DirectoryListings,
): Promise<DiscoveredFiles> {
  const files = new Set<string>();
  const found: string[] = [];
  const missingRoots: string[] = [];
  let listingsChanged = false;
  for (const root of new Set(roots.map((entry) => path.resolve(entry)))) {
    let info;
    try {
      info = await stat(root);
    } catch (error) {
      if (isMissing(error)) {
        missingRoots.push(root);
        continue;
      }
      throw error;
    }
    found.push(root);
    if (info.isFile()) {
      if (accept(root)) files.add(root);
      continue;
    }
    if (walk(root, accept, files, listings ?? new Map(), Date.now())) listingsChanged = true;
  }
  return { files: [...files].sort(), roots: found, missingRoots, listingsChanged };
}

export function isMissing(error: unknown): boolean {
  const code = (error as { code?: string } | null)?.code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

/** Directory → [its mtime when listed, when it was listed, files, subdirectories] (names). */
export type DirectoryListings = Map<string, [mtimeMs: number, listedAtMs: number, files: string[], directories: string[]]>;

// A listing taken within this long of the directory's last change may have
// raced with it (same mtime tick): it is not trusted.
const MTIME_SAFETY_MS = 2_000;

/** Returns whether any listing under `dir` changed. */
function walk(dir: string, accept: (file: string) => boolean, files: Set<string>, listings: DirectoryListings, now: number): boolean {
  const info = statSync(dir, { throwIfNoEntry: false });
  if (!info?.isDirectory()) return listings.delete(dir);
  let changed = false;
  let listing = listings.get(dir);
  if (!listing || listing[0] !== info.mtimeMs || listing[1] - info.mtimeMs < MTIME_SAFETY_MS) {
    const names: string[] = [];
    const directories: string[] = [];
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (entry.isFile()) names.push(entry.name);
      else if (entry.isDirectory()) directories.push(entry.name);
    }
    listing = [info.mtimeMs, now, names, directories];
    listings.set(dir, listing);
    changed = true;
  }
  // `dir` is resolved and names from readdir hold no separator: concatenation
  // is path.join's result, without its normalisation pass (thousands of files, every cycle).
  const prefix = dir.endsWith(path.sep) ? dir : dir + path.sep;
  for (const name of listing[2]) {
    const full = prefix + name;
    if (accept(full)) files.add(full);
  }
  for (const name of listing[3]) if (walk(prefix + name, accept, files, listings, now)) changed = true;
  return changed;
}
