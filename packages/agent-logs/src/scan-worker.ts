import { parentPort, workerData } from 'node:worker_threads';
import { createEventEncoder } from './encoded-events';
import type { FileCursor } from './file-cursor';
import { describeParseError, readTranscriptFile } from './read-transcript-file';
import type { TranscriptFormat } from './transcript-format';

/** What the scan sends a worker thread: the format's module and the files to read. */
export type ScanWorkerInput = {
  readonly formatModule: string;
  readonly formatExport: string;
  readonly tasks: ReadonlyArray<{ readonly index: number; readonly path: string; readonly previous?: FileCursor }>;
  /** Shared by all the scan's workers: the index of the next task to take (Atomics.add), so no thread idles while another has a queue. */
  readonly next: Int32Array;
};

// The worker thread of a parallel scan: takes the next file from the shared
// counter, reads and parses it, and posts its events back in compact form;
// the ledger stays on the main thread, which takes the files in path order.
async function run(input: ScanWorkerInput): Promise<void> {
  const module = (await import(input.formatModule)) as Record<string, () => TranscriptFormat>;
  const factory = module[input.formatExport];
  if (typeof factory !== 'function') throw new Error(`${input.formatModule} exports no ${input.formatExport}()`);
  const format = factory();
  const encoder = createEventEncoder();
  for (let taken = Atomics.add(input.next, 0, 1); taken < input.tasks.length; taken = Atomics.add(input.next, 0, 1)) {
    const task = input.tasks[taken] as ScanWorkerInput['tasks'][number];
    const malformed: Array<[number, string]> = [];
    try {
      const read = await readTranscriptFile(task.path, task.previous, format, {
        emit: (event) => encoder.encode(event),
        malformed: (line, error) => malformed.push([line, describeParseError(error)]),
      });
      const events = encoder.take();
      parentPort?.postMessage({ index: task.index, read, events, malformed }, [events.numbers.buffer as ArrayBuffer]);
    } catch (error) {
      // The file's events are dropped, but not the labels numbered while reading it (a later file may use them).
      const events = { ...encoder.take(), numbers: new Float64Array(0) };
      const code = (error as { code?: string } | null)?.code;
      parentPort?.postMessage({ index: task.index, events, error: error instanceof Error ? error.message : String(error), code, malformed: [] });
    }
  }
}

if (parentPort && (workerData as { uttAgentLogsScan?: ScanWorkerInput } | undefined)?.uttAgentLogsScan) {
  run((workerData as { uttAgentLogsScan: ScanWorkerInput }).uttAgentLogsScan).catch((error: unknown) => {
    parentPort?.postMessage({ index: -1, error: error instanceof Error ? error.message : String(error), malformed: [] });
  });
}
