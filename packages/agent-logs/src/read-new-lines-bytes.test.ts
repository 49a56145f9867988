import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { FileCursor } from './file-cursor';
import { readNewLines } from './read-new-lines';
import { describeParseError, readTranscriptFile } from './read-transcript-file';
import type { TranscriptFormat } from './transcript-format';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'utt-line-bytes-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** The lines readNewLines hands on, as decoded strings and as byte ranges (decoded here), with their numbers. */
async function readBothWays(file: string, cursor?: FileCursor, mustContain?: string) {
  const asText: Array<[number, string]> = [];
  const asBytes: Array<[number, string]> = [];
  const text = await readNewLines(file, cursor, (line, number) => asText.push([number, line]), undefined, mustContain);
  const bytes = await readNewLines(file, cursor, { bytes: (buffer, start, end, number) => asBytes.push([number, buffer.toString('utf8', start, end)]) }, undefined, mustContain);
  expect(bytes.cursor).toEqual(text.cursor);
  return { asText, asBytes, cursor: text.cursor };
}

describe('readNewLines into a bytes sink', () => {
  it('hands on the lines a string sink gets, newline and carriage return left out, with the same numbers and cursor', async () => {
    const file = path.join(dir, 'a.jsonl');
    writeFileSync(file, 'one\r\n\né "usage" 😀\r\n\r\ntwo "usage"\nthr');
    for (const mustContain of [undefined, '"usage"']) {
      const first = await readBothWays(file, undefined, mustContain);
      expect(first.asBytes).toEqual(first.asText);
      expect(first.asBytes.length).toBe(mustContain === undefined ? 3 : 2);
    }
    const first = await readBothWays(file);
    appendFileSync(file, 'ee "usage"\nfour\n');
    const second = await readBothWays(file, first.cursor, '"usage"');
    expect(second.asBytes).toEqual([[6, 'three "usage"']]);
    expect(second.asText).toEqual(second.asBytes);
  });

  it('hands on a line longer than the read buffer whole', async () => {
    const file = path.join(dir, 'long.jsonl');
    const long = `"usage"${'x'.repeat((1 << 22) + 17)}`;
    writeFileSync(file, `${long}\nshort\n`);
    const { asBytes } = await readBothWays(file);
    expect(asBytes.map(([number, line]) => [number, line.length])).toEqual([
      [1, long.length],
      [2, 5],
    ]);
  });
});

describe('readTranscriptFile with a format that reads bytes', () => {
  it('prefers parseLineBytes, and counts a line it throws on with its number', async () => {
    const file = path.join(dir, 'b.jsonl');
    writeFileSync(file, '{"usage":1}\nplain\n{"usage":"secret-text"}\n{"usage":2}\n');
    const seen: string[] = [];
    const format: TranscriptFormat = {
      accept: () => true,
      layout: () => 'lines',
      lineMustContain: '"usage"',
      parseLine: () => {
        throw new Error('parseLine must not be called');
      },
      parseLineBytes: (bytes, start, end) => {
        const line = bytes.toString('utf8', start, end);
        seen.push(line);
        JSON.parse(line.replace('"secret-text"', 'secret-text'));
      },
    };
    const malformed: Array<[number, string]> = [];
    const read = await readTranscriptFile(file, undefined, format, { emit: () => {}, malformed: (line, error) => malformed.push([line, describeParseError(error)]) });
    expect(read.status).toBe('read');
    expect(seen).toEqual(['{"usage":1}', '{"usage":"secret-text"}', '{"usage":2}']);
    expect(malformed).toEqual([[3, 'not valid JSON']]);
  });
});

describe('readTranscriptFile with a document format', () => {
  it('reports a broken document, but not one caught empty or while it was being rewritten, which the next read takes whole', async () => {
    const file = path.join(dir, 'session.json');
    const parsed: string[] = [];
    const format: TranscriptFormat = {
      accept: () => true,
      layout: () => 'document',
      parseDocument: (text) => {
        parsed.push(text);
        // The writer finishes while the half it wrote is parsed.
        if (text === '{"messages":[') writeFileSync(file, '{"messages":[]}');
        JSON.parse(text);
      },
    };
    const malformed: number[] = [];
    const sink = { emit: () => {}, malformed: (line: number) => malformed.push(line) };
    writeFileSync(file, '');
    const empty = await readTranscriptFile(file, undefined, format, sink);
    writeFileSync(file, '{"messages":[');
    const half = await readTranscriptFile(file, empty.status === 'read' ? empty.cursor : undefined, format, sink);
    expect(half.status).toBe('read');
    const whole = await readTranscriptFile(file, half.status === 'read' ? half.cursor : undefined, format, sink);
    expect(whole.status).toBe('read');
    expect(parsed).toEqual(['{"messages":[', '{"messages":[]}']);
    expect(malformed).toEqual([]);
    writeFileSync(file, '{"messages":[}');
    await readTranscriptFile(file, whole.status === 'read' ? whole.cursor : undefined, format, sink);
    expect(malformed).toEqual([0]);
  });
});

describe('readNewLines with a needle', () => {
  it('numbers the lines between hits and finds a hit at a line end, on consecutive lines and across a read boundary', async () => {
    const file = path.join(dir, 'edges.jsonl');
    // The third line's needle straddles the first read's end (4 MiB): its line is carried into the next read.
    const filler = 'x'.repeat((1 << 22) - 23); // lines 1 and 2 take 20 bytes: the needle spans bytes 4 MiB − 3 to 4 MiB + 3
    const lines = ['a "usage"', '"usage" b', `${filler}"usage"`, '', 'plain\r', 'c "usage"\r', 'd "usage"', 'no', '"usage"'];
    writeFileSync(file, `${lines.join('\n')}\nlast`);
    const { asBytes, cursor } = await readBothWays(file, undefined, '"usage"');
    expect(asBytes.map(([number, line]) => [number, line.length > 40 ? line.length : line])).toEqual([
      [1, 'a "usage"'],
      [2, '"usage" b'],
      [3, filler.length + 7],
      [6, 'c "usage"'],
      [7, 'd "usage"'],
      [9, '"usage"'],
    ]);
    expect(cursor.lines).toBe(9);
  });
});
