import { ResponseShapeError, z } from '@utt/core';
import { describe, expect, it } from 'vitest';
import { parseNdjson } from './parse-ndjson';

const schema = z.object({ day: z.string(), n: z.number().int() });

describe('parseNdjson', () => {
  it('parses one value per line, skipping blank lines and CRLF endings', () => {
    expect(parseNdjson('{"day":"a","n":1}\r\n\n  \n{"day":"b","n":2,"extra":true}\n', schema, 'file')).toEqual([
      { day: 'a', n: 1 },
      { day: 'b', n: 2 },
    ]);
    expect(parseNdjson('', schema, 'file')).toEqual([]);
  });

  it('fails a line that is not JSON with its 1-based number', () => {
    const error = (() => {
      try {
        parseNdjson('{"day":"a","n":1}\n\n{"day":', schema, 'report file 1');
      } catch (caught) {
        return caught;
      }
    })();
    expect(ResponseShapeError.isInstance(error)).toBe(true);
    expect((error as Error).message).toBe('unexpected response from report file 1: line 3: not valid JSON');
  });

  it('fails a line of the wrong shape naming the line and the field', () => {
    expect(() => parseNdjson('{"day":"a","n":1}\n{"day":"b","n":"2"}', schema, 'f')).toThrow('unexpected response from f: line 2: n: Invalid input: expected number, received string');
  });
});
