import type { StoreTables } from './schema-name';

/** The sums and counts token_usage_daily keeps per day and key (migrations 0005 and 0009). */
export const DAILY_VALUE_COLUMNS = [
  'row_count',
  'input_tokens',
  'input_tokens_rows',
  'output_tokens',
  'output_tokens_rows',
  'cached_read_tokens',
  'cached_read_tokens_rows',
  'cached_write_tokens',
  'cached_write_tokens_rows',
  'cached_write_1h_tokens',
  'cached_write_1h_tokens_rows',
  'reasoning_tokens',
  'reasoning_tokens_rows',
  'requests',
  'requests_rows',
  'cost_usd',
  'cost_rows',
  'unpriced_rows',
  'unpriced_tokens',
  'cache_reporting_input_tokens',
  'flat_fee_usd',
  'flat_fee_rows',
  'covered_usd',
  'covered_rows',
] as const;

const DAILY_KEY_COLUMNS = ['day_start', 'granularity', 'source_system', 'source_instance', 'provider', 'model'] as const;

const ROW_TOKENS =
  'COALESCE(input_tokens, 0) + COALESCE(cached_read_tokens, 0) + COALESCE(cached_write_tokens, 0) + COALESCE(output_tokens, 0)';

const FIXED = "COALESCE(cost_source = 'fixed', false)";
// Usage a flat fee already pays for (label billing=subscription), never the fee itself.
const COVERED = "(cost_source IS DISTINCT FROM 'fixed' AND COALESCE(labels->>'billing', '') = 'subscription')";

/** One raw row as the daily table would count it. */
const RAW_AS_DAILY: Readonly<Record<(typeof DAILY_VALUE_COLUMNS)[number], string>> = {
  row_count: '1',
  input_tokens: 'COALESCE(input_tokens, 0)',
  input_tokens_rows: '(input_tokens IS NOT NULL)::int',
  output_tokens: 'COALESCE(output_tokens, 0)',
  output_tokens_rows: '(output_tokens IS NOT NULL)::int',
  cached_read_tokens: 'COALESCE(cached_read_tokens, 0)',
  cached_read_tokens_rows: '(cached_read_tokens IS NOT NULL)::int',
  cached_write_tokens: 'COALESCE(cached_write_tokens, 0)',
  cached_write_tokens_rows: '(cached_write_tokens IS NOT NULL)::int',
  cached_write_1h_tokens: 'COALESCE(cached_write_1h_tokens, 0)',
  cached_write_1h_tokens_rows: '(cached_write_1h_tokens IS NOT NULL)::int',
  reasoning_tokens: 'COALESCE(reasoning_tokens, 0)',
  reasoning_tokens_rows: '(reasoning_tokens IS NOT NULL)::int',
  requests: 'COALESCE(requests, 0)',
  requests_rows: '(requests IS NOT NULL)::int',
  cost_usd: 'COALESCE(cost_usd, 0)',
  cost_rows: '(cost_usd IS NOT NULL)::int',
  unpriced_rows: `(cost_usd IS NULL AND ${ROW_TOKENS} > 0)::int`,
  unpriced_tokens: `CASE WHEN cost_usd IS NULL AND ${ROW_TOKENS} > 0 THEN ${ROW_TOKENS} ELSE 0 END`,
  cache_reporting_input_tokens:
    'CASE WHEN cached_read_tokens IS NOT NULL THEN COALESCE(input_tokens, 0) + cached_read_tokens + COALESCE(cached_write_tokens, 0) ELSE 0 END',
  flat_fee_usd: `CASE WHEN ${FIXED} THEN COALESCE(cost_usd, 0) ELSE 0 END`,
  flat_fee_rows: `(cost_usd IS NOT NULL AND ${FIXED})::int`,
  covered_usd: `CASE WHEN ${COVERED} THEN COALESCE(cost_usd, 0) ELSE 0 END`,
  covered_rows: `(cost_usd IS NOT NULL AND ${COVERED})::int`,
};

/**
 * The usage of [since, until) per UTC day and daily key, as rows shaped like
 * token_usage_daily: whole days read from token_usage_daily, the partial days
 * at either end (a range not on UTC midnight) from token_usage through its
 * bucket_start index. Summing these rows gives exactly what summing the raw
 * rows gives. `since` and `until` are SQL expressions of type timestamptz,
 * NULL for an open end (usually bind parameters); `rawFilter` and
 * `dailyFilter` are extra conditions (on columns both tables have).
 */
export function usageDaysSql(tables: StoreTables, since: string, until: string, filter = 'true'): string {
  const lo = `COALESCE(${since}, '-infinity'::timestamptz)`;
  const hi = `COALESCE(${until}, 'infinity'::timestamptz)`;
  const floorDay = (value: string) => `(date_trunc('day', ${value} AT TIME ZONE 'UTC') AT TIME ZONE 'UTC')`;
  // The first midnight at or after `since`, and the last at or before `until`.
  const firstMidnight = `(CASE WHEN ${floorDay(lo)} = ${lo} THEN ${lo} ELSE ${floorDay(lo)} + interval '1 day' END)`;
  const lastMidnight = floorDay(hi);
  const values = DAILY_VALUE_COLUMNS.join(', ');
  return `SELECT ${DAILY_KEY_COLUMNS.join(', ')}, ${values}
     FROM ${tables.tokenUsageDaily}
     WHERE day_start >= ${firstMidnight} AND day_start < ${lastMidnight} AND (${filter})
   UNION ALL
   SELECT ${floorDay('bucket_start')}, granularity, source_system, source_instance, provider, model,
          ${DAILY_VALUE_COLUMNS.map((column) => `${RAW_AS_DAILY[column]} AS ${column}`).join(', ')}
     FROM ${tables.tokenUsage}
     WHERE ((bucket_start >= ${lo} AND bucket_start < LEAST(${firstMidnight}, ${hi}))
         OR (bucket_start >= GREATEST(${firstMidnight}, ${lastMidnight}) AND bucket_start < ${hi}))
       AND (${filter})`;
}

/** A total as the raw SUM would give it: NULL when no row knew the counter (invariant 2). */
export function knownSum(column: string): string {
  return `CASE WHEN sum(${column}_rows) > 0 THEN sum(${column}) END`;
}
