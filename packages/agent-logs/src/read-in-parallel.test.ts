import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { EncodedEvents } from './encoded-events';
import { readInParallel, startScanWorkers } from './read-in-parallel';
import type { TranscriptFormat } from './transcript-format';

// Worker threads run the built worker script (the sources have none): built from these sources by the package's build.
const SCRIPT = new URL('../dist/scan-worker.js', import.meta.url);

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'utt-read-in-parallel-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

// One event per line `<id> <tokens>`; on the main thread the first line of a file waits 100 ms, so the workers take some files.
const FORMAT_MODULE = `import { isMainThread } from 'node:worker_threads';
export function createTestFormat() {
  const started = new Set();
  return {
    accept: (file) => file.endsWith('.log'),
    layout: () => 'lines',
    workerModule: { url: import.meta.url, exportName: 'createTestFormat' },
    parseLine(line, file) {
      if (isMainThread && !started.has(file.path)) {
        started.add(file.path);
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 100);
      }
      const [id, tokens] = line.split(' ');
      file.emit({ timestampMs: Date.parse('2026-03-01T10:00:00Z'), model: 'm', labels: { file: file.path.split('/').pop() },
        tokens: [Number(tokens), null, null, null, null, null, 1], key: id, rank: Number(tokens) });
    },
  };
}
`;

async function setUp(files: number): Promise<{ format: TranscriptFormat; module: { url: string; exportName: string }; tasks: Array<{ index: number; path: string }> }> {
  const modulePath = path.join(dir, 'format.mjs');
  writeFileSync(modulePath, FORMAT_MODULE);
  const { createTestFormat } = (await import(pathToFileURL(modulePath).href)) as { createTestFormat: () => TranscriptFormat };
  const tasks = Array.from({ length: files }, (_, index) => {
    const file = path.join(dir, `f${String(index).padStart(2, '0')}.log`);
    writeFileSync(file, `e${index} ${index + 1}\n`);
    return { index, path: file };
  });
  const format = createTestFormat();
  return { format, module: format.workerModule as { url: string; exportName: string }, tasks };
}

async function read(format: TranscriptFormat, module: { url: string; exportName: string }, tasks: Array<{ index: number; path: string }>, workers: Parameters<typeof readInParallel>[4]) {
  const events: number[] = [];
  const handled: Array<[number, number]> = [];
  const threads = await readInParallel(SCRIPT, format, module, tasks, workers, {
    events: (encoded: EncodedEvents) => {
      // Each event's first token count (slot 3 of its 16 numbers).
      for (let at = 0; at < encoded.numbers.length; at += 16) events.push(encoded.numbers[at + 3] as number);
    },
    malformed: () => undefined,
    handle: (index, fileRead) => handled.push([index, fileRead.status === 'read' ? fileRead.bytesRead : -1]),
  });
  return { threads, events, handled };
}

describe('readInParallel with workers started before the files are known', () => {
  it('reads as with workers started with the files: every file once, delivered in order', async () => {
    const { format, module, tasks } = await setUp(12);
    const withFiles = await read(format, module, tasks, 1);
    const started = startScanWorkers(SCRIPT, module, 1);
    // The files come later than the worker (running by then, however loaded the machine): it waits for them.
    await new Promise((resolve) => started[0]?.thread.once('online', resolve));
    await new Promise((resolve) => setTimeout(resolve, 50));
    const early = await read(format, module, tasks, started);
    expect(early.events).toEqual(withFiles.events);
    expect(early.events).toEqual(Array.from({ length: 12 }, (_, index) => index + 1));
    expect(early.handled).toEqual(withFiles.handled);
    expect(early.threads).toBe(2);
    await started[0]?.thread.terminate();
  });

  it('leaves the share of a worker that could not load the format to this thread, its failure reported before the read listened', async () => {
    const { format, module, tasks } = await setUp(4);
    const started = startScanWorkers(SCRIPT, { url: pathToFileURL(path.join(dir, 'missing.mjs')).href, exportName: 'nothing' }, 1);
    await new Promise((resolve) => setTimeout(resolve, 100));
    const result = await read(format, module, tasks, started);
    expect(result.threads).toBe(1);
    expect(result.events).toEqual([1, 2, 3, 4]);
  });

  it('keeps a worker waiting for its files until it is stopped', async () => {
    const { module } = await setUp(1);
    const [worker] = startScanWorkers(SCRIPT, module, 1);
    let exited = false;
    worker?.thread.once('exit', () => {
      exited = true;
    });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(exited).toBe(false);
    await worker?.thread.terminate();
    expect(exited).toBe(true);
  });
});
