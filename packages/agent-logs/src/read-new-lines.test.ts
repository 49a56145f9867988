import { appendFileSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { FileCursor } from './file-cursor';
import { readNewLines } from './read-new-lines';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'utt-lines-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

async function read(file: string, cursor?: FileCursor) {
  const lines: Array<[number, string]> = [];
  const result = await readNewLines(file, cursor, (line, number) => lines.push([number, line]));
  return { lines, ...result };
}

describe('readNewLines', () => {
  it('reads complete lines, leaves a half-written last line, then continues from the byte after the last newline', async () => {
    const file = path.join(dir, 'a.jsonl');
    writeFileSync(file, 'one\r\n\ntwo\nthr');
    const first = await read(file);
    expect(first.lines).toEqual([[1, 'one'], [3, 'two']]);
    expect(first.cursor.offset).toBe(10);
    appendFileSync(file, 'ee\nfour\n');
    const second = await read(file, first.cursor);
    expect(second.lines).toEqual([[4, 'three'], [5, 'four']]);
    expect(second.reset).toBe(false);
    const third = await read(file, second.cursor);
    expect(third.unchanged).toBe(true);
    expect(third.lines).toEqual([]);
  });

  it('reads a truncated file, a replaced file and a file rewritten in place from the start', async () => {
    const file = path.join(dir, 'a.jsonl');
    writeFileSync(file, 'alpha\nbeta\n');
    const first = await read(file);
    writeFileSync(file, 'gamma\n');
    const truncated = await read(file, first.cursor);
    expect(truncated).toMatchObject({ reset: true, lines: [[1, 'gamma']] });

    writeFileSync(path.join(dir, 'b.jsonl'), 'delta\nepsilon\nzeta\n');
    renameSync(path.join(dir, 'b.jsonl'), file);
    const replaced = await read(file, truncated.cursor);
    expect(replaced.reset).toBe(true);
    expect(replaced.lines.map(([, line]) => line)).toEqual(['delta', 'epsilon', 'zeta']);

    writeFileSync(file, 'DELTA\nepsilon\nzeta\neta\n');
    const rewritten = await read(file, replaced.cursor);
    expect(rewritten.reset).toBe(true);
    expect(rewritten.lines).toHaveLength(4);
  });

  it('reads from the start a file overwritten in place whose first bytes are the same, and continues from a cursor of an earlier version', async () => {
    const file = path.join(dir, 'a.jsonl');
    const prefix = `{"parentUuid":null,"isSidechain":false,"userType":"external","cwd":"/src/app"`;
    writeFileSync(file, `${prefix},"n":1}\n${prefix},"n":2}\n`);
    const first = await read(file);
    expect(first.cursor.tail).toMatch(/^64:[\w-]{11}$/);
    // Overwritten with a file of the same first bytes, as long up to the old offset and longer.
    writeFileSync(file, `${prefix},"n":3}\n${prefix},"n":4}\n${prefix},"n":5}\n`);
    const overwritten = await read(file, first.cursor);
    expect(overwritten.reset).toBe(true);
    expect(overwritten.lines.map(([number]) => number)).toEqual([1, 2, 3]);
    // Appended to: the bytes before the offset are as recorded.
    appendFileSync(file, `${prefix},"n":6}\n`);
    const appended = await read(file, overwritten.cursor);
    expect(appended).toMatchObject({ reset: false, lines: [[4, `${prefix},"n":6}`]] });
    // A cursor kept by an earlier version has no tail: continued from its offset as before, and given one.
    const { tail: _tail, ...earlier } = appended.cursor;
    appendFileSync(file, `${prefix},"n":7}\n`);
    const continued = await read(file, earlier);
    expect(continued).toMatchObject({ reset: false, lines: [[5, `${prefix},"n":7}`]] });
    expect(continued.cursor.tail).toMatch(/^64:[\w-]{11}$/);
  });

  it('handles a line longer than its read buffer', async () => {
    const file = path.join(dir, 'long.jsonl');
    const long = 'x'.repeat((1 << 22) + 17);
    writeFileSync(file, `${long}\nshort\n`);
    const result = await read(file);
    expect(result.lines.map(([number, line]) => [number, line.length])).toEqual([[1, long.length], [2, 5]]);
  });
});

describe('readNewLines with mustContain', () => {
  it('passes on only the matching lines, with their true line numbers, across reads', async () => {
    const file = path.join(dir, 'm.jsonl');
    writeFileSync(file, 'a usage 1\r\nplain\n\nusage two\nplain\nusa');
    const first: Array<[number, string]> = [];
    const result = await readNewLines(file, undefined, (line, number) => first.push([number, line]), undefined, 'usage');
    expect(first).toEqual([[1, 'a usage 1'], [4, 'usage two']]);
    expect(result.cursor.lines).toBe(5);
    appendFileSync(file, 'ge three\nplain\n');
    const second: Array<[number, string]> = [];
    await readNewLines(file, result.cursor, (line, number) => second.push([number, line]), undefined, 'usage');
    expect(second).toEqual([[6, 'usage three']]);
  });
});
