import { existsSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { Logger, UsageAdapterV1State } from '@utt/core';
import { type DirectoryListings, discoverFiles, isMissing } from './discover-files';
import type { FileCursor } from './file-cursor';
import { MAX_REPORTED_MALFORMED, type MalformedLine } from './malformed-line';
import { createMemoryState } from './memory-state';
import { decodeEvents, type EncodedEvents } from './encoded-events';
import { describeParseError, readTranscriptFile, type TranscriptFileRead } from './read-transcript-file';
import type { ScanWorkerInput } from './scan-worker';
import type { TranscriptFormat } from './transcript-format';
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
  /** Hours older than this many days before `now` are forgotten in the state (their rows stay). null: never. */
  readonly retentionDays?: number | null;
  readonly now?: Date;
  readonly signal?: AbortSignal;
  readonly logger?: Logger;
  /**
   * Read and parse on worker threads (one per CPU, at most 4) when this many
   * bytes or more are to be read and the format names its module
   * (`workerModule`). Default 64 MiB: a cold scan, never an ordinary cycle.
   */
  readonly parallelAboveBytes?: number;
};

export type ScanStatistics = {
  readonly files: number;
  /** Files read this cycle (new, appended to, or reset). */
  readonly filesRead: number;
  /** Files read again from the start: truncated, replaced or rewritten. */
  readonly filesReset: number;
  readonly bytesRead: number;
  readonly events: number;
  /** Copies dropped because a better or equal copy of the response was already counted. */
  readonly duplicates: number;
  /** Events for hours already forgotten (older than the retention). */
  readonly sealed: number;
  readonly malformed: number;
  readonly missingRoots: readonly string[];
  /** Threads that read and parsed (1: this one; more: worker threads). */
  readonly threads: number;
  /**
   * Wall time of each phase: finding files (and forgetting vanished ones),
   * the stat of every known file, reading and parsing (with de-duplication
   * in the ledger as files arrive), recomputing and staging the touched hours.
   */
  readonly timings: { readonly discoverMs: number; readonly statMs: number; readonly readMs: number; readonly ledgerMs: number };
};

export type ScanTranscriptsResult = {
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
  let mark = performance.now();
  const timings = { discoverMs: 0, statMs: 0, readMs: 0, ledgerMs: 0 };
  const lap = (phase: keyof typeof timings) => {
    const now = performance.now();
    timings[phase] += now - mark;
    mark = now;
  };
  const state = options.state ?? createMemoryState();
  const { namespace, format } = options;
  const ledger = new UsageLedger(state, namespace);
  const listingsKey = `${namespace}/dirs`;
  const storedListings = state.get(listingsKey) as Record<string, DirectoryListings extends Map<string, infer V> ? V : never> | undefined;
  const listings: DirectoryListings = new Map(storedListings ? Object.entries(storedListings) : []);
  const { files, roots, missingRoots, listingsChanged } = await discoverFiles(options.roots, format.accept, listings);
  // Written only when a directory changed, so an idle cycle stages nothing.
  if (listingsChanged) state.set(listingsKey, Object.fromEntries(listings));
  const rootsKey = `${namespace}/roots`;
  const storedRoots = state.get(rootsKey);
  const rootsChanged = !Array.isArray(storedRoots) || storedRoots.length !== roots.length || roots.some((root, index) => storedRoots[index] !== root);
  if (rootsChanged) state.set(rootsKey, roots);
  lap('discoverMs');
  const malformedLines: MalformedLine[] = [];
  const counts = { filesRead: 0, filesReset: 0, bytesRead: 0, events: 0, duplicates: 0, sealed: 0, malformed: 0 };

  const counted = (result: LedgerAddResult) => {
    counts.events += 1;
    if (result === 'duplicate') counts.duplicates += 1;
    else if (result === 'sealed') counts.sealed += 1;
  };
  const emit = (event: UsageEvent) => counted(ledger.add(event));
  const emitHashed = (event: UsageEvent, key: string, variant: string) => counted(ledger.addHashed(event, key, variant));
  const malformed = (file: string, line: number, reason: string) => {
    counts.malformed += 1;
    if (malformedLines.length < MAX_REPORTED_MALFORMED) malformedLines.push({ file, line, reason });
  };

  const filePrefix = `${namespace}/file/`;
  const seen = new Set<string>();
  const tasks: Array<{ index: number; path: string; previous?: FileCursor }> = [];
  let pendingBytes = 0;
  for (const path of files) {
    seen.add(path);
    const previous = state.get(filePrefix + path) as FileCursor | undefined;
    // The common case of an incremental cycle: one stat, no open, no promise.
    const info = statSync(path, { throwIfNoEntry: false });
    if (!info) continue;
    if (previous && info.dev === previous.dev && info.ino === previous.ino && info.size === previous.size && info.mtimeMs === previous.mtimeMs) continue;
    pendingBytes += previous && info.size >= previous.offset ? info.size - previous.offset : info.size;
    tasks.push({ index: tasks.length, path, previous });
  }

  lap('statMs');
  const handle = (task: (typeof tasks)[number], read: TranscriptFileRead) => {
    if (read.status === 'unchanged') return;
    counts.filesRead += 1;
    counts.bytesRead += read.bytesRead;
    if (read.reset) counts.filesReset += 1;
    state.set(filePrefix + task.path, read.cursor);
  };
  const workerScript = new URL('./scan-worker.js', import.meta.url);
  const parallel =
    format.workerModule !== undefined &&
    tasks.length > 1 &&
    pendingBytes >= (options.parallelAboveBytes ?? 64 * 1024 * 1024) &&
    availableParallelism() > 1 &&
    workerScript.protocol === 'file:' &&
    existsSync(fileURLToPath(workerScript));
  let threads = parallel ? Math.min(availableParallelism(), 4) : 1;
  const progress = { files: 0 };
  if (parallel && format.workerModule) {
    try {
      await readInWorkers(workerScript, format.workerModule, tasks, threads, {
        emit: emitHashed,
        malformed,
        handle: (index, read) => {
          progress.files += 1;
          handle(tasks[index] as (typeof tasks)[number], read);
        },
        signal: options.signal,
      });
    } catch (error) {
      // Workers that could not even start (the format's module cannot be
      // imported on a thread, e.g. under a test transformer) fall back to
      // this thread; once files were taken, the error stands.
      if (progress.files > 0 || counts.events > 0 || options.signal?.aborted) throw error;
      options.logger?.debug('scan: worker threads unavailable, reading on one thread', { reason: error instanceof Error ? error.message : String(error) });
      threads = 1;
    }
  }
  if (threads === 1) {
    let lastYield = performance.now();
    for (const task of tasks) {
      // Reads are synchronous: let timers and signals through every 50 ms.
      if (performance.now() - lastYield > 50) {
        await new Promise((resolve) => setImmediate(resolve));
        lastYield = performance.now();
      }
      options.signal?.throwIfAborted();
      try {
        const read = await readTranscriptFile(task.path, task.previous, format, {
          emit,
          malformed: (line, error) => malformed(task.path, line, describeParseError(error)),
        });
        handle(task, read);
      } catch (error) {
        // A file deleted between discovery and reading is gone, not broken.
        if (isMissing(error)) continue;
        throw error;
      }
    }
  }
  lap('readMs');
  // Files are found only through the listings of the roots that exist: while
  // neither changed, the files are those of the last cycle, and listing every
  // key of the state (a pass over all of it) to find vanished ones is skipped.
  if (listingsChanged || rootsChanged) {
    for (const key of state.keys(filePrefix)) {
      if (!seen.has(key.slice(filePrefix.length))) state.delete(key);
    }
  }
  lap('discoverMs');

  const cells = ledger.cells();
  if (options.retentionDays !== null && options.retentionDays !== undefined) {
    const now = options.now ?? new Date();
    ledger.prune(now.getTime() - options.retentionDays * DAY_MS);
  }
  ledger.commit();
  lap('ledgerMs');

  if (counts.malformed > 0 && options.logger) {
    const first = malformedLines[0];
    options.logger.warn(`${counts.malformed} unreadable transcript line${counts.malformed === 1 ? '' : 's'} skipped`, {
      first: first ? `${first.file}:${first.line}: ${first.reason}` : undefined,
    });
  }
  return { cells, malformedLines, statistics: { files: files.length, ...counts, missingRoots, threads, timings } };
}

