import { appendFileSync, mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readNewLines as referenceReadNewLines } from './__fixtures__/reference-scan/read-new-lines';
import { type FileCursor, HEAD_BYTES, TAIL_BYTES } from './file-cursor';
import { hashKey } from './hash-key';
import { readNewLines } from './read-new-lines';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'utt-read-equivalence-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

type Read = typeof readNewLines;
type Outcome = Awaited<ReturnType<typeof outcome>>;

/**
 * Ours hands on what the reference does and leaves its cursor, plus the
 * digest of the 64 bytes before the offset when the offset is past the head.
 */
function expectSameOutcome(ours: Outcome, theirs: Outcome, content: Buffer): void {
  const cursor = ours.result?.cursor;
  if (cursor) {
    const { tail, ...rest } = cursor;
    expect(tail).toBe(cursor.offset > HEAD_BYTES ? `${TAIL_BYTES}:${hashKey(content.toString('latin1', cursor.offset - TAIL_BYTES, cursor.offset))}` : undefined);
    // The reference hands back a cursor it was given as it is (with the tail ours recorded): compared without
    // (toEqual takes a property set to undefined for one that is absent).
    expect({ ...ours, result: { ...ours.result, cursor: rest } }).toEqual({ ...theirs, result: { ...theirs.result, cursor: { ...theirs.result?.cursor, tail: undefined } } });
  } else {
    expect(ours).toEqual(theirs);
  }
}

/** What a read hands on (line numbers and bytes, as hex) and the cursor it leaves, or the error it throws. */
async function outcome(read: Read, file: string, previous: FileCursor | undefined, mustContain: string | undefined) {
  const lines: Array<[number, string]> = [];
  try {
    const result = await read(file, previous, { bytes: (bytes, start, end, number) => lines.push([number, bytes.toString('hex', start, end)]) }, undefined, mustContain);
    return { lines, result };
  } catch (error) {
    return { lines, error: (error as Error).message, code: (error as { code?: string }).code };
  }
}

// Pieces that make and unmake the needle, its rarest byte's suffix alone, quotes, line ends and multibyte text.
const piece = fc.constantFrom(
  '"usage"',
  '"usage":{"input_tokens":1}',
  'usage"',
  '"usag',
  'ge"',
  'e"',
  '"usa',
  '"message"',
  'g',
  '"',
  '\\"usage\\"',
  '\n',
  '\r\n',
  '\r',
  ' ',
  'é',
  '😀',
  '{"type":"assistant"}',
  'x'.repeat(70),
);
// Near misses: runs of the needles' own bytes in any order.
const nearMiss = fc.string({ unit: fc.constantFrom('"', 'u', 's', 'a', 'g', 'e', '\\', '\n', 'é', 'z', 'q'), maxLength: 24 });
// The needle with one byte changed, dropped or doubled.
const damaged = fc
  .tuple(fc.constantFrom('"usage"', 'usage'), fc.nat(6), fc.constantFrom('', 'x', '"', 'g', 'e', 'uu'))
  .map(([text, at, by]) => text.slice(0, at % text.length) + by + text.slice((at % text.length) + 1));
// Claude Code lines and adversarial variants: "usage" as a key, in a nested
// object of the same names, inside a string (escaped quotes), as \u escapes
// (which the byte search must not see), cut short, with CRLF.
const text = fc.oneof(fc.string({ maxLength: 12 }), fc.constantFrom('say "usage"', '\\"usage\\"', 'usage', 'é😀', '"usage":{"input_tokens":1}'));
const claudeLine = fc
  .record({
    text,
    nested: fc.boolean(),
    escaped: fc.boolean(),
    cut: fc.option(fc.nat(300), { nil: undefined }),
    crlf: fc.boolean(),
    withUsage: fc.boolean(),
  })
  .map(({ text, nested, escaped, cut, crlf, withUsage }) => {
    const message: Record<string, unknown> = { id: 'msg_1', model: 'claude-sonnet-4-5', content: [{ type: 'text', text }] };
    if (nested) message.content = [{ type: 'tool_use', input: { message: { usage: { input_tokens: 9 } }, text } }];
    if (withUsage) message.usage = { input_tokens: 3, output_tokens: 5 };
    let line = JSON.stringify({ type: 'assistant', requestId: 'req_1', timestamp: '2026-03-01T10:00:00.000Z', message });
    if (escaped) line = line.replace(/"usage"/g, '"\\u0075sage"');
    if (cut !== undefined) line = line.slice(0, cut);
    return line + (crlf ? '\r\n' : '\n');
  });
const content = fc.array(fc.oneof(piece, nearMiss, damaged, claudeLine, fc.string({ maxLength: 8 })), { maxLength: 40 }).map((parts) => parts.join(''));
const needle = fc.constantFrom(undefined, '"usage"', 'ge"', 'g', '"', 'usage', 'é"', 'zq', '😀u');

describe('readNewLines against the implementation it replaced (__fixtures__/reference-scan)', () => {
  it('hands on the same lines with the same numbers and leaves the same cursor, cold and after appends, truncation and rewrites', async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(content, fc.array(fc.tuple(fc.constantFrom('append', 'truncate', 'rewrite'), content), { maxLength: 3 }), needle, async (first, changes, mustContain) => {
        const file = path.join(dir, `f${(run += 1)}.jsonl`);
        writeFileSync(file, first);
        let ours = await outcome(readNewLines, file, undefined, mustContain);
        let theirs = await outcome(referenceReadNewLines, file, undefined, mustContain);
        expectSameOutcome(ours, theirs, readFileSync(file));
        for (const [change, text] of changes) {
          const before = readFileSync(file);
          if (change === 'append') appendFileSync(file, text);
          else if (change === 'truncate') truncateSync(file, Math.floor(Buffer.byteLength(first) / 2));
          else writeFileSync(file, text);
          const previous = 'result' in ours ? ours.result?.cursor : undefined;
          ours = await outcome(readNewLines, file, previous, mustContain);
          theirs = await outcome(referenceReadNewLines, file, previous, mustContain);
          const after = readFileSync(file);
          if (previous && ours.result?.reset === true && theirs.result?.reset === false) {
            // A rewrite in place that kept the first bytes: the reference missed it (it continued mid-file);
            // ours read from the start, because the bytes before the offset changed.
            expect(after.subarray(previous.offset - TAIL_BYTES, previous.offset).equals(before.subarray(previous.offset - TAIL_BYTES, previous.offset))).toBe(false);
            theirs = await outcome(referenceReadNewLines, file, { ...previous, ino: -1 }, mustContain);
          }
          expectSameOutcome(ours, theirs, after);
        }
      }),
      { numRuns: 400 },
    );
  });

  it('fails alike for a file that is gone or not a file', async () => {
    for (const file of [path.join(dir, 'missing.jsonl'), path.join(dir, 'no-dir', 'x.jsonl'), dir]) {
      for (const previous of [undefined, { dev: 1, ino: 2, size: 3, mtimeMs: 4, offset: 3, lines: 1, head: '' }]) {
        expect(await outcome(readNewLines, file, previous, '"usage"')).toEqual(await outcome(referenceReadNewLines, file, previous, '"usage"'));
      }
    }
  });
});
