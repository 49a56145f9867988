import { StoreArgumentError } from './store-argument-error';
import { knownTotal, moneyTotal, type RollupColumn, usageRollupSql } from './usage-rollup';
import type { UsageStore } from './usage-store';

/** What a breakdown can group by. `source` is source_system plus the instance; `machine` is source_instance; `project` the `project` label. */
export const USAGE_DIMENSIONS = ['source', 'source_system', 'provider', 'model', 'account', 'api_key', 'user', 'machine', 'project'] as const;
export type UsageDimension = (typeof USAGE_DIMENSIONS)[number];

// Whitelisted SQL expressions over the roll-up's columns: grouping columns cannot be bind parameters.
const DIMENSION_SQL: Record<UsageDimension, string> = {
  source: "source_system || CASE WHEN source_instance <> '' THEN '/' || source_instance ELSE '' END",
  source_system: 'source_system',
  provider: 'provider',
  model: 'model',
  account: 'account',
  api_key: 'api_key',
  user: 'user_id',
  machine: 'source_instance',
  project: 'project',
};

const DIMENSION_COLUMNS: Record<UsageDimension, readonly RollupColumn[]> = {
  source: ['source_system', 'source_instance'],
  source_system: ['source_system'],
  provider: ['provider'],
  model: ['model'],
  account: ['account'],
  api_key: ['api_key'],
  user: ['user_id'],
  machine: ['source_instance'],
  project: ['project'],
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
  /** api_key values (ids or aliases, as stored). */
  readonly apiKeys?: readonly string[];
};

export type UsageBreakdownQuery = UsageFilter & {
  readonly by: readonly UsageDimension[];
  /** Also group by day or month in `timeZone`; omitted: one row per group over the whole range. */
  readonly period?: 'day' | 'month';
  /**
   * IANA zone for day and month boundaries (default UTC). Hourly rows count
   * by their local start; rows of day and month granularity (a provider's UTC
   * buckets, flat fees) keep their calendar date wherever the reader is, as
   * budgets count them: the row of the 15th stays on the 15th, a July fee in July.
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
 *
 * Whole local days come from the roll-ups the database keeps (the ones `utt
 * report` reads: token_usage_daily for UTC and the source, provider and model
 * dimensions, token_usage_daily_detail for the others and for a time zone
 * added with `addRollupTimeZone`), the partial days at either end from raw
 * rows: exactly the totals of the raw rows. A time zone no roll-up keeps is
 * answered from raw rows, correctly but slower.
 */
export async function usageBreakdown(store: UsageStore, query: UsageBreakdownQuery): Promise<UsageBreakdownRow[]> {
  for (const dimension of query.by) {
    if (!(USAGE_DIMENSIONS as readonly string[]).includes(dimension)) {
      throw new StoreArgumentError({ argument: 'query.by', message: `must list only ${USAGE_DIMENSIONS.join(', ')}` });
    }
  }
  if (query.period !== undefined && query.period !== 'day' && query.period !== 'month') {
    throw new StoreArgumentError({ argument: 'query.period', message: 'must be day or month' });
  }
  const timeZone = validateTimeZone(query.timeZone ?? 'UTC', 'query.timeZone');
  checkFilter(query);
  const where: Partial<Record<RollupColumn, readonly string[]>> = {
    source_system: query.sourceSystems,
    provider: query.providers,
    model: query.models,
    account: query.accounts,
    user_id: query.users,
    api_key: query.apiKeys,
  };
  const needs = [
    ...query.by.flatMap((dimension) => DIMENSION_COLUMNS[dimension]),
    ...(Object.keys(where) as RollupColumn[]).filter((column) => (where[column]?.length ?? 0) > 0),
  ];
  const usage = await usageRollupSql(store, { since: query.since, until: query.until, timeZone, needs, where });
  const groups = query.by.map((dimension, index) => `${DIMENSION_SQL[dimension]} AS g${index}`);
  // Grouped on the date (cheap to hash), formatted once per group.
  const periodKey = query.period === undefined ? 'NULL::date' : query.period === 'day' ? 'day' : "date_trunc('month', day)::date";
  const groupBy = ['1', ...query.by.map((_, index) => String(index + 2))];
  const aggregate = `SELECT ${periodKey} AS period_key,
            ${[...groups, ''].join(',\n            ')}
            ${knownTotal('input_tokens')}::bigint AS input_tokens,
            ${knownTotal('output_tokens')}::bigint AS output_tokens,
            ${knownTotal('cached_read_tokens')}::bigint AS cached_read_tokens,
            ${knownTotal('cached_write_tokens')}::bigint AS cached_write_tokens,
            ${knownTotal('cached_write_1h_tokens')}::bigint AS cached_write_1h_tokens,
            ${knownTotal('reasoning_tokens')}::bigint AS reasoning_tokens,
            ${knownTotal('requests')}::bigint AS requests,
            (CASE WHEN sum(cached_read_tokens_rows) > 0 THEN sum(cache_reporting_input_tokens) END)::bigint AS cache_reporting_input_tokens,
            ${moneyTotal('sum(cost_usd) - sum(covered_usd)', 'sum(cost_rows) - sum(covered_rows)')} AS spend_usd,
            ${moneyTotal('sum(cost_usd) - sum(covered_usd) - sum(flat_fee_usd)', 'sum(cost_rows) - sum(covered_rows) - sum(flat_fee_rows)')} AS metered_usd,
            ${moneyTotal('sum(flat_fee_usd)', 'sum(flat_fee_rows)')} AS flat_fee_usd,
            ${moneyTotal('sum(covered_usd)', 'sum(covered_rows)')} AS covered_usd,
            sum(unpriced_rows)::bigint AS unpriced_rows,
            sum(unpriced_tokens)::bigint AS unpriced_tokens,
            sum(row_count)::bigint AS row_count
     FROM (${usage.sql}) AS usage
     GROUP BY ${groupBy.join(', ')}
     HAVING sum(row_count) > 0`;
  const periodSql = query.period === undefined ? 'NULL::text' : `to_char(period_key, '${query.period === 'day' ? 'YYYY-MM-DD' : 'YYYY-MM'}')`;
  const rows = await store.client.query<BreakdownSqlRow>(
    `SELECT ${periodSql} AS period, grouped.* FROM (${aggregate}) AS grouped
     ORDER BY period_key${query.by.map((_, index) => `, g${index}`).join('')}`,
    usage.params,
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

function checkFilter(filter: UsageFilter): void {
  for (const field of ['since', 'until'] as const) {
    const value = filter[field];
    if (value !== undefined && (!(value instanceof Date) || Number.isNaN(value.getTime()))) {
      throw new StoreArgumentError({ argument: `query.${field}`, message: 'must be a valid Date' });
    }
  }
  if (filter.since && filter.until && !(filter.until > filter.since)) {
    throw new StoreArgumentError({ argument: 'query.until', message: 'must be after query.since' });
  }
  for (const field of ['sourceSystems', 'providers', 'models', 'accounts', 'users', 'apiKeys'] as const) {
    const values = filter[field];
    if (values !== undefined && !(Array.isArray(values) && values.every((value) => typeof value === 'string'))) {
      throw new StoreArgumentError({ argument: `query.${field}`, message: 'must be a list of strings' });
    }
  }
}

/** NUMERIC sums keep the widest scale ("0.4200000000"); the value is the same without the trailing zeros. */
export function trimZeros(value: string | null): string | null {
  if (value === null || !value.includes('.')) return value;
  return value.replace(/0+$/, '').replace(/\.$/, '');
}
