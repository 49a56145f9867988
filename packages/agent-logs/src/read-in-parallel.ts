import type { Worker } from 'node:worker_threads';
import { createEventEncoder, createLabelTable, type EncodedEvents } from './encoded-events';
import type { FileCursor } from './file-cursor';
import { describeParseError, readTranscriptFile, type TranscriptFileRead } from './read-transcript-file';
import type { ScanWorkerInput } from './scan-worker';
import type { TranscriptFormat } from './transcript-format';

/** One file's result, from a worker thread or from this one. */
export type FileMessage = {
  index: number;
  read?: TranscriptFileRead;
  events?: EncodedEvents;
  malformed: Array<[number, string]>;
  error?: string;
  code?: string;
};

export type ReadTask = { readonly index: number; readonly path: string; readonly previous?: FileCursor };

/**
 * Reads and parses `tasks` on this thread and `workers` worker threads at
 * once: every thread takes the next file from a shared counter as it finishes
 * one (files differ in size), and the results reach the sink on this thread
 * in path order, so the outcome is the same as a one-thread scan's. This
 * thread reads too, between handing results on: it would otherwise wait
 * while the workers start, and parsing here keeps this thread's parser warm
 * for the small cycles that follow. A worker that cannot start (the format's
 * module cannot be imported on a thread) leaves its share to the others.
 *
 * @returns how many threads read at least one file.
 */
export async function readInParallel(
  script: URL,
  format: TranscriptFormat,
  /** Where a worker builds the same format (the format's workerModule). */
  formatModule: { readonly url: string; readonly exportName: string },
  tasks: readonly ReadTask[],
  workers: number,
  sink: {
    /** A file's events, in path order. */
    events: (encoded: EncodedEvents) => void;
    malformed: (file: string, line: number, reason: string) => void;
    handle: (index: number, read: TranscriptFileRead) => void;
    signal?: AbortSignal;
  },
): Promise<number> {
  // Loaded here: Node's worker modules cost every start of a process that only ever scans on one thread.
  const workerThreads = await import('node:worker_threads');
  const nextTask = new Int32Array(new SharedArrayBuffer(4));
  const pending = new Map<number, FileMessage>();
  const readers = new Set<string>();
  let delivered = 0;
  let failure: Error | undefined;
  let workerError: string | undefined;
  let running = 0;
  let wake: (() => void) | undefined;

  const drain = () => {
    for (let message = pending.get(delivered); message !== undefined; message = pending.get(delivered)) {
      pending.delete(delivered);
      const task = tasks[delivered] as ReadTask;
      delivered += 1;
      for (const [line, reason] of message.malformed) sink.malformed(task.path, line, reason);
      if (message.error !== undefined) {
        // A file deleted between discovery and reading is gone, not broken.
        if (message.code === 'ENOENT' || message.code === 'ENOTDIR') continue;
        throw new Error(`${task.path}: ${message.error}`);
      }
      if (message.events) sink.events(message.events);
      if (message.read) sink.handle(task.index, message.read);
    }
  };
  const threads: Worker[] = [];
  const fail = (error: Error) => {
    failure ??= error;
    for (const thread of threads) void thread.terminate();
    wake?.();
  };
  // Each thread's labels, by the numbers its encoder gave them: taken as its files arrive (in the order it read them).
  const labelTables = new Map<string, ReturnType<typeof createLabelTable>>();
  const deliver = (message: FileMessage, reader: string) => {
    if (failure) return;
    if (message.events) {
      let table = labelTables.get(reader);
      if (table === undefined) {
        table = createLabelTable();
        labelTables.set(reader, table);
      }
      try {
        table.take(message.events);
      } catch (error) {
        fail(error as Error);
        return;
      }
    }
    readers.add(reader);
    pending.set(message.index, message);
    try {
      drain();
    } catch (error) {
      fail(error as Error);
    }
  };
  const onAbort = () => fail(new Error('scan aborted'));
  sink.signal?.addEventListener('abort', onAbort, { once: true });

  for (let number = 0; number < workers; number += 1) {
    const input: ScanWorkerInput = { formatModule: formatModule.url, formatExport: formatModule.exportName, tasks, next: nextTask };
    const thread = new workerThreads.Worker(script, { workerData: { uttAgentLogsScan: input } });
    threads.push(thread);
    running += 1;
    thread.on('message', (message: FileMessage) => {
      // A worker that could not start has taken no file: the others read its share.
      if (message.index < 0) workerError ??= message.error;
      else deliver(message, `worker ${number}`);
      wake?.();
    });
    thread.on('error', (error) => {
      workerError ??= error.message;
    });
    thread.on('exit', () => {
      running -= 1;
      wake?.();
    });
  }

  try {
    const encoder = createEventEncoder();
    while (failure === undefined) {
      const taken = Atomics.add(nextTask, 0, 1);
      if (taken >= tasks.length) break;
      const task = tasks[taken] as ReadTask;
      const malformed: Array<[number, string]> = [];
      try {
        const read = await readTranscriptFile(task.path, task.previous, format, {
          emit: (event) => encoder.encode(event),
          malformed: (line, error) => malformed.push([line, describeParseError(error)]),
        });
        deliver({ index: taken, read, events: encoder.take(), malformed }, 'main');
      } catch (error) {
        // The file's events are dropped, but not the labels numbered while reading it.
        const events = { ...encoder.take(), numbers: new Float64Array(0) };
        deliver({ index: taken, events, error: error instanceof Error ? error.message : String(error), code: (error as { code?: string }).code, malformed }, 'main');
      }
      // Let the workers' results (and an abort) in between files.
      await new Promise((resolve) => setImmediate(resolve));
    }
    while (failure === undefined && delivered < tasks.length && running > 0) {
      await new Promise<void>((resolve) => {
        wake = resolve;
      });
    }
  } finally {
    wake = undefined;
    sink.signal?.removeEventListener('abort', onAbort);
    for (const thread of threads) void thread.terminate();
  }
  if (failure) throw failure;
  if (delivered < tasks.length) throw new Error(`scan workers stopped after ${delivered} of ${tasks.length} files${workerError ? `: ${workerError}` : ''}`);
  return readers.size;
}
