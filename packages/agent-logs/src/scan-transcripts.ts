import { existsSync, type Stats, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Logger, UsageAdapterV1State } from '@utt/core';
import { type DirectoryListing, type DirectoryListings, discoverFiles, isMissing } from './discover-files';
import type { FileCursor } from './file-cursor';
import { FileCursorStore } from './file-cursor-store';
import { MAX_REPORTED_MALFORMED, type MalformedLine } from './malformed-line';
import { createMemoryState } from './memory-state';
import { readInParallel } from './read-in-parallel';
import { describeParseError, readTranscriptFile, type TranscriptFileRead } from './read-transcript-file';
import type { TranscriptFormat } from './transcript-format';
import { hashKey } from './hash-key';
import type { TranscriptWatch } from './transcript-watch';
import { type LedgerAddResult, type LedgerCell, UsageLedger } from './usage-ledger';
import type { UsageEvent } from './usage-event';

export type ScanTranscriptsOptions = {
  /** Directories (walked recursively) or single files. */
  readonly roots: readonly string[];
  readonly format: TranscriptFormat;
  /**
   * Durable state between cycles. Without it every call is a full scan
   * (an in-memory state that is thrown away).
   */
  readonly state?: UsageAdapterV1State;
  /** Prefix of every state key: include the machine (source_instance), so several machines can share one source. */
  readonly namespace: string;
  /**
   * Asked when `namespace` has no state (its first cycle): the namespace
   * whose state to continue instead (the same machine under an earlier name),
   * or undefined to start afresh. The answer is kept in `namespace`'s state
   * (`<namespace>/continues`), so it is asked once; later cycles under this
   * namespace go on in the other one.
   */
  readonly continueFrom?: (state: UsageAdapterV1State) => Promise<string | undefined>;
  /** Hours older than this many days before `now` are forgotten in the state (their rows stay). null: never. */
  readonly retentionDays?: number | null;
  readonly now?: Date;
  readonly signal?: AbortSignal;
  readonly logger?: Logger;
  /**
   * Read and parse on this thread and worker threads (one per further CPU, at
   * most 3) when this many bytes or more are to be read and the format names
   * its module (`workerModule`). Default 64 MiB: a cold scan, never an
   * ordinary cycle.
   */
  readonly parallelAboveBytes?: number;
  /**
   * Directory watches kept between this caller's cycles (a long-running
   * worker): files nothing happened to since the last cycle are not stat'ed.
   * Without it, every known file gets a stat each cycle.
   */
  readonly watch?: TranscriptWatch;
};

export type ScanStatistics = {
  readonly files: number;
  /**
   * Files stat'ed this cycle: all of them, unless a watch vouched for some,
   * or they are new files in a directory without cursors and the read was
   * already known to be shared between threads.
   */
  readonly filesStatted: number;
  /** Files read this cycle (new, appended to, or reset). */
  readonly filesRead: number;
  /** Files read again from the start: truncated, replaced or rewritten. */
  readonly filesReset: number;
  readonly bytesRead: number;
  readonly events: number;
  /** Copies of a response dropped because another copy of it counts (one written right after it, or one already counted that is as good or better). */
  readonly duplicates: number;
  /** Events for hours already forgotten (older than the retention). */
  readonly sealed: number;
  readonly malformed: number;
  readonly missingRoots: readonly string[];
  /** Threads that read and parsed at least one file (1: this one alone). */
  readonly threads: number;
  /**
   * Wall time of each phase: finding files (and forgetting vanished ones),
   * the stat of every known file, reading and parsing (with de-duplication
   * in the ledger as files arrive), recomputing and staging the touched hours.
   */
  readonly timings: { readonly discoverMs: number; readonly statMs: number; readonly readMs: number; readonly ledgerMs: number };
};

