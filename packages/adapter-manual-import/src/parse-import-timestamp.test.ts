import { describe, expect, it } from 'vitest';
import { parseImportTimestamp, parseImportTimestampMs } from './parse-import-timestamp';

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

  it('reads the common 2026-10-01T13:05:09.123Z form digit by digit exactly as the full pattern and Date do', () => {
    let seed = 7;
    const next = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed;
    };
    for (let index = 0; index < 20_000; index++) {
      const ms = Date.UTC(2000, 0, 1) + (next() % (100 * 366)) * 86_400_000 + (next() % 86_400_000);
      const iso = new Date(ms).toISOString();
      const variants = [iso, iso.replace(/\.\d+Z$/, 'Z'), iso.replace('Z', '456Z'), iso.replace('T', ' ')];
      for (const text of variants) expect(parseImportTimestampMs(text), text).toBe(Date.parse(text.replace(' ', 'T')));
    }
    for (const text of ['2026-02-29T00:00:00Z', '2026-04-31T00:00:00.000Z', '2026-10-01T24:00:00Z', '2026-10-01T12:60:00Z', '2026-1a-01T00:00:00Z', '2026-10-01T00:00:00.1xZ']) {
      expect(parseImportTimestampMs(text), text).toBeNaN();
    }
    expect(parseImportTimestampMs('2028-02-29T23:59:59.999Z')).toBe(Date.UTC(2028, 1, 29, 23, 59, 59, 999));
  });
});
