import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { floorToBucket } from '../time/bucket';
import { GRANULARITIES, type Granularity } from '../time/granularity';
import { type CounterSample, counterDelta, counterIncrease, counterIncreaseByBucket } from './counter-increase';

const HOUR = 3_600_000;
const T0 = Date.parse('2025-03-14T10:00:00Z');
/** Samples every 20 minutes from 10:00 UTC. */
const series = (...values: number[]): CounterSample[] =>
  values.map((value, index) => ({ at: new Date(T0 + index * 20 * 60_000), value }));
const entries = (buckets: Map<number, number>) =>
  [...buckets].map(([start, value]) => [new Date(start).toISOString(), value] as const);

describe('counterDelta', () => {
  it('is the difference when the counter grew or stayed', () => {
    expect(counterDelta(10, 15)).toBe(5);
    expect(counterDelta(10, 10)).toBe(0);
  });

  it('is the new value after a restart (invariant 3)', () => {
    expect(counterDelta(100, 7)).toBe(7);
    expect(counterDelta(100, 0)).toBe(0);
  });

  it('is 0 without a previous sample: the first sample is a baseline', () => {
    expect(counterDelta(undefined, 42)).toBe(0);
  });
});

describe('counterIncrease', () => {
  it('sums deltas without counting the baseline', () => {
    expect(counterIncrease(series(100, 110, 125))).toBe(25);
  });

  it('counts the value after a reset as the increase since the reset', () => {
    // 100 → 110 (+10), restart → 3 (+3), → 8 (+5), restart → 0 (+0), → 4 (+4)
    expect(counterIncrease(series(100, 110, 3, 8, 0, 4))).toBe(22);
  });

  it('is 0 for no samples or one sample', () => {
    expect(counterIncrease([])).toBe(0);
    expect(counterIncrease(series(500))).toBe(0);
  });
});

describe('counterIncreaseByBucket', () => {
  it('puts each delta in the bucket of the later sample', () => {
    // 10:00 100, 10:20 110, 10:40 120, 11:00 150, 11:20 160
    const buckets = counterIncreaseByBucket(series(100, 110, 120, 150, 160), 'hour');
    expect(entries(buckets)).toEqual([
      ['2025-03-14T10:00:00.000Z', 20],
      ['2025-03-14T11:00:00.000Z', 40],
    ]);
  });

  it('is reset-safe inside and across buckets', () => {
    // 10:00 100, 10:20 5 (reset, +5), 10:40 9 (+4), 11:00 2 (reset, +2), 11:20 12 (+10)
    const buckets = counterIncreaseByBucket(series(100, 5, 9, 2, 12), 'hour');
    expect(entries(buckets)).toEqual([
      ['2025-03-14T10:00:00.000Z', 9],
      ['2025-03-14T11:00:00.000Z', 12],
    ]);
  });

  it('uses samples before `from` only as the baseline', () => {
    const from = new Date(T0 + HOUR);
    // 10:40 120 is the baseline: the 11:00 sample contributes 150 - 120.
    const buckets = counterIncreaseByBucket(series(100, 110, 120, 150, 160), 'hour', { from });
    expect(entries(buckets)).toEqual([['2025-03-14T11:00:00.000Z', 40]]);
  });

  it('applies a reset that happened at the first sample after `from`', () => {
    const from = new Date(T0 + HOUR);
    const buckets = counterIncreaseByBucket(series(100, 110, 120, 7, 10), 'hour', { from });
    expect(entries(buckets)).toEqual([['2025-03-14T11:00:00.000Z', 10]]);
  });

  it('treats the first sample of a series that starts late as a baseline by default', () => {
    // The series appears at 11:00 with 30: without seriesStartsAtZero that 30 is not attributed.
    const late = series(0, 0, 0, 30, 45).slice(3);
    expect(entries(counterIncreaseByBucket(late, 'hour', { from: new Date(T0) }))).toEqual([
      ['2025-03-14T11:00:00.000Z', 15],
    ]);
  });

  it('counts the first sample of a late series when seriesStartsAtZero is set', () => {
    const late = series(0, 0, 0, 30, 45).slice(3);
    expect(entries(counterIncreaseByBucket(late, 'hour', { from: new Date(T0), seriesStartsAtZero: true }))).toEqual([
      ['2025-03-14T11:00:00.000Z', 45],
    ]);
  });

  it('does not count samples before `from` when seriesStartsAtZero is set', () => {
    const buckets = counterIncreaseByBucket(series(100, 110, 120, 150), 'hour', {
      from: new Date(T0 + HOUR),
      seriesStartsAtZero: true,
    });
    expect(entries(buckets)).toEqual([['2025-03-14T11:00:00.000Z', 30]]);
  });

  it('splits by day and month in UTC', () => {
    const samples: CounterSample[] = [
      { at: new Date('2025-01-31T23:00:00Z'), value: 10 },
      { at: new Date('2025-01-31T23:30:00Z'), value: 15 },
      { at: new Date('2025-02-01T00:30:00Z'), value: 40 },
    ];
    expect(entries(counterIncreaseByBucket(samples, 'day'))).toEqual([
      ['2025-01-31T00:00:00.000Z', 5],
      ['2025-02-01T00:00:00.000Z', 25],
    ]);
    expect(entries(counterIncreaseByBucket(samples, 'month'))).toEqual([
      ['2025-01-01T00:00:00.000Z', 5],
      ['2025-02-01T00:00:00.000Z', 25],
    ]);
  });
});

