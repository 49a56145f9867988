import { describe, expect, it } from 'vitest';
import { parseNamedQueries, requireQuery } from './named-queries';

describe('parseNamedQueries', () => {
  it('splits a file on -- name: lines and drops the trailing semicolon', () => {
    const queries = parseNamedQueries('-- header\n-- name: first\n-- what it does\nSELECT 1;\n\n-- name: second\nSELECT\n  2;\n');
    expect([...queries]).toEqual([
      ['first', '-- what it does\nSELECT 1'],
      ['second', 'SELECT\n  2'],
    ]);
    expect(requireQuery(queries, 'second')).toBe('SELECT\n  2');
    expect(() => requireQuery(queries, 'third')).toThrow(/no query named "third"/);
  });

  it('refuses a name used twice', () => {
    expect(() => parseNamedQueries('-- name: a\nSELECT 1;\n-- name: a\nSELECT 2;')).toThrow(/"a" is defined twice/);
  });
});
