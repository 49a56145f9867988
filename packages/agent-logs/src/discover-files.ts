import { readdirSync, type Stats, statSync } from 'node:fs';
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
  /** `files` by the directory that holds them. */
  readonly byDirectory: ReadonlyMap<string, readonly string[]>;
};

export type DiscoverFilesOptions = {
  /** Listings kept between cycles: a directory whose mtime has not changed is not listed again. Updated in place. */
  readonly listings?: DirectoryListings;
  /**
   * Directories whose listing in `listings` is known to be current (a watch
   * saw no entry created, removed or renamed since it was taken): neither
   * stat'ed nor listed again, and their files are taken from `known` (an
   * earlier result's `byDirectory`) when it has them.
   */
  readonly unchanged?: (directory: string) => boolean;
  readonly known?: ReadonlyMap<string, readonly string[]>;
  /**
   * Called with every directory walked, before its files are listed, with
   * its stat (undefined for an `unchanged` one, which is not stat'ed).
   * Returning true (it began watching the directory) has the directory
   * stat'ed again, so that a change between the first stat and the watch is
   * not missed.
   */
  readonly onDirectory?: (directory: string, info: Stats | undefined) => boolean | undefined;
};

/**
 * Every file under `roots` whose name passes `accept`, recursively. A root may
 * be a single file. Symbolic-link loops cannot occur: the walk does not
 * follow directory links.
 */
export async function discoverFiles(
  roots: readonly string[],
  accept: (file: string) => boolean,
  options: DiscoverFilesOptions = {},
): Promise<DiscoveredFiles> {
  const found: string[] = [];
  const missingRoots: string[] = [];
  const kept = options.listings ?? new Map();
  const walked: Walked = { visited: new Set(), changed: [], byDirectory: new Map(), options };
  const rootFiles: string[] = [];
  for (const root of new Set(roots.map((entry) => path.resolve(entry)))) {
    let info: Stats | undefined;
    try {
      // Synchronous, like the rest of the walk: a turn of the event loop here costs more than the stat.
      info = statSync(root, { throwIfNoEntry: false });
    } catch (error) {
      if (!isMissing(error)) throw error;
    }
    if (info === undefined) {
      missingRoots.push(root);
      continue;
    }
    found.push(root);
    if (info.isFile()) {
      if (accept(root)) rootFiles.push(root);
      continue;
    }
    walk(root, accept, kept, walked, Date.now());
  }
  // A file given as a root may also lie in a directory walked.
  for (const file of rootFiles) {
    const directory = path.dirname(file);
    const group = walked.byDirectory.get(directory) ?? [];
    // A copy: the group may be an earlier result's.
    if (!group.includes(file)) walked.byDirectory.set(directory, [...group, file]);
  }
  // A directory removed with its parent, or under a root no longer given, was not walked: its listing goes.
  for (const dir of kept.keys()) {
    if (walked.visited.has(dir)) continue;
    kept.delete(dir);
    walked.changed.push(dir);
  }
  const files: string[] = [];
  for (const group of walked.byDirectory.values()) for (const file of group) files.push(file);
  // The groups come in walk order: mostly sorted already, which the sort is quick to find.
  files.sort();
  return { files, roots: found, missingRoots, changedDirectories: walked.changed, byDirectory: walked.byDirectory };
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

type Walked = {
  readonly visited: Set<string>;
  readonly changed: string[];
  readonly byDirectory: Map<string, readonly string[]>;
  readonly options: DiscoverFilesOptions;
};

function walk(dir: string, accept: (file: string) => boolean, listings: DirectoryListings, walked: Walked, now: number): void {
  // A root inside another root: walked once.
  if (walked.visited.has(dir)) return;
  const { options } = walked;
  let listing = listings.get(dir);
  let group: readonly string[] | undefined;
  if (listing !== undefined && options.unchanged?.(dir) === true) {
    walked.visited.add(dir);
    options.onDirectory?.(dir, undefined);
    group = options.known?.get(dir);
  } else {
    let info = statSync(dir, { throwIfNoEntry: false });
    if (info?.isDirectory() && options.onDirectory?.(dir, info) === true) info = statSync(dir, { throwIfNoEntry: false });
    if (!info?.isDirectory()) {
      if (listings.delete(dir)) walked.changed.push(dir);
      return;
    }
    walked.visited.add(dir);
    if (!listing || listing[0] !== info.mtimeMs || listing[1] - info.mtimeMs < MTIME_SAFETY_MS) {
      const names: string[] = [];
      const directories: string[] = [];
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        if (entry.isFile()) names.push(entry.name);
        else if (entry.isDirectory()) directories.push(entry.name);
      }
      listing = [info.mtimeMs, now, names.sort(), directories.sort()];
      listings.set(dir, listing);
      walked.changed.push(dir);
    }
  }
  // `dir` is resolved and names from readdir hold no separator: concatenation
  // is path.join's result, without its normalisation pass (thousands of files, every cycle).
  const prefix = dir.endsWith(path.sep) ? dir : dir + path.sep;
  if (group === undefined) {
    const files: string[] = [];
    for (const name of listing[2]) {
      const full = prefix + name;
      if (accept(full)) files.push(full);
    }
    group = files;
  }
  if (group.length > 0) walked.byDirectory.set(dir, group);
  for (const name of listing[3]) walk(prefix + name, accept, listings, walked, now);
}
