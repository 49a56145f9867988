import { describe, expect, it } from 'vitest';
import { textArrayParameter } from './text-array-parameter';

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
      const parameter = textArrayParameter('postgres', texts);
      expect(Buffer.isBuffer(parameter)).toBe(true);
      expect((parameter as Buffer).equals(expectedArray(texts))).toBe(true);
    }
  });

  it('gives PGlite the texts as strings', () => {
    expect(textArrayParameter('pglite', ['a', Buffer.from('é'), '€'])).toEqual(['a', 'é', '€']);
  });
});
