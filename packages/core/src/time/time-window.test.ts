import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { addBuckets, floorToBucket, isAlignedToBucket } from './bucket';
import { GRANULARITIES, type Granularity } from './granularity';
import { alignWindow, planCollectionWindow, snapWatermark } from './time-window';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const at = (iso: string) => new Date(iso);
const iso = (date: Date) => date.toISOString();

describe('alignWindow', () => {
  it('widens a range outward to whole buckets', () => {
    const window = alignWindow(at('2025-03-14T10:20:00Z'), at('2025-03-14T12:00:01Z'), 'hour');
    expect(iso(window.start)).toBe('2025-03-14T10:00:00.000Z');
    expect(iso(window.end)).toBe('2025-03-14T13:00:00.000Z');
    expect(window.granularity).toBe('hour');
  });

  it('keeps an aligned range as it is', () => {
    const window = alignWindow(at('2024-12-01T00:00:00Z'), at('2025-02-01T00:00:00Z'), 'month');
    expect(iso(window.start)).toBe('2024-12-01T00:00:00.000Z');
    expect(iso(window.end)).toBe('2025-02-01T00:00:00.000Z');
  });

  it('refuses an empty or inverted range', () => {
    expect(() => alignWindow(at('2025-01-01T00:00:00Z'), at('2025-01-01T00:00:00Z'), 'day')).toThrow(RangeError);
    expect(() => alignWindow(at('2025-01-02T00:00:00Z'), at('2025-01-01T00:00:00Z'), 'day')).toThrow(/not after start/);
  });
});

describe('snapWatermark', () => {
  it('snaps an unaligned watermark down to its bucket start', () => {
    expect(iso(snapWatermark(at('2025-03-14T10:45:12Z'), 'hour'))).toBe('2025-03-14T10:00:00.000Z');
    expect(iso(snapWatermark(at('2025-03-14T10:45:12Z'), 'day'))).toBe('2025-03-14T00:00:00.000Z');
    expect(iso(snapWatermark(at('2025-03-14T10:45:12Z'), 'month'))).toBe('2025-03-01T00:00:00.000Z');
    expect(iso(snapWatermark(at('2025-03-14T10:00:00Z'), 'hour'))).toBe('2025-03-14T10:00:00.000Z');
  });
});

