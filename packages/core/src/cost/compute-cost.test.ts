import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { UsageRecord } from '../record/usage-record';
import { computeCost } from './compute-cost';
import { addDecimals, toScaledInteger } from './decimal';
import type { TokenPrice } from './token-price';

type Tokens = Pick<
  UsageRecord,
  | 'input_tokens'
  | 'output_tokens'
  | 'cached_read_tokens'
  | 'cached_write_tokens'
  | 'cached_write_1h_tokens'
  | 'reasoning_tokens'
>;

const NONE: Tokens = {
  input_tokens: null,
  output_tokens: null,
  cached_read_tokens: null,
  cached_write_tokens: null,
  cached_write_1h_tokens: null,
  reasoning_tokens: null,
};
const tokens = (values: Partial<Tokens>): Tokens => ({ ...NONE, ...values });

const SONNET: TokenPrice = { input: 3, output: 15, cacheRead: 0.3, cacheWrite: 3.75, cacheWrite1h: 6 };

function costOf(record: Tokens, price: TokenPrice | undefined): string {
  const result = computeCost(record, price);
  if (result.status !== 'priced') throw new Error(`expected a price, got ${JSON.stringify(result)}`);
  return result.costUsd;
}

describe('computeCost', () => {
  it('is exact to the digit', () => {
    expect(computeCost(tokens({ input_tokens: 1_234_567 }), { input: 3 })).toEqual({ status: 'priced', costUsd: '3.703701' });
    expect(costOf(tokens({ input_tokens: 1 }), { input: '0.000001' })).toBe('0.000000000001');
    expect(costOf(tokens({ output_tokens: 333_333 }), { output: '0.075' })).toBe('0.024999975');
  });

  it('prices each token bucket at its own rate', () => {
    const record = tokens({
      input_tokens: 1_000_000, // 3
      output_tokens: 500_000, // 7.5
      cached_read_tokens: 2_000_000, // 0.6
      cached_write_tokens: 1_000_000, // 600_000 at 3.75 = 2.25 and 400_000 at 6 = 2.4
      cached_write_1h_tokens: 400_000,
    });
    expect(costOf(record, SONNET)).toBe('15.75');
    // Each rate on its own, so a swapped rate could not hide in the sum.
    expect(costOf(tokens({ cached_read_tokens: 1_000_000 }), SONNET)).toBe('0.3');
    expect(costOf(tokens({ cached_write_tokens: 1_000_000 }), SONNET)).toBe('3.75');
    expect(costOf(tokens({ cached_write_tokens: 1_000_000, cached_write_1h_tokens: 1_000_000 }), SONNET)).toBe('6');
  });

  it('does not count reasoning on top of output', () => {
    const without = costOf(tokens({ output_tokens: 1_000 }), SONNET);
    const withReasoning = costOf(tokens({ output_tokens: 1_000, reasoning_tokens: 800 }), SONNET);
    expect(withReasoning).toBe(without);
    expect(without).toBe('0.015');
  });

  it('takes a price as a string or a number with the same result', () => {
    const record = tokens({ input_tokens: 123_457, output_tokens: 9_999, cached_read_tokens: 77 });
    expect(costOf(record, { input: '2.5', output: '10', cacheRead: '1.25' })).toBe(
      costOf(record, { input: 2.5, output: 10, cacheRead: 1.25 }),
    );
    expect(costOf(tokens({ input_tokens: 1_000_000 }), { input: 0.1 + 0.2 })).toBe('0.3');
  });

  it('is unpriced (not 0) when a needed rate is missing, and names the rate', () => {
    const result = computeCost(tokens({ input_tokens: 10, cached_read_tokens: 5 }), { input: 3 });
    expect(result).toEqual({ status: 'unpriced', reason: 'missing_rate', missingRates: ['cacheRead'] });
    const both = computeCost(
      tokens({ output_tokens: 1, cached_write_tokens: 10, cached_write_1h_tokens: 4 }),
      { input: 3, output: 15 },
    );
    expect(both).toEqual({ status: 'unpriced', reason: 'missing_rate', missingRates: ['cacheWrite', 'cacheWrite1h'] });
  });

  it('is unpriced with no_price when there is no price', () => {
    expect(computeCost(tokens({ input_tokens: 10 }), undefined)).toEqual({
      status: 'unpriced',
      reason: 'no_price',
      missingRates: [],
    });
  });

  it('is unpriced with no_tokens when every counter is NULL', () => {
    expect(computeCost(NONE, SONNET)).toEqual({ status: 'unpriced', reason: 'no_tokens', missingRates: [] });
    expect(computeCost(tokens({ reasoning_tokens: 5 }), SONNET)).toMatchObject({ reason: 'no_tokens' });
  });

  it('prices zero tokens in a bucket that has no rate', () => {
    expect(computeCost(tokens({ input_tokens: 1_000_000, cached_read_tokens: 0 }), { input: 3 })).toEqual({
      status: 'priced',
      costUsd: '3',
    });
    // All writes are 1-hour writes: the 5-minute rate is not needed.
    expect(costOf(tokens({ cached_write_tokens: 100, cached_write_1h_tokens: 100 }), { cacheWrite1h: 6 })).toBe('0.0006');
    expect(computeCost(tokens({ input_tokens: 0, output_tokens: 0 }), {})).toEqual({ status: 'priced', costUsd: '0' });
  });

  it('prices all cache writes at the 5-minute rate when the 1-hour part is unknown', () => {
    expect(costOf(tokens({ cached_write_tokens: 1_000_000 }), { cacheWrite: 3.75 })).toBe('3.75');
  });

  it('refuses a price with more digits than it keeps rather than rounding', () => {
    expect(() => computeCost(tokens({ input_tokens: 1 }), { input: '0.0000000000001' })).toThrow(RangeError);
  });
});

