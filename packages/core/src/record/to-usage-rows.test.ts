import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InvalidRecordError } from '../errors/invalid-record-error';
import { formatIssues } from '../schema/format-issues';
import type { TimeWindow } from '../time/time-window';
import { toUsageRow, toUsageRows } from './parse-usage-record';
import { usageRecordSchema } from './usage-record';

const window: TimeWindow = { start: new Date('2025-03-01T00:00:00Z'), end: new Date('2025-03-20T00:00:00Z'), granularity: 'hour' };
const options = { sourceSystem: 'claude_code', defaultInstance: 'laptop' };

/** Records as adapters write them: the same fields in different orders, labels of their own, texts shared between records. */
const lawful = fc
  .record({
    model: fc.constantFrom('claude-sonnet-4-5', 'claude-opus-4-1', 'gpt-4o', 'modèle-ünïcode', '😀-emoji'),
    session: fc.constantFrom('2ac5aec5-61b6-43cc-acd9-62b2e11fe092', '61c71505-17df-4d83-a053-a1c97055a4d2', 's', ''),
    hour: fc.integer({ min: 0, max: 23 }),
    day: fc.integer({ min: 1, max: 25 }),
    tokens: fc.array(fc.option(fc.integer({ min: 0, max: 1_000_000 }), { nil: null }), { minLength: 7, maxLength: 7 }),
    order: fc.constantFrom('adapter', 'reversed', 'minimal', 'priced'),
    labelOrder: fc.boolean(),
  })
  .map(({ model, session, hour, day, tokens, order, labelOrder }): Record<string, unknown> => {
    const bucket = new Date(Date.UTC(2025, 2, day, hour));
    const labels: Record<string, string> = labelOrder ? { project: 'p', session } : { session, project: 'p' };
    const [input, output, read, write, , reasoning, requests] = tokens as [number | null, number | null, number | null, number | null, number | null, number | null, number | null];
    const counts = {
      input_tokens: input,
      output_tokens: output,
      cached_read_tokens: read,
      cached_write_tokens: write,
      cached_write_1h_tokens: write === null ? null : Math.floor(write / 2),
      reasoning_tokens: reasoning === null || output === null ? null : Math.min(reasoning, output),
      requests,
    };
    if (order === 'minimal') return { granularity: 'hour', bucket_start: bucket, provider: 'anthropic', model, measurement_basis: 'exact' };
    const record = { source_instance: 'bench', granularity: 'hour', bucket_start: bucket, provider: 'anthropic', model, labels, ...counts, measurement_basis: 'exact' };
    if (order === 'priced') return { ...record, cost_usd: '0.25', cost_source: 'provider', price_ref: 'x', unpriced_reason: null };
    return order === 'reversed' ? Object.fromEntries(Object.entries(record).reverse()) : record;
  });

/** Values a field can take, lawful or not. */
const anyValue = fc.oneof(
  fc.constant(undefined),
  fc.constant(null),
  fc.integer({ min: -5, max: 1_000_000 }),
  fc.constantFrom(0, 1.5, Number.NaN, Number.MAX_SAFE_INTEGER + 1),
  fc.constantFrom('', 'hour', 'day', 'exact', 'computed', '1.25', '-1', 'a\u0000b', 'x'.repeat(300), 'é'.repeat(100), '\uD800', 'a\uFFFDb', '😀'),
  fc.constantFrom(new Date('2025-03-14T10:30:00Z'), new Date('2025-02-01T00:00:00Z'), new Date('1999-12-31T23:00:00Z'), new Date(Number.NaN), '2025-03-14T10:00:00Z'),
  fc.constantFrom({}, { session: 's' }, { session: 'a\u0000' }, { n: 1 }, [], { ['x'.repeat(70)]: 'v' }, { ['é'.repeat(30)]: 'v' }, { [Symbol.for('s')]: 'v' }),
);
const fieldNames = ['source_instance', 'granularity', 'bucket_start', 'provider', 'model', 'account', 'api_key', 'user_id', 'labels', 'input_tokens', 'output_tokens'];
const changed = fc
  .tuple(lawful, fc.dictionary(fc.constantFrom(...fieldNames, 'cost_usd', 'cost_source', 'price_ref', 'unknown_field'), anyValue, { minKeys: 1, maxKeys: 2 }))
  .map(([record, changes]) => ({ ...record, ...changes }));