type WorkerMessage = {
  index: number;
  read?: TranscriptFileRead;
  events?: EncodedEvents;
  malformed: Array<[number, string]>;
  error?: string;
  code?: string;
};

/**
 * Reads and parses on worker threads (each thread takes the next file as it finishes one), feeding the
 * ledger on this thread in path order, so the result is the same as a
 * sequential scan's.
 */
async function readInWorkers(
  script: URL,
  formatModule: { url: string; exportName: string },
  tasks: ReadonlyArray<{ index: number; path: string; previous?: FileCursor }>,
  threads: number,
  sink: {
    emit: (event: UsageEvent, key: string, variant: string) => void;
    malformed: (file: string, line: number, reason: string) => void;
    handle: (index: number, read: TranscriptFileRead) => void;
    signal?: AbortSignal;
  },
): Promise<void> {
  const pending = new Map<number, WorkerMessage>();
  let next = 0;
  let failure: Error | undefined;
  const workers: Worker[] = [];
  const drain = () => {
    for (let message = pending.get(next); message !== undefined; message = pending.get(next)) {
      pending.delete(next);
      const task = tasks[next] as (typeof tasks)[number];
      next += 1;
      for (const [line, reason] of message.malformed) sink.malformed(task.path, line, reason);
      if (message.error !== undefined) {
        if (message.code === 'ENOENT' || message.code === 'ENOTDIR') continue;
        throw new Error(`${task.path}: ${message.error}`);
      }
      if (message.events) decodeEvents(message.events, sink.emit);
      if (message.read) sink.handle(next - 1, message.read);
    }
  };
  await new Promise<void>((resolve, reject) => {
    let running = threads;
    const stop = (error: Error) => {
      failure ??= error;
      for (const worker of workers) void worker.terminate();
      reject(failure);
    };
    const onAbort = () => stop(new Error('scan aborted'));
    sink.signal?.addEventListener('abort', onAbort, { once: true });
    // Files differ in size: threads take the next one as they finish instead of a fixed share.
    const nextTask = new Int32Array(new SharedArrayBuffer(4));
    for (let thread = 0; thread < threads; thread += 1) {
      const input: ScanWorkerInput = { formatModule: formatModule.url, formatExport: formatModule.exportName, tasks, next: nextTask };
      const worker = new Worker(script, { workerData: { uttAgentLogsScan: input } });
      workers.push(worker);
      worker.on('message', (message: WorkerMessage) => {
        if (failure) return;
        if (message.index < 0) return stop(new Error(message.error ?? 'scan worker failed'));
        pending.set(message.index, message);
        try {
          drain();
        } catch (error) {
          stop(error as Error);
        }
      });
      worker.on('error', (error) => stop(error));
      worker.on('exit', () => {
        running -= 1;
        if (running === 0 && !failure) {
          sink.signal?.removeEventListener('abort', onAbort);
          if (next < tasks.length) reject(new Error(`scan workers stopped after ${next} of ${tasks.length} files`));
          else resolve();
        }
      });
    }
  });
}
