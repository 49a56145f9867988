import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { addBuckets, bucketStartsBetween, ceilToBucket, floorToBucket, isAlignedToBucket } from './bucket';
import { GRANULARITIES, type Granularity, isGranularity } from './granularity';

const at = (iso: string) => new Date(iso);
const iso = (date: Date) => date.toISOString();

describe('floorToBucket', () => {
  it('floors to the UTC hour', () => {
    expect(iso(floorToBucket(at('2025-03-14T15:59:59.999Z'), 'hour'))).toBe('2025-03-14T15:00:00.000Z');
    expect(iso(floorToBucket(at('2025-03-14T15:00:00.000Z'), 'hour'))).toBe('2025-03-14T15:00:00.000Z');
  });

  it('floors to the UTC day, whatever the offset the instant was written with', () => {
    expect(iso(floorToBucket(at('2025-03-14T23:59:59.999Z'), 'day'))).toBe('2025-03-14T00:00:00.000Z');
    // 01:30 in +02:00 is 23:30 the day before in UTC.
    expect(iso(floorToBucket(at('2025-03-15T01:30:00+02:00'), 'day'))).toBe('2025-03-14T00:00:00.000Z');
  });

  it('floors to the first of the UTC month, month ends and leap days included', () => {
    expect(iso(floorToBucket(at('2025-01-31T23:59:59.999Z'), 'month'))).toBe('2025-01-01T00:00:00.000Z');
    expect(iso(floorToBucket(at('2024-02-29T12:00:00Z'), 'month'))).toBe('2024-02-01T00:00:00.000Z');
    expect(iso(floorToBucket(at('2024-12-31T23:59:59.999Z'), 'month'))).toBe('2024-12-01T00:00:00.000Z');
    expect(iso(floorToBucket(at('2025-01-01T00:00:00Z'), 'month'))).toBe('2025-01-01T00:00:00.000Z');
  });

  it('handles instants before 1970', () => {
    expect(iso(floorToBucket(at('1969-12-31T23:30:00Z'), 'hour'))).toBe('1969-12-31T23:00:00.000Z');
    expect(iso(floorToBucket(at('1969-12-31T23:30:00Z'), 'day'))).toBe('1969-12-31T00:00:00.000Z');
    expect(iso(floorToBucket(at('1969-12-31T23:30:00Z'), 'month'))).toBe('1969-12-01T00:00:00.000Z');
  });
});

describe('ceilToBucket', () => {
  it('keeps a boundary and moves anything else to the next boundary', () => {
    expect(iso(ceilToBucket(at('2025-03-14T15:00:00Z'), 'hour'))).toBe('2025-03-14T15:00:00.000Z');
    expect(iso(ceilToBucket(at('2025-03-14T15:00:00.001Z'), 'hour'))).toBe('2025-03-14T16:00:00.000Z');
    expect(iso(ceilToBucket(at('2025-03-14T23:00:00Z'), 'day'))).toBe('2025-03-15T00:00:00.000Z');
    expect(iso(ceilToBucket(at('2024-12-31T23:59:59Z'), 'day'))).toBe('2025-01-01T00:00:00.000Z');
  });

  it('moves month instants to the first of the next month across year ends', () => {
    expect(iso(ceilToBucket(at('2024-02-29T00:00:00Z'), 'month'))).toBe('2024-03-01T00:00:00.000Z');
    expect(iso(ceilToBucket(at('2024-12-15T00:00:00Z'), 'month'))).toBe('2025-01-01T00:00:00.000Z');
    expect(iso(ceilToBucket(at('2025-02-01T00:00:00Z'), 'month'))).toBe('2025-02-01T00:00:00.000Z');
  });
});

describe('isAlignedToBucket', () => {
  it.each<[string, Granularity, boolean]>([
    ['2025-03-14T15:00:00Z', 'hour', true],
    ['2025-03-14T15:00:00.001Z', 'hour', false],
    ['2025-03-14T15:30:00Z', 'hour', false],
    ['2025-03-14T00:00:00Z', 'day', true],
    ['2025-03-14T01:00:00Z', 'day', false],
    ['2025-03-01T00:00:00Z', 'month', true],
    ['2025-03-02T00:00:00Z', 'month', false],
    ['2025-03-01T01:00:00Z', 'month', false],
    ['2024-02-29T00:00:00Z', 'month', false],
  ])('%s is aligned to %s: %s', (instant, granularity, aligned) => {
    expect(isAlignedToBucket(at(instant), granularity)).toBe(aligned);
  });
});

describe('addBuckets', () => {
  it('adds hours and days across a year end', () => {
    expect(iso(addBuckets(at('2024-12-31T23:00:00Z'), 'hour', 1))).toBe('2025-01-01T00:00:00.000Z');
    expect(iso(addBuckets(at('2025-01-01T00:00:00Z'), 'hour', -1))).toBe('2024-12-31T23:00:00.000Z');
    expect(iso(addBuckets(at('2024-12-31T00:00:00Z'), 'day', 1))).toBe('2025-01-01T00:00:00.000Z');
    expect(iso(addBuckets(at('2024-02-28T00:00:00Z'), 'day', 1))).toBe('2024-02-29T00:00:00.000Z');
    expect(iso(addBuckets(at('2025-02-28T00:00:00Z'), 'day', 1))).toBe('2025-03-01T00:00:00.000Z');
  });

  it('adds calendar months, not fixed widths, across year ends in both directions', () => {
    expect(iso(addBuckets(at('2025-01-01T00:00:00Z'), 'month', 1))).toBe('2025-02-01T00:00:00.000Z');
    expect(iso(addBuckets(at('2024-02-01T00:00:00Z'), 'month', 1))).toBe('2024-03-01T00:00:00.000Z');
    expect(iso(addBuckets(at('2024-12-01T00:00:00Z'), 'month', 1))).toBe('2025-01-01T00:00:00.000Z');
    expect(iso(addBuckets(at('2025-01-01T00:00:00Z'), 'month', -1))).toBe('2024-12-01T00:00:00.000Z');
    expect(iso(addBuckets(at('2024-11-01T00:00:00Z'), 'month', 14))).toBe('2026-01-01T00:00:00.000Z');
    expect(iso(addBuckets(at('2024-03-01T00:00:00Z'), 'month', 0))).toBe('2024-03-01T00:00:00.000Z');
  });
});

