import { type FSWatcher, watch } from 'node:fs';
import { basename } from 'node:path';
import type { DirectoryListings, DiscoveredFiles, DiscoverFilesOptions } from './discover-files';

export type TranscriptWatchOptions = {
  /**
   * A cycle at least this long after the last full pass stats every file
   * again, whatever the watches say: the kernel drops events when its queue
   * overflows, and Node does not report it. Default one hour.
   */
  readonly fullPassEveryMs?: number;
  /** Milliseconds on a monotonic clock (tests). */
  readonly clock?: () => number;
};

type WatchedDirectory = {
  watcher?: FSWatcher;
  readonly dev: number;
  readonly ino: number;
  /**
   * An event may have been about the directory itself (deleted or moved: its
   * watch ends). Linux may give a new directory at the same path the same
   * inode, so the watch is made again rather than trusted.
   */
  gone: boolean;
  /**
   * The directory's file cursors (the state's text) when the last cycle
   * ended. A cycle that loads other cursors (another process wrote them, or
   * the last cycle's transaction was rolled back) does not trust the watch
   * for this directory.
   */
  cursors?: string;
};

const NONE: ReadonlySet<string> = new Set();

/**
 * Directory watches (inotify on Linux, through `fs.watch`) kept between the
 * cycles of a long-running worker, so that a cycle stats only the files that
 * something happened to, instead of every file.
 *
 * A file is skipped without a stat only when all of these hold: its directory
 * has been watched since before the last cycle looked at it (same device and
 * inode), no event named the file (or the directory as a whole) since that
 * cycle began, the cursors loaded for the directory are the ones that cycle
 * left, no watch reported an error, and the last full pass is less than
 * `fullPassEveryMs` old. Anything else gets a `stat`, as without a watch.
 * Events are delivered between cycles and at the start of one; a change whose
 * event is still queued at that moment is seen by the next cycle instead.
 *
 * Watches do not keep the process alive. `close()` ends them.
 */
export class TranscriptWatch {
  private readonly directories = new Map<string, WatchedDirectory>();
  /** Names with events since the current cycle began, per directory; null: anything in it. */
  private pending = new Map<string, Set<string> | null>();
  /** The same, for the events that arrived before the current cycle began. */
  private current = new Map<string, Set<string> | null>();
  /** Directories in which an event of `pending` (`current`) may have added, removed or renamed an entry. */
  private pendingStructural = new Set<string>();
  private currentStructural = new Set<string>();
  /** What the last discovery found, for which roots, and the listings it left. */
  private discovery?: { readonly roots: string; readonly found: DiscoveredFiles; readonly listings: DirectoryListings };
  private readonly fullPassEveryMs: number;
  private readonly clock: () => number;
  private lastFullPassAt = Number.NEGATIVE_INFINITY;
  private cycleStartedAt = 0;
  private fullPass = true;
  private failed = false;
  private readonly visited = new Set<string>();

  constructor(options: TranscriptWatchOptions = {}) {
    this.fullPassEveryMs = options.fullPassEveryMs ?? 3_600_000;
    this.clock = options.clock ?? (() => performance.now());
  }

  /** Number of directories watched. */
  get size(): number {
    return this.directories.size;
  }

  /** Starts a cycle: lets queued events through, then takes the events since the last cycle began. */
  async beginCycle(): Promise<void> {
    // The second turn of the event loop is sure to poll for I/O (the first
    // may be the end of a turn that already has), which delivers every event queued so far.
    for (let turn = 0; turn < 2; turn += 1) await new Promise((resolve) => setImmediate(resolve));
    this.current = this.pending;
    this.pending = new Map();
    this.currentStructural = this.pendingStructural;
    this.pendingStructural = new Set();
    this.visited.clear();
    this.cycleStartedAt = this.clock();
    this.fullPass = this.failed || this.cycleStartedAt - this.lastFullPassAt >= this.fullPassEveryMs;
    this.failed = false;
  }

  /** This cycle stats every file (the roots changed). */
  requireFullPass(): void {
    this.fullPass = true;
  }