/** Texts a dimension or a label must not hold, and some it may (a valid surrogate pair, a long text within the limit). */
const texts = fc.constantFrom('a\u0000b', '\uD800', 'x\uDC00', 'a\uFFFDb', 'x'.repeat(257), 'é'.repeat(129), 'é'.repeat(86), '😀'.repeat(60), 'x'.repeat(65), '');
/** A lawful record with one text replaced: a dimension, a label key or a label value. */
const poisoned = fc.tuple(lawful, fc.constantFrom('model', 'provider', 'source_instance', 'account', 'user_id', 'label key', 'label value'), texts).map(([record, slot, text]) => {
  if (slot === 'label key') return { ...record, labels: { ...(record.labels as object), [text]: 'v' } };
  if (slot === 'label value') return { ...record, labels: { ...(record.labels as object), session: text } };
  return { ...record, [slot]: text };
});

/** A batch: mostly lawful records, some changed or poisoned (most of those unlawful). */
const batch = fc.array(fc.oneof({ arbitrary: lawful, weight: 12 }, { arbitrary: changed, weight: 1 }, { arbitrary: poisoned, weight: 1 }), { minLength: 1, maxLength: 25 });

/**
 * A batch as the agent-log adapters write it: records of one session share one
 * labels object, and records share their texts. The pool holds lawful labels
 * and labels the schema refuses (a bad value or key, a number, too many), each
 * object used by several records, so that what the check remembered of an
 * object or a text meets it again, in any order.
 */
const sharedBatch = fc
  .tuple(
    fc.array(
      fc.oneof(
        {
          weight: 12,
          arbitrary: fc.constantFrom<() => Record<string, unknown>>(
            () => ({ project: 'p', session: '2ac5aec5-61b6-43cc-acd9-62b2e11fe092' }),
            () => ({ project: 'p', session: 's' }),
            () => ({ session: 's', project: 'p' }),
            () => ({}),
            // A value that would be too long as a key, beside a key that is (below): a text clean in one place is not clean in the other.
            () => ({ project: 'x'.repeat(65), session: 's' }),
          ),
        },
        {
          weight: 1,
          arbitrary: fc.constantFrom<() => Record<string, unknown>>(
            () => ({ project: 'p', session: 'a\u0000b' }),
            () => ({ project: 'p', session: '\uD800' }),
            () => ({ project: 'p', session: 'x'.repeat(257) }),
            () => ({ ['x'.repeat(65)]: 'v' }),
            () => ({ project: 'p', session: 7 }),
            () => Object.fromEntries(Array.from({ length: 33 }, (_, index) => [`k${index}`, 'v'])),
          ),
        },
      ),
      { minLength: 1, maxLength: 4 },
    ),
    fc.array(
      fc.record({
        labels: fc.nat(3),
        model: fc.oneof({ weight: 30, arbitrary: fc.constantFrom('claude-sonnet-4-5', 'claude-opus-4-1', '') }, { weight: 1, arbitrary: fc.constantFrom('m\u0000', '\uDC00x', 'x'.repeat(300)) }),
        provider: fc.oneof({ weight: 30, arbitrary: fc.constant('anthropic') }, { weight: 1, arbitrary: fc.constantFrom('', 'a\uFFFDb') }),
        instance: fc.oneof({ weight: 30, arbitrary: fc.constantFrom('bench', 'laptop', undefined) }, { weight: 1, arbitrary: fc.constant('é'.repeat(129)) }),
        hour: fc.integer({ min: 0, max: 23 }),
        input: fc.option(fc.integer({ min: -1, max: 1_000_000 }), { nil: null }),
      }),
      { minLength: 1, maxLength: 30 },
    ),
  )
  .map(([makers, drawn]) => {
    const pool = makers.map((make) => make());
    return drawn.map(({ labels, model, provider, instance, hour, input }): Record<string, unknown> => ({
      ...(instance === undefined ? {} : { source_instance: instance }),
      granularity: 'hour',
      bucket_start: new Date(Date.UTC(2025, 2, 14, hour)),
      provider,
      model,
      labels: pool[labels % pool.length],
      input_tokens: input,
      output_tokens: 5,
      requests: 1,
      measurement_basis: 'exact',
    }));
  });

type Outcome = { rows: unknown[] } | { error: string };

function outcome(run: () => unknown[]): Outcome {
  try {
    return { rows: run() };
  } catch (error) {
    if (!InvalidRecordError.isInstance(error)) throw error;
    return { error: error.message };
  }
}

