import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RawImportRow } from './raw-import-row';
import { readJsonRows } from './read-json-rows';

let directory: string;
beforeAll(async () => {
  directory = await mkdtemp(join(tmpdir(), 'utt-json-rows-'));
});
afterAll(async () => {
  await rm(directory, { recursive: true, force: true });
});

async function rowsOf(content: string): Promise<RawImportRow[]> {
  const path = join(directory, `file-${Math.random().toString(36).slice(2)}.json`);
  await writeFile(path, content);
  const rows: RawImportRow[] = [];
  for await (const row of readJsonRows(path)) rows.push(row);
  return rows;
}

describe('readJsonRows', () => {
  it('yields each element with the line it starts on', async () => {
    const rows = await rowsOf('[\n  {"a": 1},\n\n  {\n    "b": [1, {"c": 2}]\n  }, {"d": 3}\n]\n');
    expect(rows).toEqual([
      { line: 2, values: { a: 1 } },
      { line: 4, values: { b: [1, { c: 2 }] } },
      { line: 6, values: { d: 3 } },
    ]);
  });

  it('is not confused by brackets, commas and escaped quotes inside strings', async () => {
    const tricky = { text: 'a ] b } c { d [ e , f "quoted" \\ g', end: '\\' };
    const rows = await rowsOf(`[${JSON.stringify(tricky)},${JSON.stringify({ next: '"]' })}]`);
    expect(rows).toEqual([
      { line: 1, values: tricky },
      { line: 1, values: { next: '"]' } },
    ]);
  });

  it('yields scalars as values, for the caller to refuse', async () => {
    expect(await rowsOf('[1, "x" ,null,true ]')).toEqual([
      { line: 1, values: 1 },
      { line: 1, values: 'x' },
      { line: 1, values: null },
      { line: 1, values: true },
    ]);
  });

  it('handles an empty array and a byte order mark', async () => {
    expect(await rowsOf('\uFEFF [ ] \n')).toEqual([]);
  });

  it('reports an element that is not JSON as a row problem and goes on', async () => {
    const rows = await rowsOf('[\n{"a": tru},\n{"b": 2}\n]');
    expect(rows[0]).toMatchObject({ line: 2, problem: expect.stringMatching(/^not valid JSON/) });
    expect(rows[1]).toEqual({ line: 3, values: { b: 2 } });
  });

  it('joins elements that span read chunks, multi-byte characters included', async () => {
    const big = 'é€😀'.repeat(40_000); // well over one 64 KiB chunk
    const rows = await rowsOf(`[{"big": "${big}"}, {"big": "${big}x"}]`);
    expect(rows).toEqual([
      { line: 1, values: { big } },
      { line: 1, values: { big: `${big}x` } },
    ]);
  });

  it('refuses a file that is not one JSON array', async () => {
    await expect(rowsOf('{"a": 1}')).rejects.toThrow(/:1: expected a JSON array of row objects/);
    await expect(rowsOf('[{"a": 1}] [')).rejects.toThrow(/unexpected content after the closing \]/);
    await expect(rowsOf('[{"a": 1},]')).rejects.toThrow(/a comma before the closing \]/);
    await expect(rowsOf('[{"a": 1} {"b": 2}]')).rejects.toThrow(/expected , or \] after an array element/);
    await expect(rowsOf('[{"a": 1},\n{"b": ')).rejects.toThrow(/:2: not valid JSON: the file ends before the array is closed/);
    await expect(rowsOf('')).rejects.toThrow(/the file is empty/);
  });
});
