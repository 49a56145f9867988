import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkUsageRecord } from './check-usage-record';
import { usageRecordSchema } from './usage-record';

const valid = {
  source_instance: 'alice@laptop',
  granularity: 'hour',
  bucket_start: new Date('2025-03-14T10:00:00Z'),
  provider: 'anthropic',
  model: 'claude-sonnet-4-5',
  labels: { session: 's1' },
  input_tokens: 10,
  output_tokens: 200,
  cached_read_tokens: 1_000,
  cached_write_tokens: 50,
  cached_write_1h_tokens: 20,
  reasoning_tokens: null,
  requests: 3,
  measurement_basis: 'exact',
};

/** Values a field can take, lawful or not: each field is drawn from all of them. */
const anyValue = fc.oneof(
  fc.constant(undefined),
  fc.constant(null),
  fc.integer({ min: -5, max: 1_000_000 }),
  fc.constantFrom(0, -0, 1.5, Number.NaN, Number.POSITIVE_INFINITY, Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER + 1, 0.000_000_1),
  fc.constantFrom('', 'hour', 'day', 'month', 'exact', 'provider_aggregate', 'computed', 'provider', 'fixed', '1.25', '-1', '1e3', 'a\u0000b', 'x'.repeat(300), 'x'.repeat(501), '\uD800'),
  fc.constantFrom(
    new Date('2025-03-14T10:00:00Z'),
    new Date('2025-03-14T10:30:00Z'),
    new Date('2025-03-01T00:00:00Z'),
    new Date('1999-12-31T23:00:00Z'),
    new Date(Number.NaN),
    '2025-03-14T10:00:00Z',
  ),
  fc.constantFrom({}, { session: 's' }, { session: '' }, { n: 1 }, [], { ['x'.repeat(70)]: 'v' }),
);

const fieldNames = [...Object.keys(valid), 'account', 'api_key', 'user_id', 'cost_usd', 'cost_source', 'price_ref', 'unpriced_reason', 'unknown_field'];

/** A valid record with a few fields replaced, removed or added. */
const record = fc
  .tuple(fc.dictionary(fc.constantFrom(...fieldNames), anyValue, { maxKeys: 4 }), fc.subarray(Object.keys(valid), { maxLength: 2 }))
  .map(([changes, removed]) => {
    const result: Record<string, unknown> = { ...valid, ...changes };
    for (const key of removed) delete result[key];
    return result;
  });

describe('checkUsageRecord', () => {
  it('returns what the schema returns, or leaves the record to the schema, never accepting what the schema refuses', () => {
    let checked = 0;
    fc.assert(
      fc.property(record, (input) => {
        const fast = checkUsageRecord(input);
        const schema = usageRecordSchema.safeParse(input);
        if (fast === undefined) return;
        checked += 1;
        expect(schema.success).toBe(true);
        expect(fast).toStrictEqual(schema.data);
      }),
      { numRuns: 5_000 },
    );
    // The check must actually take the records it can: otherwise it saves nothing.
    expect(checked).toBeGreaterThan(100);
  });

  it('takes the records adapters write: defaults filled as the schema fills them', () => {
    const minimal = { granularity: 'day', bucket_start: new Date('2025-03-14T00:00:00Z'), provider: 'openai', model: 'gpt-4o', measurement_basis: 'exact' };
    expect(checkUsageRecord(minimal)).toStrictEqual(usageRecordSchema.parse(minimal));
    expect(checkUsageRecord(valid)).toStrictEqual(usageRecordSchema.parse(valid));
    const priced = { ...valid, cost_usd: 0.1 + 0.2, cost_source: 'computed', price_ref: 'genai-prices:anthropic/x@base' };
    expect(checkUsageRecord(priced)).toStrictEqual(usageRecordSchema.parse(priced));
    expect(checkUsageRecord(priced)?.cost_usd).toBe('0.3');
  });

  it('leaves to the schema what it does not handle or what breaks a rule', () => {
    expect(checkUsageRecord({ ...valid, bucket_start: '2025-03-14T10:00:00Z' })).toBeUndefined();
    expect(checkUsageRecord({ ...valid, cached_write_1h_tokens: 60 })).toBeUndefined();
    expect(checkUsageRecord({ ...valid, cost_usd: '1.5' })).toBeUndefined();
    expect(checkUsageRecord({ ...valid, labels: { a: 1 } })).toBeUndefined();
    expect(checkUsageRecord(Object.assign(Object.create({ inherited: true }), valid))).toBeUndefined();
  });
});