describe('counter properties', () => {
  const runs = { numRuns: 200 };
  const value = fc.integer({ min: 0, max: 1_000_000_000 });
  /** Strictly increasing times from T0, step up to 3 h. */
  const timed = (values: number[], steps: number[]): CounterSample[] => {
    let at = T0;
    return values.map((v, i) => {
      at += steps[i] ?? 1;
      return { at: new Date(at), value: v };
    });
  };
  const samplesArb = fc
    .array(value, { maxLength: 40 })
    .chain((values) =>
      fc.array(fc.integer({ min: 1, max: 3 * HOUR }), { minLength: values.length, maxLength: values.length }).map((steps) =>
        timed(values, steps),
      ),
    );
  const granularity = fc.constantFrom<Granularity>(...GRANULARITIES);
  const sum = (buckets: Map<number, number>) => [...buckets.values()].reduce((a, b) => a + b, 0);

  it('without resets, the increase is last - first', () => {
    const monotonic = fc
      .array(fc.integer({ min: 0, max: 1_000_000 }), { minLength: 1, maxLength: 40 })
      .map((increments) => {
        let total = 0;
        return increments.map((inc) => (total += inc));
      });
    fc.assert(
      fc.property(monotonic, (values) => {
        const samples = series(...values);
        expect(counterIncrease(samples)).toBe((values.at(-1) as number) - (values[0] as number));
      }),
      runs,
    );
  });

  it('the increase is never negative, in total or in any bucket', () => {
    fc.assert(
      fc.property(samplesArb, granularity, fc.boolean(), (samples, g, startsAtZero) => {
        expect(counterIncrease(samples)).toBeGreaterThanOrEqual(0);
        for (const delta of counterIncreaseByBucket(samples, g, { seriesStartsAtZero: startsAtZero }).values()) {
          expect(delta).toBeGreaterThanOrEqual(0);
        }
      }),
      runs,
    );
  });

  it('splitting samples into buckets sums to the total increase', () => {
    fc.assert(
      fc.property(samplesArb, granularity, (samples, g) => {
        expect(sum(counterIncreaseByBucket(samples, g))).toBe(counterIncrease(samples));
      }),
      runs,
    );
  });

  it('with `from`, the buckets sum to the increase from the last sample before `from`', () => {
    fc.assert(
      fc.property(samplesArb, granularity, fc.integer({ min: 0, max: 40 * 3 * HOUR }), (samples, g, offset) => {
        const from = new Date(T0 + offset);
        const firstInRange = samples.findIndex((sample) => sample.at >= from);
        const expected = firstInRange === -1 ? 0 : counterIncrease(samples.slice(Math.max(0, firstInRange - 1)));
        const buckets = counterIncreaseByBucket(samples, g, { from });
        expect(sum(buckets)).toBe(expected);
        for (const start of buckets.keys()) expect(start).toBeGreaterThanOrEqual(floorToBucket(from, g).getTime());
      }),
      runs,
    );
  });
});