describe('computeCost properties', () => {
  const count = fc.integer({ min: 0, max: 2_000_000_000 });
  const maybe = fc.option(count, { nil: null });
  /** A consistent record: the 1-hour part never exceeds the writes, reasoning never exceeds output. */
  const recordArb = fc
    .record({
      input_tokens: maybe,
      output_tokens: maybe,
      cached_read_tokens: maybe,
      cached_write_tokens: maybe,
      oneHourShare: fc.option(fc.double({ min: 0, max: 1, noNaN: true }), { nil: null }),
      reasoningShare: fc.option(fc.double({ min: 0, max: 1, noNaN: true }), { nil: null }),
    })
    .map(({ oneHourShare, reasoningShare, ...rest }): Tokens => ({
      ...rest,
      cached_write_1h_tokens:
        rest.cached_write_tokens === null || oneHourShare === null ? null : Math.floor(rest.cached_write_tokens * oneHourShare),
      reasoning_tokens:
        rest.output_tokens === null || reasoningShare === null ? null : Math.floor(rest.output_tokens * reasoningShare),
    }));
  // Up to 12 decimals, as a string or a number.
  const rate = fc
    .bigInt({ min: 0n, max: 100_000_000_000_000n })
    .chain((scaled) => {
      const text = `${scaled / 10n ** 12n}.${(scaled % 10n ** 12n).toString().padStart(12, '0')}`;
      return fc.constantFrom<string | number>(text, Number(`${scaled / 1_000_000n}`) / 1_000_000);
    });
  const fullPrice = fc.record({ input: rate, output: rate, cacheRead: rate, cacheWrite: rate, cacheWrite1h: rate });
  const runs = { numRuns: 200 };
  const scaled = (cost: string) => toScaledInteger(cost, 18);

  it('is monotonic in every token count', () => {
    const column = fc.constantFrom(
      'input_tokens',
      'output_tokens',
      'cached_read_tokens',
      'cached_write_tokens',
      'cached_write_1h_tokens',
      'reasoning_tokens',
    ) satisfies fc.Arbitrary<keyof Tokens>;
    fc.assert(
      fc.property(recordArb, fullPrice, column, fc.integer({ min: 1, max: 1_000_000 }), (record, price, key, extra) => {
        const more: Tokens = { ...record, [key]: (record[key] ?? 0) + extra };
        // A 1-hour write is also a write; reasoning is also output.
        if (key === 'cached_write_1h_tokens') more.cached_write_tokens = (record.cached_write_tokens ?? 0) + extra;
        if (key === 'reasoning_tokens') more.output_tokens = (record.output_tokens ?? 0) + extra;
        const before = computeCost(record, price);
        const after = computeCost(more, price);
        expect(after.status).toBe('priced');
        if (before.status === 'priced' && after.status === 'priced') {
          expect(scaled(after.costUsd) >= scaled(before.costUsd)).toBe(true);
        }
      }),
      runs,
    );
  });

  it('costs the same for a record split in two with the same totals (exact string equality)', () => {
    fc.assert(
      fc.property(recordArb, fullPrice, fc.double({ min: 0, max: 1, noNaN: true }), (record, price, share) => {
        const half = (value: number | null) => (value === null ? null : Math.floor(value * share));
        const first: Tokens = {
          input_tokens: half(record.input_tokens),
          output_tokens: half(record.output_tokens),
          cached_read_tokens: half(record.cached_read_tokens),
          cached_write_tokens: half(record.cached_write_tokens),
          cached_write_1h_tokens: half(record.cached_write_1h_tokens),
          reasoning_tokens: half(record.reasoning_tokens),
        };
        const rest = (key: keyof Tokens) => (record[key] === null ? null : (record[key] as number) - (first[key] as number));
        const second: Tokens = {
          input_tokens: rest('input_tokens'),
          output_tokens: rest('output_tokens'),
          cached_read_tokens: rest('cached_read_tokens'),
          cached_write_tokens: rest('cached_write_tokens'),
          cached_write_1h_tokens: rest('cached_write_1h_tokens'),
          reasoning_tokens: rest('reasoning_tokens'),
        };
        const whole = computeCost(record, price);
        if (whole.status !== 'priced') {
          expect(whole).toMatchObject({ reason: 'no_tokens' });
          return;
        }
        expect(addDecimals([costOf(first, price), costOf(second, price)])).toBe(whole.costUsd);
      }),
      runs,
    );
  });

  it('never prices at 0 what it cannot price', () => {
    const partialPrice = fc.option(
      fc.record(
        { input: rate, output: rate, cacheRead: rate, cacheWrite: rate, cacheWrite1h: rate },
        { requiredKeys: [] },
      ),
      { nil: undefined },
    );
    fc.assert(
      fc.property(recordArb, partialPrice, (record, price) => {
        const result = computeCost(record, price);
        const oneHour = record.cached_write_1h_tokens ?? 0;
        const needs: Array<[keyof TokenPrice, number | null]> = [
          ['input', record.input_tokens],
          ['output', record.output_tokens],
          ['cacheRead', record.cached_read_tokens],
          ['cacheWrite', record.cached_write_tokens === null ? null : record.cached_write_tokens - oneHour],
          ['cacheWrite1h', record.cached_write_1h_tokens],
        ];
        const allNull = needs.every(([, n]) => n === null);
        const missing = needs.filter(([r, n]) => n !== null && n > 0 && price?.[r] === undefined).map(([r]) => r);
        if (allNull) expect(result).toEqual({ status: 'unpriced', reason: 'no_tokens', missingRates: [] });
        else if (price === undefined) expect(result).toEqual({ status: 'unpriced', reason: 'no_price', missingRates: [] });
        else if (missing.length > 0) expect(result).toEqual({ status: 'unpriced', reason: 'missing_rate', missingRates: missing });
        else expect(result.status).toBe('priced');
        if (result.status === 'unpriced') expect(result).not.toHaveProperty('costUsd');
      }),
      runs,
    );
  });
});
