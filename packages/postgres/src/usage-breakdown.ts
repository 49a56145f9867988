import { storeTables } from './schema-name';
import { StoreArgumentError } from './store-argument-error';
import type { UsageStore } from './usage-store';

/** What a breakdown can group by. `source` is source_system plus the instance; `machine` is source_instance; `project` the `project` label. */
export const USAGE_DIMENSIONS = ['source', 'source_system', 'provider', 'model', 'account', 'api_key', 'user', 'machine', 'project'] as const;
export type UsageDimension = (typeof USAGE_DIMENSIONS)[number];

// Whitelisted SQL expressions: grouping columns cannot be bind parameters.
const DIMENSION_SQL: Record<UsageDimension, string> = {
  source: "source_system || CASE WHEN source_instance <> '' THEN '/' || source_instance ELSE '' END",
  source_system: 'source_system',
  provider: 'provider',
  model: 'model',
  account: 'account',
  api_key: 'api_key',
  user: 'user_id',
  machine: 'source_instance',
  project: "COALESCE(labels->>'project', '')",
};

/** The rows a breakdown or series reads. Lists are OR-ed within a field and AND-ed across fields; an empty list is no filter. */
export type UsageFilter = {
  /** Earliest local time included, as an instant (the start of a day in the reporting time zone). */
  readonly since?: Date;
  /** Latest instant excluded: [since, until). */
  readonly until?: Date;
  readonly sourceSystems?: readonly string[];
  readonly providers?: readonly string[];
  readonly models?: readonly string[];
  readonly accounts?: readonly string[];
  readonly users?: readonly string[];
};

export type UsageBreakdownQuery = UsageFilter & {
  readonly by: readonly UsageDimension[];
  /** Also group by day or month in `timeZone`; omitted: one row per group over the whole range. */
  readonly period?: 'day' | 'month';
  /**
   * IANA zone for day and month boundaries (default UTC). Rows of month
   * granularity (flat fees) belong to their UTC month wherever the reader is:
   * a July fee stays in July.
   */
  readonly timeZone?: string;
};

/**
 * Totals of one group (and period). A token counter is null when no row
 * reported it (invariant 2). Money is exact decimal text, split three ways so
 * a flat fee and the usage it covers are never added together:
 * `meteredUsd` is usage priced per token and billed as such, `flatFeeUsd` what
 * subscriptions cost (cost_source 'fixed'), `coveredUsd` the API-equivalent
 * value of usage a subscription already pays for (label billing=subscription).
 * Spend is metered + flat fee.
 */
export type UsageBreakdownRow = {
  /** `YYYY-MM-DD` or `YYYY-MM` in the time zone; null without a period. */
  readonly period: string | null;
  /** One value per requested dimension, in order ('' = not applicable). */
  readonly groups: readonly string[];
  readonly inputTokens: number | null;
  readonly outputTokens: number | null;
  readonly cachedReadTokens: number | null;
  readonly cachedWriteTokens: number | null;
  readonly cachedWrite1hTokens: number | null;
  readonly reasoningTokens: number | null;
  readonly requests: number | null;
  /**
   * input + cache read + cache write of the rows that report cache reads: the
   * denominator of a cache hit ratio, so a source without cache data cannot
   * dilute it. Null when no row reports cache reads.
   */
  readonly cacheReportingInputTokens: number | null;
  readonly spendUsd: string | null;
  readonly meteredUsd: string | null;
  readonly flatFeeUsd: string | null;
  readonly coveredUsd: string | null;
  /** Rows with tokens and no cost: spend none of the sums above include. */
  readonly unpricedRows: number;
  readonly unpricedTokens: number;
  readonly rowCount: number;
};

const ROW_TOKENS =
  'COALESCE(input_tokens, 0) + COALESCE(cached_read_tokens, 0) + COALESCE(cached_write_tokens, 0) + COALESCE(output_tokens, 0)';
// Never NULL, so NOT (COVERED) keeps every other row.
const COVERED = "(cost_source IS DISTINCT FROM 'fixed' AND COALESCE(labels->>'billing', '') = 'subscription')";

