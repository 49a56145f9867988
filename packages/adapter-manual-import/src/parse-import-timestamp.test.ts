import { describe, expect, it } from 'vitest';
import { parseImportTimestamp } from './parse-import-timestamp';

describe('parseImportTimestamp', () => {
  it.each([
    ['2026-10-01', '2026-10-01T00:00:00.000Z'],
    ['2026-10-01T13:05', '2026-10-01T13:05:00.000Z'],
    ['2026-10-01T13:05:09', '2026-10-01T13:05:09.000Z'],
    ['2026-10-01T13:05:09.123456Z', '2026-10-01T13:05:09.123Z'],
    ['2026-10-01 13:05:09+00', '2026-10-01T13:05:09.000Z'],
    ['2026-10-01T01:00:00+02:00', '2026-09-30T23:00:00.000Z'],
    ['2026-10-01T22:30:00-0230', '2026-10-02T01:00:00.000Z'],
    ['2028-02-29', '2028-02-29T00:00:00.000Z'],
  ])('reads %s as %s', (text, iso) => {
    expect(parseImportTimestamp(text)?.toISOString()).toBe(iso);
  });

  it.each(['', '2026-10', '2026-13-01', '2026-02-29', '2026-10-01T24:00:00Z', '2026-10-01T12:60', '1727740800', 'yesterday', '2026-10-01T12:00:00+25:00', '2026-10-01Z'])(
    'refuses %j',
    (text) => {
      expect(parseImportTimestamp(text)).toBeUndefined();
    },
  );
});