describe('toUsageRows', () => {
  it('returns what toUsageRow returns record by record, and refuses the first refused record with the same error', () => {
    let refused = 0;
    fc.assert(
      fc.property(batch, fc.boolean(), (inputs, windowed) => {
        const rowOptions = { ...options, window: windowed ? window : undefined };
        const expected = outcome(() => inputs.map((input, index) => toUsageRow(input, { ...rowOptions, where: `claude record ${index}` })));
        const actual = outcome(() => toUsageRows(inputs, { ...rowOptions, where: (index) => `claude record ${index}` }));
        expect(actual).toStrictEqual(expected);
        if ('error' in actual) refused += 1;
      }),
      { numRuns: 2_000 },
    );
    // Both sides must be exercised.
    expect(refused).toBeGreaterThan(200);
    expect(refused).toBeLessThan(1_800);
  });

  it('accepts exactly what the schema accepts, as the schema returns it, and names what it refuses as the schema does', () => {
    fc.assert(
      fc.property(batch, (inputs) => {
        const result = outcome(() => toUsageRows(inputs, { ...options, where: (index) => `record ${index}` }));
        const parsed = inputs.map((input) => usageRecordSchema.safeParse(input));
        const firstRefused = parsed.findIndex((result) => !result.success);
        if ('rows' in result) {
          expect(firstRefused).toBe(-1);
          result.rows.forEach((row, index) => {
            const data = parsed[index]?.data as Record<string, unknown>;
            expect(row).toStrictEqual({ ...data, source_system: 'claude_code', source_instance: data.source_instance === '' ? 'laptop' : data.source_instance });
          });
        } else {
          const issues = parsed[firstRefused]?.error?.issues ?? [];
          expect(result.error).toBe(`invalid usage record (record ${firstRefused}): ${formatIssues(issues).join('; ')}`);
        }
      }),
      { numRuns: 2_000 },
    );
  });

  it('with labels objects and texts shared between records, accepts and refuses exactly what the schema does, with its error', () => {
    let refused = 0;
    let accepted = 0;
    fc.assert(
      fc.property(sharedBatch, (inputs) => {
        const result = outcome(() => toUsageRows(inputs, { ...options, where: (index) => `record ${index}` }));
        const parsed = inputs.map((input) => usageRecordSchema.safeParse(input));
        const firstRefused = parsed.findIndex((result) => !result.success);
        if ('rows' in result) {
          accepted += 1;
          expect(firstRefused).toBe(-1);
          result.rows.forEach((row, index) => {
            const data = parsed[index]?.data as Record<string, unknown>;
            expect(row).toStrictEqual({ ...data, source_system: 'claude_code', source_instance: data.source_instance === '' ? 'laptop' : data.source_instance });
          });
        } else {
          refused += 1;
          const issues = parsed[firstRefused]?.error?.issues ?? [];
          expect(result.error).toBe(`invalid usage record (record ${firstRefused}): ${formatIssues(issues).join('; ')}`);
        }
      }),
      { numRuns: 3_000 },
    );
    expect(accepted).toBeGreaterThan(100);
    expect(refused).toBeGreaterThan(100);
  });

  it('does not let what one record taught it pass a later record that breaks a rule', () => {
    const good = { granularity: 'hour', bucket_start: new Date('2025-03-14T10:00:00Z'), provider: 'anthropic', model: 'm', labels: { session: 's' }, measurement_basis: 'exact' };
    const later = [
      { ...good, model: 'm\u0000' },
      { ...good, labels: { session: 's\u0000' } },
      { ...good, labels: { 'session\u0000': 's' } },
      { ...good, labels: { session: 's', extra: 1 } },
      { ...good, extra: 1 },
      { ...good, input_tokens: -1 },
      { ...good, bucket_start: new Date('2025-03-14T10:30:00Z') },
    ];
    for (const bad of later) {
      expect(() => toUsageRows([good, good, bad], { ...options, where: (index) => `record ${index}` })).toThrow(/\(record 2\)/);
    }
  });

  it('asks where a record came from only for the record it refuses', () => {
    const asked: number[] = [];
    const good = { granularity: 'hour', bucket_start: new Date('2025-03-14T10:00:00Z'), provider: 'anthropic', model: 'm', measurement_basis: 'exact' };
    expect(toUsageRows([good, good], { ...options, where: (index) => String(asked.push(index)) })).toHaveLength(2);
    expect(() => toUsageRows([good, { ...good, model: 7 }], { ...options, where: (index) => String(asked.push(index)) })).toThrow(/model/);
    expect(asked).toEqual([1]);
  });
});