describe('bucketStartsBetween', () => {
  it('lists the hour starts of a half-open range', () => {
    const starts = bucketStartsBetween(at('2024-12-31T22:00:00Z'), at('2025-01-01T02:00:00Z'), 'hour').map(iso);
    expect(starts).toEqual([
      '2024-12-31T22:00:00.000Z',
      '2024-12-31T23:00:00.000Z',
      '2025-01-01T00:00:00.000Z',
      '2025-01-01T01:00:00.000Z',
    ]);
  });

  it('lists the days of February in a leap year', () => {
    const starts = bucketStartsBetween(at('2024-02-01T00:00:00Z'), at('2024-03-01T00:00:00Z'), 'day');
    expect(starts).toHaveLength(29);
    expect(iso(starts.at(-1) as Date)).toBe('2024-02-29T00:00:00.000Z');
    expect(bucketStartsBetween(at('2025-02-01T00:00:00Z'), at('2025-03-01T00:00:00Z'), 'day')).toHaveLength(28);
  });

  it('lists months across a year end', () => {
    const starts = bucketStartsBetween(at('2024-11-01T00:00:00Z'), at('2025-03-01T00:00:00Z'), 'month').map(iso);
    expect(starts).toEqual([
      '2024-11-01T00:00:00.000Z',
      '2024-12-01T00:00:00.000Z',
      '2025-01-01T00:00:00.000Z',
      '2025-02-01T00:00:00.000Z',
    ]);
  });

  it('skips a bucket that starts before an unaligned start, and is empty for an empty range', () => {
    expect(bucketStartsBetween(at('2025-01-01T00:30:00Z'), at('2025-01-01T03:00:00Z'), 'hour').map(iso)).toEqual([
      '2025-01-01T01:00:00.000Z',
      '2025-01-01T02:00:00.000Z',
    ]);
    expect(bucketStartsBetween(at('2025-01-01T00:00:00Z'), at('2025-01-01T00:00:00Z'), 'hour')).toEqual([]);
    expect(bucketStartsBetween(at('2025-01-02T00:00:00Z'), at('2025-01-01T00:00:00Z'), 'day')).toEqual([]);
  });
});

describe('isGranularity', () => {
  it('accepts the three granularities only', () => {
    for (const granularity of GRANULARITIES) expect(isGranularity(granularity)).toBe(true);
    expect(isGranularity('week')).toBe(false);
    expect(isGranularity('HOUR')).toBe(false);
    expect(isGranularity(undefined)).toBe(false);
  });
});

describe('bucket properties', () => {
  // 1900..2200, millisecond precision.
  const instant = fc.date({ min: new Date('1900-01-01T00:00:00Z'), max: new Date('2200-01-01T00:00:00Z'), noInvalidDate: true });
  const granularity = fc.constantFrom<Granularity>(...GRANULARITIES);
  const runs = { numRuns: 300 };

  it('floor is idempotent and aligned', () => {
    fc.assert(
      fc.property(instant, granularity, (t, g) => {
        const floor = floorToBucket(t, g);
        expect(floorToBucket(floor, g).getTime()).toBe(floor.getTime());
        expect(isAlignedToBucket(floor, g)).toBe(true);
      }),
      runs,
    );
  });

  it('floor <= t < floor + 1 bucket, and ceil is the smallest boundary at or after t', () => {
    fc.assert(
      fc.property(instant, granularity, (t, g) => {
        const floor = floorToBucket(t, g);
        const next = addBuckets(floor, g, 1);
        expect(floor.getTime()).toBeLessThanOrEqual(t.getTime());
        expect(t.getTime()).toBeLessThan(next.getTime());
        expect(isAlignedToBucket(next, g)).toBe(true);
        const ceil = ceilToBucket(t, g);
        expect(isAlignedToBucket(ceil, g)).toBe(true);
        expect(ceil.getTime()).toBe(isAlignedToBucket(t, g) ? t.getTime() : next.getTime());
      }),
      runs,
    );
  });

  it('addBuckets is reversible and bucketStartsBetween lists n aligned consecutive starts', () => {
    fc.assert(
      fc.property(instant, granularity, fc.integer({ min: 0, max: 40 }), (t, g, n) => {
        const start = floorToBucket(t, g);
        const end = addBuckets(start, g, n);
        expect(addBuckets(end, g, -n).getTime()).toBe(start.getTime());
        const starts = bucketStartsBetween(start, end, g);
        expect(starts).toHaveLength(n);
        starts.forEach((s, i) => {
          expect(isAlignedToBucket(s, g)).toBe(true);
          expect(s.getTime()).toBe(addBuckets(start, g, i).getTime());
        });
      }),
      { numRuns: 100 },
    );
  });
});
