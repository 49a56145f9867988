import { parseUsageRecord, type UsageRecord } from '@utt/core';
import { describeFailure, withConformanceHarness } from '../conformance/conformance-harness';
import type { ExpectedUsageRecord, UsageAdapterConformanceOptions } from '../usage-adapter-conformance-options';

const DIMENSIONS = ['granularity', 'provider', 'model', 'account', 'api_key', 'user_id', 'source_instance'] as const;
const VALUES = [
  'input_tokens',
  'output_tokens',
  'cached_read_tokens',
  'cached_write_tokens',
  'cached_write_1h_tokens',
  'reasoning_tokens',
  'requests',
  'cost_usd',
  'cost_source',
  'measurement_basis',
] as const;

const MISSING =
  'state one real provider response and the records it must become (option `expected: { response, records }`), worked out by hand from the ' +
  "provider's documentation: the shape checks cannot tell a cache-inclusive prompt count in input_tokens from a correct one";

/**
 * The adapter turns one stated, real response into the stated records. This
 * is the check that catches the most common mapping bug: a provider prompt
 * count that already includes cached tokens copied into input_tokens, so
 * cached tokens are counted (and priced) twice.
 */
export async function checkExpectedRecords(options: UsageAdapterConformanceOptions): Promise<string[]> {
  const expected = options.expected;
  if (!expected || expected.records.length === 0) return [MISSING];
  return withConformanceHarness(options, async (harness) => {
    const outcome = await harness.collect();
    if (!outcome.records) return [describeFailure(outcome)];
    const produced: UsageRecord[] = [];
    for (const input of outcome.records) {
      try {
        produced.push(parseUsageRecord(input));
      } catch {
        // Reported by the record schema check.
      }
    }
    const problems: string[] = [];
    for (const wanted of expected.records) {
      const label = describeExpected(wanted);
      const bucket = new Date(wanted.bucket_start).getTime();
      const matches = produced.filter(
        (record) =>
          record.bucket_start.getTime() === bucket &&
          DIMENSIONS.every((dimension) => wanted[dimension] === undefined || record[dimension] === wanted[dimension]) &&
          Object.entries(wanted.labels ?? {}).every(([name, value]) => record.labels[name] === value),
      );
      if (matches.length !== 1) {
        problems.push(`${expected.response}: ${label}: ${matches.length === 0 ? 'no record produced' : `${matches.length} records produced, expected one`}`);
        continue;
      }
      const record = matches[0]!;
      for (const column of VALUES) {
        if (!(column in wanted)) continue;
        const want = normalize(wanted[column]);
        const got = normalize(record[column]);
        if (want !== got) problems.push(`${expected.response}: ${label}: ${column} is ${got}, expected ${want}${hint(column, wanted, record)}`);
      }
    }
    return problems;
  });
}

function describeExpected(record: ExpectedUsageRecord): string {
  const at = new Date(record.bucket_start).toISOString();
  const labels = Object.entries(record.labels ?? {}).map(([name, value]) => `${name}=${value}`);
  return `${record.provider ? `${record.provider}/` : ''}${record.model} at ${at}${labels.length > 0 ? ` {${labels.join(', ')}}` : ''}`;
}

function normalize(value: unknown): string {
  if (value === undefined || value === null) return 'null';
  return String(value);
}

function hint(column: string, wanted: ExpectedUsageRecord, record: UsageRecord): string {
  if (column !== 'input_tokens' || record.input_tokens === null || wanted.input_tokens == null) return '';
  const cached = (record.cached_read_tokens ?? 0) + (record.cached_write_tokens ?? 0);
  if (cached > 0 && record.input_tokens === wanted.input_tokens + cached) {
    return ' (it equals expected input plus the cache columns: input_tokens must exclude cache reads and writes; subtract them when the provider counts them in its prompt total)';
  }
  return '';
}