export type ScanTranscriptsResult = {
  /** The namespace whose state this scan kept: `options.namespace`, or the one `continueFrom` named. */
  readonly namespace: string;
  /** Complete cells of every hour touched by this scan. */
  readonly cells: LedgerCell[];
  /** Up to MAX_REPORTED_MALFORMED locations of unreadable lines; `statistics.malformed` is the exact count. */
  readonly malformedLines: MalformedLine[];
  readonly statistics: ScanStatistics;
};

const DAY_MS = 86_400_000;

/**
 * One incremental pass over an agent's transcripts: discover files, read what
 * was appended since the cursor kept in `state`, parse it into usage events,
 * de-duplicate them in the hour ledger, and return the recomputed cells of
 * every touched hour. Cursors, hours and index are staged in `state`.
 */
export async function scanTranscripts(options: ScanTranscriptsOptions): Promise<ScanTranscriptsResult> {
  const { watch } = options;
  await watch?.beginCycle();
  try {
    return await scan(options);
  } catch (error) {
    watch?.abandonCycle();
    throw error;
  }
}

async function scan(options: ScanTranscriptsOptions): Promise<ScanTranscriptsResult> {
  const { watch } = options;
  let mark = performance.now();
  const timings = { discoverMs: 0, statMs: 0, readMs: 0, ledgerMs: 0 };
  const lap = (phase: keyof typeof timings) => {
    const now = performance.now();
    timings[phase] += now - mark;
    mark = now;
  };
  const state = options.state ?? createMemoryState();
  const { format } = options;
  let namespace = options.namespace;
  let rootsKey = `${namespace}/roots`;
  let listingPrefix = `${namespace}/dirs/`;
  let cursorPrefix = `${namespace}/cursors/`;
  // With a watch, only the directories in which entries changed are looked at again.
  const partial = watch?.partialDiscovery(options.roots);
  // Every cycle needs the file cursors (one key per directory), and the stored
  // listings unless the watch has them; the ledger's hours and index shards
  // are loaded for the responses a cycle reads. The ledger's meta key
  // (UsageLedger.open reads it) comes in the same round trip, and so does the
  // namespace to continue in, if one was found before.
  const continuesKey = `${namespace}/continues`;
  const firstKeys = options.continueFrom ? [rootsKey, `${namespace}/meta`, continuesKey] : [rootsKey, `${namespace}/meta`];
  await state.load?.({ keys: firstKeys, prefixes: partial ? [cursorPrefix] : [listingPrefix, cursorPrefix] });
  // A namespace with state has its roots: only its first cycle, or one that continues another namespace, looks further.
  if (options.continueFrom && state.get(rootsKey) === undefined) {
    const continued = (state.get(continuesKey) as { namespace?: unknown } | undefined)?.namespace;
    const earlier = typeof continued === 'string' ? continued : await options.continueFrom(state);
    if (earlier !== undefined && earlier !== namespace) {
      if (continued === undefined) state.set(continuesKey, { namespace: earlier });
      namespace = earlier;
      rootsKey = `${namespace}/roots`;
      listingPrefix = `${namespace}/dirs/`;
      cursorPrefix = `${namespace}/cursors/`;
      await state.load?.({ keys: [rootsKey, `${namespace}/meta`], prefixes: partial ? [cursorPrefix] : [listingPrefix, cursorPrefix] });
    }
  }
  if (Array.isArray(state.get(rootsKey))) await forgetEarlierLayout(state, namespace);
  const cursors = await FileCursorStore.open(state, cursorPrefix);
  const workerScript = new URL('./scan-worker.js', import.meta.url);
  const parallelAboveBytes = options.parallelAboveBytes ?? 64 * 1024 * 1024;
  // Asked only by a cycle that may read in parallel: a nothing-new cycle never pays its file check.
  let parallelPossible: boolean | undefined;
  const canReadInParallel = () =>
    (parallelPossible ??=
      format.workerModule !== undefined && availableParallelism() > 1 && workerScript.protocol === 'file:' && existsSync(fileURLToPath(workerScript)));
  const ledger = await UsageLedger.open(state, namespace);
  const listings: DirectoryListings = partial?.listings ?? new Map();
  if (partial === undefined) for (const key of state.keys(listingPrefix)) listings.set(key.slice(listingPrefix.length), state.get(key) as DirectoryListing);
  const discovered = await discoverFiles(options.roots, format.accept, {
    listings,
    unchanged: partial?.unchanged,
    known: partial?.known,
    onDirectory: watch && ((directory, info) => watch.visitDirectory(directory, info)),
  });
  watch?.rememberDiscovery(options.roots, discovered, listings);
  const { files, roots, missingRoots, changedDirectories, byDirectory } = discovered;
  // Only the directories that changed are written, so an idle cycle stages nothing.
  for (const directory of changedDirectories) {
    const listing = listings.get(directory);
    if (listing) state.set(listingPrefix + directory, listing);
    else state.delete(listingPrefix + directory);
  }
  const storedRoots = (state.get(rootsKey) as { roots?: unknown } | undefined)?.roots;
  const rootsChanged = !Array.isArray(storedRoots) || storedRoots.length !== roots.length || roots.some((root, index) => storedRoots[index] !== root);
  if (rootsChanged) {
    state.set(rootsKey, { roots });
    watch?.requireFullPass();
  }
  lap('discoverMs');
  const malformedLines: MalformedLine[] = [];
  const counts = { filesRead: 0, filesReset: 0, bytesRead: 0, events: 0, duplicates: 0, sealed: 0, malformed: 0 };

  const counted = (result: LedgerAddResult) => {
    counts.events += 1;
    if (result === 'duplicate') counts.duplicates += 1;
    else if (result === 'sealed') counts.sealed += 1;
  };
  const malformed = (file: string, line: number, reason: string) => {
    counts.malformed += 1;
    if (malformedLines.length < MAX_REPORTED_MALFORMED) malformedLines.push({ file, line, reason });
  };

  const tasks: Array<{ index: number; path: string; previous?: FileCursor }> = [];
  let pendingBytes = 0;
  let filesStatted = 0;
  const changedFile = (path: string, info: Stats | undefined) => {
    if (!info || cursors.isUnchanged(path, info)) return;
    const previous = cursors.get(path);
    pendingBytes += previous && info.size >= previous.offset ? info.size - previous.offset : info.size;
    tasks.push({ index: 0, path, previous });
  };
  for (const [directory, paths] of byDirectory) {
    // null: every file of the directory gets a stat; else only those the watch names.
    const toStat = watch?.filesToStat(directory, cursors.textOf(directory)) ?? null;
    if (toStat !== null && toStat.size === 0) continue;
    if (toStat === null) {
      // A directory without a cursor (a cold scan's) holds only new files.
      // Once the read is known to be shared between threads, their stat
      // would decide nothing: a reader takes the cursor from the opened file,
      // and a file gone by then is skipped as one gone at the stat. On the
      // dense corpus, 3,362 stats (24 ms) before the first file is read.
      if (pendingBytes >= parallelAboveBytes && cursors.textOf(directory) === '' && canReadInParallel()) {
        for (const path of paths) tasks.push({ index: 0, path, previous: undefined });
        continue;
      }
      // The common case of an incremental cycle without a watch: one stat a
      // file (no open, no promise), and the directory's files compared with
      // its cursors in one pass; file by file only when something changed.
      const infos = paths.map((path) => statSync(path, { throwIfNoEntry: false }));
      filesStatted += paths.length;
      if (cursors.allUnchanged(directory, paths, infos)) continue;
      for (let index = 0; index < paths.length; index++) changedFile(paths[index] as string, infos[index]);
      continue;
    }
    for (const path of paths) {
      if (!toStat.has(path.slice(path.lastIndexOf(sep) + 1))) continue;
      filesStatted += 1;
      changedFile(path, statSync(path, { throwIfNoEntry: false }));
    }
  }
  // Files are read, and their events reach the ledger, in path order (a parallel read too).
  tasks.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  tasks.forEach((task, index) => {
    task.index = index;
  });

  lap('statMs');
  const handle = (task: (typeof tasks)[number], read: TranscriptFileRead) => {
    if (read.status === 'unchanged') return;
    counts.filesRead += 1;
    counts.bytesRead += read.bytesRead;
    counts.events += read.folded;
    counts.duplicates += read.folded;
    if (read.reset) counts.filesReset += 1;
    cursors.set(task.path, read.cursor);
  };
  const parallel = tasks.length > 1 && pendingBytes >= parallelAboveBytes && canReadInParallel();
  let threads = 1;
  if (parallel && format.workerModule) {
    // A read this large touches much of the ledger: load all of it at once.
    await state.load?.({ prefixes: [`${namespace}/hour/`, `${namespace}/ix/`] });
    threads = await readInParallel(workerScript, format, format.workerModule, tasks, Math.min(availableParallelism(), 4) - 1, {
      events: (encoded) => ledger.addEncoded(encoded, counted),
      malformed,
      handle: (index, read) => handle(tasks[index] as (typeof tasks)[number], read),
      signal: options.signal,
    });
  } else {
    // Events wait until every file is read, so that the ledger can load what
    // they need in two round trips rather than a few per file.
    const read: Array<{ event: UsageEvent; key: string; variant: string }> = [];
    const emit = (event: UsageEvent) => read.push({ event, key: hashKey(event.key), variant: event.variant ? hashKey(event.variant) : '' });
    let lastYield = performance.now();
    for (const task of tasks) {
      // Reads are synchronous: let timers and signals through every 50 ms.
      if (performance.now() - lastYield > 50) {
        await new Promise((resolve) => setImmediate(resolve));
        lastYield = performance.now();
      }
      options.signal?.throwIfAborted();
      try {
        const fileRead = await readTranscriptFile(task.path, task.previous, format, {
          emit,
          malformed: (line, error) => malformed(task.path, line, describeParseError(error)),
        });
        handle(task, fileRead);
      } catch (error) {
        // A file deleted between discovery and reading is gone, not broken.
        if (isMissing(error)) continue;
        throw error;
      }
    }
    await ledger.load(read.map(({ event, key }) => ({ key, timestampMs: event.timestampMs })));
    for (const { event, key, variant } of read) counted(ledger.addHashed(event, key, variant));
  }
  lap('readMs');
  // A file vanishes only with a change to its directory (or to the roots):
  // only the cursors of changed directories are looked over.
  if (rootsChanged) cursors.forgetAllBut(new Set(files));
  else cursors.forgetVanished(changedDirectories, listings);
  cursors.commit();
  lap('discoverMs');

  const cells = ledger.cells();
  if (options.retentionDays !== null && options.retentionDays !== undefined) {
    const now = options.now ?? new Date();
    await ledger.prune(now.getTime() - options.retentionDays * DAY_MS);
  }
  ledger.commit();
  lap('ledgerMs');
  watch?.endCycle((directory) => cursors.textOf(directory));

  if (counts.malformed > 0 && options.logger) {
    const first = malformedLines[0];
    options.logger.warn(`${counts.malformed} unreadable transcript line${counts.malformed === 1 ? '' : 's'} skipped`, {
      first: first ? `${first.file}:${first.line}: ${first.reason}` : undefined,
    });
  }
  return { namespace, cells, malformedLines, statistics: { files: files.length, filesStatted, ...counts, missingRoots, threads, timings } };
}

/**
 * State written before cursors and listings were kept per directory held a
 * key per file, all listings in one key and the roots as a bare array: drop
 * those keys. The files are read once more from the start, and the ledger
 * counts none of their responses twice.
 */
async function forgetEarlierLayout(state: UsageAdapterV1State, namespace: string): Promise<void> {
  const prefix = `${namespace}/file/`;
  await state.load?.({ prefixes: [prefix] });
  for (const key of state.keys(prefix)) state.delete(key);
  state.delete(`${namespace}/dirs`);
}
