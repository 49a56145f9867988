import { describe, expect, it } from 'vitest';
import { ParameterPieces } from './bind-large-parameters';
import { textArrayParameter } from './text-array-parameter';

/** Texts laid out in one block as AsciiWriter.takeBytes lays them out: each after its length, one after another; views of them. */
function framedBlock(texts: readonly string[], gapAfter = -1): Uint8Array[] {
  const block = Buffer.allocUnsafeSlow(texts.reduce((sum, text) => sum + 4 + text.length + 3, 0));
  let at = 0;
  return texts.map((text, index) => {
    block.writeUInt32BE(text.length, at);
    block.write(text, at + 4, 'latin1');
    const view = block.subarray(at + 4, at + 4 + text.length);
    at += 4 + text.length + (index === gapAfter ? 3 : 0);
    return view;
  });
}

/** The parameter's bytes, joined. */
function bytesOf(parameter: Buffer | ParameterPieces | string[]): Buffer {
  if (parameter instanceof ParameterPieces) return parameter.toPostgres();
  expect(Buffer.isBuffer(parameter)).toBe(true);
  return parameter as Buffer;
}

/** PostgreSQL's binary text[] of `texts`, built the plain way: each element encoded on its own. */
function expectedArray(texts: ReadonlyArray<string | Uint8Array>): Buffer {
  const header = Buffer.alloc(20);
  header.writeInt32BE(1, 0);
  header.writeInt32BE(0, 4);
  header.writeUInt32BE(25, 8);
  header.writeInt32BE(texts.length, 12);
  header.writeInt32BE(1, 16);
  const parts: Buffer[] = [header];
  for (const text of texts) {
    const bytes = typeof text === 'string' ? Buffer.from(text, 'utf8') : Buffer.from(text);
    const length = Buffer.alloc(4);
    length.writeInt32BE(bytes.length, 0);
    parts.push(length, bytes);
  }
  return Buffer.concat(parts);
}

describe('textArrayParameter', () => {
  it('gives a server the binary text[] of strings and bytes, ASCII or not', () => {
    const cases: Array<ReadonlyArray<string | Uint8Array>> = [
      [],
      [''],
      ['a', '', 'bc'],
      ['claude-code/bench/hour/497448', Buffer.from('{"c":[],"e":""}'), new TextEncoder().encode('[1,2]'), '{"at":3}'],
      // Non-ASCII last, where the room left is the least: two characters that
      // take as many bytes as characters a longer string would have.
      ['ascii', 'é€'],
      ['é€', 'ascii'],
      ['naïve', '日本語', '🙂 emoji', 'x'],
      // A lone surrogate is written as U+FFFD (three bytes), as Buffer.from writes it.
      ['\ud800', 'after'],
      [Buffer.from('bytes first'), 'ü'],
      ['x'.repeat(70_000), 'ü'.repeat(30_000), Buffer.alloc(100_000, 0x41)],
    ];
    for (const texts of cases) {
      expect(bytesOf(textArrayParameter('postgres', texts)).equals(expectedArray(texts))).toBe(true);
    }
  });

  it('sends runs of texts already framed in memory from there, and copies the rest around them', () => {
    const hours = framedBlock(['{"c":[],"e":"a"}', 'h'.repeat(40_000), 'i'.repeat(30_000), '{}']);
    const shards = framedBlock(['s'.repeat(50_000), 't'.repeat(20_000)]);
    const texts = ['cursor é', ...hours, 'between', ...shards, Buffer.from('not framed')];
    const parameter = textArrayParameter('postgres', texts);
    expect(parameter).toBeInstanceOf(ParameterPieces);
    expect(bytesOf(parameter).equals(expectedArray(texts))).toBe(true);
    // The runs are views of the blocks, not copies.
    const pieces = (parameter as ParameterPieces).pieces;
    expect(pieces.filter((piece) => piece.buffer === hours[0]?.buffer)).toHaveLength(1);
    expect(pieces.filter((piece) => piece.buffer === shards[0]?.buffer)).toHaveLength(1);
    // A run may open the array: the header comes first all the same.
    expect(bytesOf(textArrayParameter('postgres', hours)).equals(expectedArray(hours))).toBe(true);
  });

  it('copies framed texts that do not follow one another, are in other memory, or make short runs', () => {
    const gap = framedBlock(['a'.repeat(40_000), 'b'.repeat(40_000)], 0);
    const short = framedBlock(['c'.repeat(1000), 'd'.repeat(1000)]);
    // Two texts in different memory, the second at the offset where it would follow the first.
    const other = framedBlock(['e'.repeat(40_000)]);
    const elsewhere = Buffer.alloc(4 + 40_000 + 4 + 40_000);
    elsewhere.writeUInt32BE(40_000, 4 + 40_000);
    const another = elsewhere.subarray(4 + 40_000 + 4).fill(0x66);
    for (const texts of [gap, short, [...other, another], [...gap, ...short]]) {
      const parameter = textArrayParameter('postgres', texts);
      expect(Buffer.isBuffer(parameter)).toBe(true);
      expect(bytesOf(parameter).equals(expectedArray(texts))).toBe(true);
    }
    // Bytes before a text that happen to hold its length are bytes the array needs: sent from there too.
    const lookalike = Buffer.alloc(4 + 70_000, 0x41);
    lookalike.writeUInt32BE(70_000, 0);
    const texts = [lookalike.subarray(4)];
    expect(bytesOf(textArrayParameter('postgres', texts)).equals(expectedArray(texts))).toBe(true);
  });

  it('gives PGlite the texts as strings', () => {
    expect(textArrayParameter('pglite', ['a', Buffer.from('é'), '€'])).toEqual(['a', 'é', '€']);
  });
});
