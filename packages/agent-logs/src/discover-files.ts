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
  /** Directories listed again, and those whose listing was dropped (vanished, or no longer under a root): the listings to save. */
  readonly changedDirectories: string[];
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
  const kept = listings ?? new Map();
  const walked = { visited: new Set<string>(), changed: [] as string[] };
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
    walk(root, accept, files, kept, walked, Date.now());
  }
  // A directory removed with its parent, or under a root no longer given, was not walked: its listing goes.
  for (const dir of kept.keys()) {
    if (walked.visited.has(dir)) continue;
    kept.delete(dir);
    walked.changed.push(dir);
  }
  return { files: [...files].sort(), roots: found, missingRoots, changedDirectories: walked.changed };
}

export function isMissing(error: unknown): boolean {
  const code = (error as { code?: string } | null)?.code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

/** A directory's names: [its mtime when listed, when it was listed, files, subdirectories]. */
export type DirectoryListing = [mtimeMs: number, listedAtMs: number, files: string[], directories: string[]];

/** Directory → its listing. */
export type DirectoryListings = Map<string, DirectoryListing>;

// A listing taken within this long of the directory's last change may have
// raced with it (same mtime tick): it is not trusted.
const MTIME_SAFETY_MS = 2_000;

function walk(
  dir: string,
  accept: (file: string) => boolean,
  files: Set<string>,
  listings: DirectoryListings,
  walked: { visited: Set<string>; changed: string[] },
  now: number,
): void {
  const info = statSync(dir, { throwIfNoEntry: false });
  if (!info?.isDirectory()) {
    if (listings.delete(dir)) walked.changed.push(dir);
    return;
  }
  walked.visited.add(dir);
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
    walked.changed.push(dir);
  }
  // `dir` is resolved and names from readdir hold no separator: concatenation
  // is path.join's result, without its normalisation pass (thousands of files, every cycle).
  const prefix = dir.endsWith(path.sep) ? dir : dir + path.sep;
  for (const name of listing[2]) {
    const full = prefix + name;
    if (accept(full)) files.add(full);
  }
  for (const name of listing[3]) walk(prefix + name, accept, files, listings, walked, now);
}
