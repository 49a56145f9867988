import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
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
const FORMAT_MODULE = `export function createTestFormat() {
  return {
    accept: (file) => file.endsWith('.log'),
    layout: () => 'lines',
    workerModule: { url: import.meta.url, exportName: 'createTestFormat' },
    parseLine(line, file) {
      if (line.startsWith('!')) throw new Error('bad line');
      const [id, hour, tokens] = line.split(' ');
      file.emit({ timestampMs: Date.parse('2026-03-01T' + hour + ':00:00Z'), model: 'm', labels: { file: file.path.slice(-6) },
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
    for (let index = 0; index < 6; index += 1) {
      // e0 appears in every file with a growing count: each copy replaces the last, file 5's 15 tokens count.
      writeFileSync(path.join(dir, `f${index}.log`), `e0 10 ${10 + index}\ne${index + 1} ${10 + (index % 2)} ${index + 1}\n!bad\n`);
    }
    const scan = (parallelAboveBytes: number) =>
      scanTranscripts({ roots: [dir], format: createTestFormat(), state: createMemoryState(), namespace: 'n', parallelAboveBytes });
    const single = await scan(Number.MAX_SAFE_INTEGER);
    const parallel = await scan(0);
    const summary = (result: typeof single) => result.cells.map((cell) => [cell.bucketStart.toISOString(), cell.labels.file, cell.tokens[0], cell.tokens[6]]);
    expect(summary(parallel)).toEqual(summary(single));
    expect(summary(single)).toEqual([
      ['2026-03-01T10:00:00.000Z', 'f0.log', 1, 1],
      ['2026-03-01T10:00:00.000Z', 'f2.log', 3, 1],
      ['2026-03-01T10:00:00.000Z', 'f4.log', 5, 1],
      ['2026-03-01T10:00:00.000Z', 'f5.log', 15, 1],
      ['2026-03-01T11:00:00.000Z', 'f1.log', 2, 1],
      ['2026-03-01T11:00:00.000Z', 'f3.log', 4, 1],
      ['2026-03-01T11:00:00.000Z', 'f5.log', 6, 1],
    ]);
    expect(parallel.malformedLines).toEqual(single.malformedLines);
    // Everything but the threads and the wall times.
    expect({ ...parallel.statistics, threads: 1, timings: undefined }).toEqual({ ...single.statistics, timings: undefined });
    expect(parallel.statistics.threads).toBeGreaterThan(1);
    expect(parallel.statistics).toMatchObject({ files: 6, filesRead: 6, malformed: 6, events: 12, duplicates: 0 });
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
