import { mkdirSync, mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
// The built package: worker threads load dist/scan-worker.js, which the sources do not have.
import { createMemoryState, scanTranscripts } from '../dist/index.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'utt-parallel-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

// A format module a worker thread can import by URL: one event per line `<id> <hour> <tokens>`.
// On the main thread it takes 30 ms a file, so that the workers, once started, take some of the files.
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
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 30);
      }
      if (line.startsWith('!')) throw new Error('bad line');
      const [id, hour, tokens] = line.split(' ');
      file.emit({ timestampMs: Date.parse('2026-03-01T' + hour + ':00:00Z'), model: 'm', labels: { file: file.path.split('/').pop() },
        tokens: [Number(tokens), null, null, null, null, null, 1], key: id, rank: Number(tokens) });
    },
  };
}
`;

describe('scanTranscripts on worker threads', () => {
  it('gives the same cells, malformed lines and cursors as a scan on one thread', async () => {
    const modulePath = path.join(dir, 'format.mjs');
    writeFileSync(modulePath, FORMAT_MODULE);
    const { createTestFormat } = (await import(pathToFileURL(modulePath).href)) as { createTestFormat: () => Parameters<typeof scanTranscripts>[0]['format'] };
    for (let index = 0; index < 20; index += 1) {
      // e0 appears in every file with a growing count: each copy replaces the last, file 19's 29 tokens count.
      writeFileSync(path.join(dir, `f${index}.log`), `e0 10 ${10 + index}\ne${index + 1} ${10 + (index % 2)} ${index + 1}\n!bad\n`);
    }
    const singleState = createMemoryState();
    const parallelState = createMemoryState();
    const scan = (parallelAboveBytes: number, state: ReturnType<typeof createMemoryState>) =>
      scanTranscripts({ roots: [dir], format: createTestFormat(), state, namespace: 'n', parallelAboveBytes });
    const single = await scan(Number.MAX_SAFE_INTEGER, singleState);
    const parallel = await scan(0, parallelState);
    // The same state to the byte: cursors, hours (their counters formatted on the workers) and index; listings differ only in when they were taken.
    const stored = (state: ReturnType<typeof createMemoryState>) =>
      JSON.stringify(state.entries().filter(([key]) => !key.startsWith('n/dirs/')).sort(([a], [b]) => a.localeCompare(b)));
    expect(stored(parallelState)).toBe(stored(singleState));
    const summary = (result: typeof single) => result.cells.map((cell) => [cell.bucketStart.toISOString(), cell.labels.file, cell.tokens[0], cell.tokens[6]]);
    expect(summary(parallel)).toEqual(summary(single));
    const hour = (at: string, cells: Array<[string, number]>) => cells.map(([file, tokens]) => [`2026-03-01T${at}:00:00.000Z`, file, tokens, 1]);
    expect(summary(single).sort()).toEqual(
      [
        ...hour('10', [['f0.log', 1], ['f10.log', 11], ['f12.log', 13], ['f14.log', 15], ['f16.log', 17], ['f18.log', 19], ['f19.log', 29], ['f2.log', 3], ['f4.log', 5], ['f6.log', 7], ['f8.log', 9]]),
        ...hour('11', [['f1.log', 2], ['f11.log', 12], ['f13.log', 14], ['f15.log', 16], ['f17.log', 18], ['f19.log', 20], ['f3.log', 4], ['f5.log', 6], ['f7.log', 8], ['f9.log', 10]]),
      ].sort(),
    );
    expect(parallel.malformedLines).toEqual(single.malformedLines);
    // Everything but the threads, the stats and the wall times: a cold read shared between threads
    // needs no stat of a file in a directory without cursors (the reader takes the cursor from the open file).
    expect({ ...parallel.statistics, threads: 1, filesStatted: 20, timings: undefined }).toEqual({ ...single.statistics, timings: undefined });
    expect(parallel.statistics.threads).toBeGreaterThan(1);
    expect(single.statistics.filesStatted).toBe(20);
    expect(parallel.statistics.filesStatted).toBe(0);
    // The next cycle has cursors: every file gets its stat, and none is read again.
    const next = await scan(0, parallelState);
    expect(next.statistics).toMatchObject({ files: 20, filesStatted: 20, filesRead: 0, threads: 1 });
    // In path order f19 comes before f2: the copies of e0 in f2 … f9 are smaller, so duplicates.
    expect(parallel.statistics).toMatchObject({ files: 20, filesRead: 20, malformed: 20, events: 40, duplicates: 8 });
  });
});

describe('scanTranscripts on worker threads, cold', () => {
  it('stats files only until the read is known to be shared, and skips a file gone before its read as one gone at its stat', async () => {
    const modulePath = path.join(dir, 'format.mjs');
    writeFileSync(modulePath, FORMAT_MODULE);
    const { createTestFormat } = (await import(pathToFileURL(modulePath).href)) as { createTestFormat: () => Parameters<typeof scanTranscripts>[0]['format'] };
    // Two directories of 30 bytes a file; in the second, g3.log vanishes right after discovery lists it.
    const withVanishing = (): Parameters<typeof scanTranscripts>[0]['format'] => {
      const format = createTestFormat();
      return {
        ...format,
        accept: (file: string) => {
          if (file.endsWith('g3.log')) unlinkSync(file);
          return format.accept(file);
        },
      };
    };
    const line = (name: string, index: number) => `${name} 10 ${String(index + 1).padStart(23, '0')}\n`;
    for (const [folder, prefix] of [['a', 'f'], ['b', 'g']] as const) {
      const folderPath = path.join(dir, 'data', folder);
      mkdirSync(folderPath, { recursive: true });
      for (let index = 0; index < 6; index += 1) writeFileSync(path.join(folderPath, `${prefix}${index}.log`), line(`${prefix}${index}`, index));
    }
    const singleState = createMemoryState();
    const parallelState = createMemoryState();
    const scan = (parallelAboveBytes: number, state: ReturnType<typeof createMemoryState>) =>
      scanTranscripts({ roots: [path.join(dir, 'data')], format: withVanishing(), state, namespace: 'n', parallelAboveBytes });
    const single = await scan(Number.MAX_SAFE_INTEGER, singleState);
    writeFileSync(path.join(dir, 'data', 'b', 'g3.log'), line('g3', 3));
    // 180 bytes in the first directory: the second's files need no stat.
    const parallel = await scan(150, parallelState);
    expect(parallel.statistics.threads).toBeGreaterThan(1);
    expect(single.statistics).toMatchObject({ files: 12, filesStatted: 12, filesRead: 11, events: 11 });
    expect(parallel.statistics).toMatchObject({ files: 12, filesStatted: 6, filesRead: 11, events: 11 });
    const stored = (state: ReturnType<typeof createMemoryState>) =>
      JSON.stringify(state.entries().filter(([key]) => !key.startsWith('n/dirs/')).sort(([a], [b]) => a.localeCompare(b)));
    expect(stored(parallelState)).toBe(stored(singleState));
    expect(parallel.cells.map((cell) => [cell.labels.file, cell.tokens[0]])).toEqual(single.cells.map((cell) => [cell.labels.file, cell.tokens[0]]));
  });
});

describe('scanTranscripts when worker threads cannot load the format', () => {
  it('falls back to one thread', async () => {
    writeFileSync(path.join(dir, 'a.log'), 'x\n');
    const format = {
      accept: (file: string) => file.endsWith('.log'),
      layout: () => 'lines' as const,
      workerModule: { url: pathToFileURL(path.join(dir, 'missing.mjs')).href, exportName: 'nothing' },
      parseLine: (_line: string, file: { emit: (event: never) => void }) =>
        file.emit({ timestampMs: 0, model: 'm', labels: {}, tokens: [1, null, null, null, null, null, 1], key: 'k', rank: 1 } as never),
    };
    writeFileSync(path.join(dir, 'b.log'), 'y\n');
    const result = await scanTranscripts({ roots: [dir], format, namespace: 'n', parallelAboveBytes: 0 });
    expect(result.statistics).toMatchObject({ threads: 1, filesRead: 2, events: 2, duplicates: 1 });
  });
});