describe('planCollectionWindow', () => {
  const now = at('2025-03-14T15:20:00Z');

  it('without a watermark, collects maxBackfill back from now, floored', () => {
    const plan = planCollectionWindow({ now, granularity: 'hour', watermark: null, settleMs: 2 * HOUR, maxBackfillMs: 2 * DAY });
    expect(iso(plan.window.start)).toBe('2025-03-12T15:00:00.000Z');
    expect(iso(plan.window.end)).toBe('2025-03-14T16:00:00.000Z');
    expect(plan.window.granularity).toBe('hour');
    expect(iso(plan.nextWatermark)).toBe('2025-03-14T15:00:00.000Z');
    expect(plan.truncated).toBe(false);
  });

  it('starts at the watermark minus the settle window', () => {
    const plan = planCollectionWindow({
      now,
      granularity: 'hour',
      watermark: at('2025-03-14T10:00:00Z'),
      settleMs: 2 * HOUR,
      maxBackfillMs: 7 * DAY,
    });
    expect(iso(plan.window.start)).toBe('2025-03-14T08:00:00.000Z');
    expect(iso(plan.window.end)).toBe('2025-03-14T16:00:00.000Z');
    expect(iso(plan.nextWatermark)).toBe('2025-03-14T15:00:00.000Z');
    expect(plan.truncated).toBe(false);
  });

  it('floors a settle window that is not a whole number of buckets', () => {
    const plan = planCollectionWindow({
      now,
      granularity: 'hour',
      watermark: at('2025-03-14T10:00:00Z'),
      settleMs: 90 * 60_000,
      maxBackfillMs: 7 * DAY,
    });
    expect(iso(plan.window.start)).toBe('2025-03-14T08:00:00.000Z');
  });

  it('snaps an unaligned watermark on read, so the window never starts mid-bucket', () => {
    const plan = planCollectionWindow({
      now,
      granularity: 'hour',
      watermark: at('2025-03-14T10:45:00Z'),
      settleMs: 0,
      maxBackfillMs: 7 * DAY,
    });
    expect(iso(plan.window.start)).toBe('2025-03-14T10:00:00.000Z');
    expect(isAlignedToBucket(plan.window.start, 'hour')).toBe(true);

    const daily = planCollectionWindow({
      now,
      granularity: 'day',
      watermark: at('2025-03-12T18:00:00Z'),
      settleMs: DAY,
      maxBackfillMs: 30 * DAY,
    });
    expect(iso(daily.window.start)).toBe('2025-03-11T00:00:00.000Z');
    expect(iso(daily.window.end)).toBe('2025-03-15T00:00:00.000Z');
    expect(iso(daily.nextWatermark)).toBe('2025-03-14T00:00:00.000Z');
  });

  it('cuts a gap longer than maxBackfill and says so', () => {
    const plan = planCollectionWindow({
      now,
      granularity: 'hour',
      watermark: at('2025-03-01T00:00:00Z'),
      settleMs: 2 * HOUR,
      maxBackfillMs: 7 * DAY,
    });
    expect(iso(plan.window.start)).toBe('2025-03-07T15:00:00.000Z');
    expect(iso(plan.window.end)).toBe('2025-03-14T16:00:00.000Z');
    expect(plan.truncated).toBe(true);
  });

  it('does not call it truncated when only the settle window reaches past maxBackfill', () => {
    // The watermark is 5 h old and maxBackfill is 6 h: no bucket after the
    // watermark is lost. Only the re-collection of settled buckets is cut.
    const plan = planCollectionWindow({
      now,
      granularity: 'hour',
      watermark: at('2025-03-14T10:00:00Z'),
      settleMs: 2 * DAY,
      maxBackfillMs: 6 * HOUR,
    });
    expect(iso(plan.window.start)).toBe('2025-03-14T09:00:00.000Z');
    expect(plan.truncated).toBe(false);
  });

  it('a watermark exactly at the earliest bucket is not truncated; one bucket before is', () => {
    const base = { now, granularity: 'hour' as const, settleMs: 0, maxBackfillMs: 6 * HOUR };
    const atEarliest = planCollectionWindow({ ...base, watermark: at('2025-03-14T09:00:00Z') });
    expect(iso(atEarliest.window.start)).toBe('2025-03-14T09:00:00.000Z');
    expect(atEarliest.truncated).toBe(false);
    const before = planCollectionWindow({ ...base, watermark: at('2025-03-14T08:00:00Z') });
    expect(iso(before.window.start)).toBe('2025-03-14T09:00:00.000Z');
    expect(before.truncated).toBe(true);
  });

  it('always re-collects the open bucket, even with a watermark in the future', () => {
    const plan = planCollectionWindow({
      now,
      granularity: 'hour',
      watermark: at('2025-03-15T00:00:00Z'),
      settleMs: 0,
      maxBackfillMs: DAY,
    });
    expect(iso(plan.window.start)).toBe('2025-03-14T15:00:00.000Z');
    expect(iso(plan.window.end)).toBe('2025-03-14T16:00:00.000Z');
    expect(iso(plan.nextWatermark)).toBe('2025-03-14T15:00:00.000Z');
  });

  it('ends at the end of the open month across a leap day and a year end', () => {
    const leap = planCollectionWindow({
      now: at('2024-02-29T23:59:59Z'),
      granularity: 'month',
      watermark: at('2024-02-01T00:00:00Z'),
      settleMs: 0,
      maxBackfillMs: 400 * DAY,
    });
    expect(iso(leap.window.start)).toBe('2024-02-01T00:00:00.000Z');
    expect(iso(leap.window.end)).toBe('2024-03-01T00:00:00.000Z');
    expect(iso(leap.nextWatermark)).toBe('2024-02-01T00:00:00.000Z');

    const yearEnd = planCollectionWindow({
      now: at('2024-12-31T23:00:00Z'),
      granularity: 'month',
      watermark: at('2024-12-01T00:00:00Z'),
      settleMs: 2 * DAY,
      maxBackfillMs: 400 * DAY,
    });
    expect(iso(yearEnd.window.start)).toBe('2024-11-01T00:00:00.000Z');
    expect(iso(yearEnd.window.end)).toBe('2025-01-01T00:00:00.000Z');
  });

  it('properties: aligned, ends at the open bucket, covers the gap unless truncated', () => {
    const minNow = new Date('2000-01-01T00:00:00Z').getTime();
    fc.assert(
      fc.property(
        fc.integer({ min: minNow, max: minNow + 40 * 365 * DAY }),
        fc.constantFrom<Granularity>(...GRANULARITIES),
        fc.option(fc.integer({ min: -400 * DAY, max: 2 * DAY }), { nil: null }),
        fc.integer({ min: 0, max: 10 * DAY }),
        fc.integer({ min: 0, max: 100 * DAY }),
        (nowMs, granularity, watermarkOffset, settleMs, maxBackfillMs) => {
          const now = new Date(nowMs);
          const watermark = watermarkOffset === null ? null : new Date(nowMs + watermarkOffset);
          const plan = planCollectionWindow({ now, granularity, watermark, settleMs, maxBackfillMs });
          const openStart = floorToBucket(now, granularity);
          const earliest = floorToBucket(new Date(nowMs - maxBackfillMs), granularity);

          expect(isAlignedToBucket(plan.window.start, granularity)).toBe(true);
          expect(isAlignedToBucket(plan.window.end, granularity)).toBe(true);
          expect(plan.window.end.getTime()).toBe(addBuckets(openStart, granularity, 1).getTime());
          expect(plan.nextWatermark.getTime()).toBe(openStart.getTime());
          expect(plan.window.start.getTime()).toBeLessThanOrEqual(openStart.getTime());
          expect(plan.window.start.getTime()).toBeGreaterThanOrEqual(earliest.getTime());
          if (watermark === null) {
            expect(plan.window.start.getTime()).toBe(earliest.getTime());
            expect(plan.truncated).toBe(false);
          } else {
            const snapped = snapWatermark(watermark, granularity);
            expect(plan.truncated).toBe(snapped < earliest);
            // Nothing after the watermark is skipped unless the plan says so.
            if (!plan.truncated) expect(plan.window.start.getTime()).toBeLessThanOrEqual(snapped.getTime());
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
