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

// What a raw row counts as, shared by the roll-up triggers' statements (usage-rollup.ts) and the partial days here,
// so the maintained tables and the sums over raw rows cannot drift apart.
export const ROW_TOKENS =
  'COALESCE(input_tokens, 0) + COALESCE(cached_read_tokens, 0) + COALESCE(cached_write_tokens, 0) + COALESCE(output_tokens, 0)';
export const UNPRICED = `(cost_usd IS NULL AND ${ROW_TOKENS} > 0)`;
export const FIXED = "COALESCE(cost_source = 'fixed', false)";
/** Usage a flat fee already pays for (label billing=subscription), never the fee itself. */
export const COVERED = "(cost_source IS DISTINCT FROM 'fixed' AND COALESCE(labels->>'billing', '') = 'subscription')";

/**
 * The raw rows of one day and key as the daily table would count them:
 * aggregates over the columns themselves (sum and count skip NULLs), so the
 * partial days at the ends of a range reach the outer sum already grouped,
 * rather than one expression row per raw row.
 */
const RAW_AS_DAILY: Readonly<Record<(typeof DAILY_VALUE_COLUMNS)[number], string>> = {
  row_count: 'count(*)',
  input_tokens: 'COALESCE(sum(input_tokens), 0)::bigint',
  input_tokens_rows: 'count(input_tokens)',
  output_tokens: 'COALESCE(sum(output_tokens), 0)::bigint',
  output_tokens_rows: 'count(output_tokens)',
  cached_read_tokens: 'COALESCE(sum(cached_read_tokens), 0)::bigint',
  cached_read_tokens_rows: 'count(cached_read_tokens)',
  cached_write_tokens: 'COALESCE(sum(cached_write_tokens), 0)::bigint',
  cached_write_tokens_rows: 'count(cached_write_tokens)',
  cached_write_1h_tokens: 'COALESCE(sum(cached_write_1h_tokens), 0)::bigint',
  cached_write_1h_tokens_rows: 'count(cached_write_1h_tokens)',
  reasoning_tokens: 'COALESCE(sum(reasoning_tokens), 0)::bigint',
  reasoning_tokens_rows: 'count(reasoning_tokens)',
  requests: 'COALESCE(sum(requests), 0)::bigint',
  requests_rows: 'count(requests)',
  cost_usd: 'COALESCE(sum(cost_usd), 0)',
  cost_rows: 'count(cost_usd)',
  unpriced_rows: `count(*) FILTER (WHERE ${UNPRICED})`,
  unpriced_tokens: `COALESCE(sum(${ROW_TOKENS}) FILTER (WHERE ${UNPRICED}), 0)::bigint`,
  cache_reporting_input_tokens:
    'COALESCE(sum(COALESCE(input_tokens, 0) + cached_read_tokens + COALESCE(cached_write_tokens, 0)) FILTER (WHERE cached_read_tokens IS NOT NULL), 0)::bigint',
  flat_fee_usd: `COALESCE(sum(cost_usd) FILTER (WHERE ${FIXED}), 0)`,
  flat_fee_rows: `count(cost_usd) FILTER (WHERE ${FIXED})`,
  covered_usd: `COALESCE(sum(cost_usd) FILTER (WHERE ${COVERED}), 0)`,
  covered_rows: `count(cost_usd) FILTER (WHERE ${COVERED})`,
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
  const rawValues = DAILY_VALUE_COLUMNS.map((column) => `${RAW_AS_DAILY[column]} AS ${column}`).join(', ');
  // One branch per partial day, its day a constant: the planner then expects a
  // few groups and hashes them, where a day computed per row made it expect a
  // group per row and sort them all by their text keys first.
  const edge = (day: string, from: string, to: string) => `SELECT ${day}, granularity, source_system, source_instance, provider, model, ${rawValues}
     FROM ${tables.tokenUsage}
     WHERE bucket_start >= ${from} AND bucket_start < ${to} AND (${filter})
     GROUP BY granularity, source_system, source_instance, provider, model`;
  return `SELECT ${DAILY_KEY_COLUMNS.join(', ')}, ${values}
     FROM ${tables.tokenUsageDaily}
     WHERE day_start >= ${firstMidnight} AND day_start < ${lastMidnight} AND (${filter})
   UNION ALL
   ${edge(floorDay(lo), lo, `LEAST(${firstMidnight}, ${hi})`)}
   UNION ALL
   ${edge(lastMidnight, `GREATEST(${firstMidnight}, ${lastMidnight})`, hi)}`;
}

/** A total as the raw SUM would give it: NULL when no row knew the counter (invariant 2). */
export function knownSum(column: string): string {
  return `CASE WHEN sum(${column}_rows) > 0 THEN sum(${column}) END`;
}