  /**
   * Discovery walked `directory`: it is watched from now on. `info` is its
   * stat, or undefined when discovery took its listing as unchanged (it is
   * watched already). Returns true when it began watching the directory (the
   * caller stats it again). A directory that cannot be watched (no watches
   * left, no permission) is simply stat'ed file by file every cycle.
   */
  visitDirectory(directory: string, info: { dev: number; ino: number } | undefined): boolean {
    this.visited.add(directory);
    if (info === undefined) return false;
    const known = this.directories.get(directory);
    if (known && !known.gone && known.dev === info.dev && known.ino === info.ino) return false;
    known?.watcher?.close();
    this.directories.delete(directory);
    const watched: WatchedDirectory = { dev: info.dev, ino: info.ino, gone: false };
    const name = basename(directory);
    try {
      watched.watcher = watch(directory, { persistent: false }, (event, file) => {
        // Events about the directory itself carry its own name.
        if (event === 'rename' && file === name) watched.gone = true;
        this.record(directory, event, file);
      });
    } catch {
      return false;
    }
    const { watcher } = watched;
    watcher.on('error', () => {
      watcher.close();
      if (this.directories.get(directory) === watched) this.directories.delete(directory);
      this.failed = true;
    });
    this.directories.set(directory, watched);
    return true;
  }

  /**
   * What `discoverFiles()` may take from the last discovery under `roots`:
   * its listings and files, and which directories are unchanged since
   * (watched since, and no entry created, removed or renamed in them), to be
   * neither stat'ed nor listed again. Undefined on a full pass, or when there
   * is no such discovery to start from (then call `rememberDiscovery()` with
   * what was found).
   */
  partialDiscovery(roots: readonly string[]): Required<Pick<DiscoverFilesOptions, 'listings' | 'unchanged' | 'known'>> | undefined {
    const known = this.discovery;
    if (this.fullPass || known === undefined || known.roots !== roots.join('\n')) return undefined;
    return {
      listings: new Map(known.listings),
      unchanged: (directory) => this.isCovered(directory) && !this.currentStructural.has(directory),
      known: known.found.byDirectory,
    };
  }

  /** What discovery found under `roots` this cycle, and the listings it leaves. */
  rememberDiscovery(roots: readonly string[], found: DiscoveredFiles, listings: DirectoryListings): void {
    this.discovery = { roots: roots.join('\n'), found, listings };
  }

  /**
   * Which files of `directory` need a stat this cycle: null for all of them,
   * else the names that events named (the others are as the last cycle left
   * them). `cursors` is the directory's cursor text as loaded for this cycle.
   */
  filesToStat(directory: string, cursors: string): ReadonlySet<string> | null {
    if (this.fullPass) return null;
    const watched = this.directories.get(directory);
    if (watched === undefined || watched.gone || watched.cursors === undefined || watched.cursors !== cursors) return null;
    const names = this.current.get(directory);
    return names === undefined ? NONE : names;
  }

  /**
   * Ends a cycle that completed: `cursorsOf` gives each directory's cursor
   * text as the cycle leaves it. Watches of directories the cycle no longer
   * found are closed.
   */
  endCycle(cursorsOf: (directory: string) => string): void {
    for (const [directory, watched] of this.directories) {
      if (this.visited.has(directory)) {
        watched.cursors = cursorsOf(directory);
        continue;
      }
      watched.watcher?.close();
      this.directories.delete(directory);
    }
    if (this.fullPass) this.lastFullPassAt = this.cycleStartedAt;
  }

  /** A cycle that failed part-way: the next one is a full pass. */
  abandonCycle(): void {
    this.failed = true;
    this.discovery = undefined;
    for (const watched of this.directories.values()) watched.cursors = undefined;
  }

  close(): void {
    for (const watched of this.directories.values()) watched.watcher?.close();
    this.directories.clear();
    this.pending.clear();
    this.current.clear();
    this.discovery = undefined;
  }

  /** Watched since the end of an earlier cycle, and not gone. */
  private isCovered(directory: string): boolean {
    const watched = this.directories.get(directory);
    return watched !== undefined && !watched.gone && watched.cursors !== undefined;
  }

  private record(directory: string, event: string, name: string | Buffer | null): void {
    // 'rename' is everything but a change of content or attributes: an entry created, deleted or moved, or the directory itself.
    if (event !== 'change') this.pendingStructural.add(directory);
    if (name === null || typeof name !== 'string') {
      this.pending.set(directory, null);
      this.pendingStructural.add(directory);
      return;
    }
    const names = this.pending.get(directory);
    if (names === null) return;
    if (names) names.add(name);
    else this.pending.set(directory, new Set([name]));
  }
}