type BreakdownSqlRow = {
  period: string | null;
  input_tokens: number | null;
  output_tokens: number | null;
  cached_read_tokens: number | null;
  cached_write_tokens: number | null;
  cached_write_1h_tokens: number | null;
  reasoning_tokens: number | null;
  requests: number | null;
  cache_reporting_input_tokens: number | null;
  spend_usd: string | null;
  metered_usd: string | null;
  flat_fee_usd: string | null;
  covered_usd: string | null;
  unpriced_rows: number;
  unpriced_tokens: number;
  row_count: number;
} & Record<`g${number}`, string>;

/** Checks an IANA time zone name; PostgreSQL would otherwise fail the query with a less helpful message. */
export function validateTimeZone(timeZone: string, argument = 'timeZone'): string {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone });
  } catch {
    throw new StoreArgumentError({ argument, message: 'must be an IANA time zone name such as UTC or Europe/Berlin' });
  }
  return timeZone;
}

/**
 * Token and money totals of token_usage grouped by any of USAGE_DIMENSIONS,
 * optionally per day or month in a reporting time zone. Every token bucket is
 * kept apart, unpriced usage is counted beside the money rather than as $0,
 * and flat fees are kept apart from the usage they cover.
 */
export async function usageBreakdown(store: UsageStore, query: UsageBreakdownQuery): Promise<UsageBreakdownRow[]> {
  const tables = storeTables(store.schema);
  for (const dimension of query.by) {
    if (!(USAGE_DIMENSIONS as readonly string[]).includes(dimension)) {
      throw new StoreArgumentError({ argument: 'query.by', message: `must list only ${USAGE_DIMENSIONS.join(', ')}` });
    }
  }
  if (query.period !== undefined && query.period !== 'day' && query.period !== 'month') {
    throw new StoreArgumentError({ argument: 'query.period', message: 'must be day or month' });
  }
  const timeZone = validateTimeZone(query.timeZone ?? 'UTC', 'query.timeZone');
  const params: unknown[] = [timeZone];
  // Month rows stay in their UTC month; other rows move to the reader's zone.
  const localTime = `(CASE WHEN granularity = 'month' THEN bucket_start AT TIME ZONE 'UTC' ELSE bucket_start AT TIME ZONE $1::text END)`;
  const conditions = filterConditions(query, params, localTime);
  const groups = query.by.map((dimension, index) => `${DIMENSION_SQL[dimension]} AS g${index}`);
  const periodSql =
    query.period === undefined
      ? 'NULL::text'
      : `to_char(date_trunc('${query.period}', ${localTime}), '${query.period === 'day' ? 'YYYY-MM-DD' : 'YYYY-MM'}')`;
  const groupBy = ['1', ...query.by.map((_, index) => String(index + 3))];
  const unpriced = `cost_usd IS NULL AND ${ROW_TOKENS} > 0`;
  const rows = await store.client.query<BreakdownSqlRow>(
    // $1 (the zone) is selected too, so the statement names it even without a period.
    `SELECT ${periodSql} AS period, $1::text AS time_zone,
            ${[...groups, ''].join(',\n            ')}
            SUM(input_tokens)::bigint AS input_tokens,
            SUM(output_tokens)::bigint AS output_tokens,
            SUM(cached_read_tokens)::bigint AS cached_read_tokens,
            SUM(cached_write_tokens)::bigint AS cached_write_tokens,
            SUM(cached_write_1h_tokens)::bigint AS cached_write_1h_tokens,
            SUM(reasoning_tokens)::bigint AS reasoning_tokens,
            SUM(requests)::bigint AS requests,
            SUM(COALESCE(input_tokens, 0) + cached_read_tokens + COALESCE(cached_write_tokens, 0))::bigint AS cache_reporting_input_tokens,
            SUM(cost_usd) FILTER (WHERE NOT (${COVERED}))::text AS spend_usd,
            SUM(cost_usd) FILTER (WHERE cost_source IS DISTINCT FROM 'fixed' AND NOT (${COVERED}))::text AS metered_usd,
            SUM(cost_usd) FILTER (WHERE cost_source = 'fixed')::text AS flat_fee_usd,
            SUM(cost_usd) FILTER (WHERE ${COVERED})::text AS covered_usd,
            COUNT(*) FILTER (WHERE ${unpriced}) AS unpriced_rows,
            COALESCE(SUM(${ROW_TOKENS}) FILTER (WHERE ${unpriced}), 0)::bigint AS unpriced_tokens,
            COUNT(*) AS row_count
     FROM ${tables.tokenUsage}
     ${conditions.length > 0 ? `WHERE ${conditions.join('\n       AND ')}` : ''}
     GROUP BY ${groupBy.join(', ')}
     ORDER BY ${groupBy.join(', ')}`,
    params,
  );
  return rows.map((row) => ({
    period: row.period,
    groups: query.by.map((_, index) => row[`g${index}`] ?? ''),
    inputTokens: row.input_tokens,
    outputTokens: row.output_tokens,
    cachedReadTokens: row.cached_read_tokens,
    cachedWriteTokens: row.cached_write_tokens,
    cachedWrite1hTokens: row.cached_write_1h_tokens,
    reasoningTokens: row.reasoning_tokens,
    requests: row.requests,
    cacheReportingInputTokens: row.cache_reporting_input_tokens,
    spendUsd: trimZeros(row.spend_usd),
    meteredUsd: trimZeros(row.metered_usd),
    flatFeeUsd: trimZeros(row.flat_fee_usd),
    coveredUsd: trimZeros(row.covered_usd),
    unpricedRows: Number(row.unpriced_rows),
    unpricedTokens: Number(row.unpriced_tokens),
    rowCount: Number(row.row_count),
  }));
}

function filterConditions(filter: UsageFilter, params: unknown[], localTime: string): string[] {
  const conditions: string[] = [];
  for (const field of ['since', 'until'] as const) {
    const value = filter[field];
    if (value !== undefined && (!(value instanceof Date) || Number.isNaN(value.getTime()))) {
      throw new StoreArgumentError({ argument: `query.${field}`, message: 'must be a valid Date' });
    }
  }
  if (filter.since && filter.until && !(filter.until > filter.since)) {
    throw new StoreArgumentError({ argument: 'query.until', message: 'must be after query.since' });
  }
  // A wide range on bucket_start itself lets the index narrow the scan; the
  // exact test then takes a month row when its month starts in the range
  // (read in the reporting zone), like every other bucket.
  if (filter.since) {
    params.push(filter.since);
    const index = params.length;
    conditions.push(`bucket_start >= $${index}::timestamptz - interval '1 day'`);
    conditions.push(
      `(CASE WHEN granularity = 'month' THEN ${localTime} >= ($${index}::timestamptz AT TIME ZONE $1::text) ELSE bucket_start >= $${index}::timestamptz END)`,
    );
  }
  if (filter.until) {
    params.push(filter.until);
    const index = params.length;
    conditions.push(`bucket_start < $${index}::timestamptz + interval '1 day'`);
    conditions.push(
      `(CASE WHEN granularity = 'month' THEN ${localTime} < $${index}::timestamptz AT TIME ZONE $1::text ELSE bucket_start < $${index}::timestamptz END)`,
    );
  }
  const lists: [keyof UsageFilter, string][] = [
    ['sourceSystems', 'source_system'],
    ['providers', 'provider'],
    ['models', 'model'],
    ['accounts', 'account'],
    ['users', 'user_id'],
  ];
  for (const [field, column] of lists) {
    const values = filter[field] as readonly string[] | undefined;
    if (values === undefined || values.length === 0) continue;
    if (!values.every((value) => typeof value === 'string')) {
      throw new StoreArgumentError({ argument: `query.${field}`, message: 'must be a list of strings' });
    }
    params.push([...values]);
    conditions.push(`${column} = ANY($${params.length}::text[])`);
  }
  return conditions;
}

/** NUMERIC sums keep the widest scale ("0.4200000000"); the value is the same without the trailing zeros. */
export function trimZeros(value: string | null): string | null {
  if (value === null || !value.includes('.')) return value;
  return value.replace(/0+$/, '').replace(/\.$/, '');
}
