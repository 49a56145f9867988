import type { StoreTables } from './schema-name';
import type { SqlClient } from './sql-client';
import { StoreArgumentError } from './store-argument-error';
import { knownSum, usageDaysSql } from './usage-days';

export const REPORT_PERIODS = ['day', 'month'] as const;
export type ReportPeriod = (typeof REPORT_PERIODS)[number];

export const REPORT_GROUPINGS = ['source', 'provider', 'model', 'label'] as const;
export type ReportGrouping = (typeof REPORT_GROUPINGS)[number];

export type ReportQuery = {
  /** Earliest bucket_start included (inclusive). */
  readonly since?: Date;
  /** Latest bucket_start excluded (exclusive): [since, until). */
  readonly until?: Date;
  /** UTC day or UTC month. Month rows count on the first day of their month. */
  readonly period: ReportPeriod;
  /** 'source' groups by source_system and source_instance; 'label' by the value of one label (a tracker tag such as tenant). */
  readonly by: ReportGrouping;
  /** The label key for `by: 'label'` (rows without it group under ''). */
  readonly label?: string;
};

/** Totals for one period and one group. A counter is null when no row in the group reported it. */
export type ReportRow = {
  /** UTC start of the day or month. */
  readonly periodStart: Date;
  /** A label for the group: `source_system` or `source_system/source_instance`, the provider, or the model. */
  readonly key: string;
  /** Set when grouped by source. */
  readonly sourceSystem: string | null;
  /** Set when grouped by source ('' when the source has no instance). */
  readonly sourceInstance: string | null;
  /** Set when grouped by provider. */
  readonly provider: string | null;
  /** Set when grouped by model. */
  readonly model: string | null;
  /** The label's value when grouped by label. */
  readonly label: string | null;
  readonly inputTokens: number | null;
  readonly outputTokens: number | null;
  readonly cachedReadTokens: number | null;
  readonly cachedWriteTokens: number | null;
  readonly cachedWrite1hTokens: number | null;
  readonly reasoningTokens: number | null;
  readonly requests: number | null;
  /**
   * Spend: the exact decimal sum of the priced rows except usage a flat-fee
   * subscription covers (label billing=subscription), whose fee is counted
   * instead (as flatFeeUsd) — what was paid is never added twice. '0' when
   * every priced row is covered; null when no row is priced.
   */
  readonly costUsd: string | null;
  /** The flat fees (cost_source 'fixed') included in costUsd; null when there are none. */
  readonly flatFeeUsd: string | null;
  /**
   * The API-equivalent value of usage a subscription covers: what the same
   * tokens would cost on the API. Shown beside the spend, never added to it;
   * null when no such usage is priced.
   */
  readonly coveredUsd: string | null;
  /** Rows with tokens but no cost: spend the total above does not include. */
  readonly unpricedRows: number;
  /** input + cached_read + cached_write + output tokens of those rows. */
  readonly unpricedTokens: number;
  readonly rowCount: number;
};

type ReportSqlRow = {
  period_start: Date;
  source_system: string | null;
  source_instance: string | null;
  provider: string | null;
  model: string | null;
  label: string | null;
  input_tokens: number | null;
  output_tokens: number | null;
  cached_read_tokens: number | null;
  cached_write_tokens: number | null;
  cached_write_1h_tokens: number | null;
  reasoning_tokens: number | null;
  requests: number | null;
  cost_usd: string | null;
  flat_fee_usd: string | null;
  covered_usd: string | null;
  unpriced_rows: number;
  unpriced_tokens: number;
  row_count: number;
};

// Whitelisted SQL fragments: grouping columns cannot be bind parameters.
const GROUP_COLUMNS: Record<ReportGrouping, readonly string[]> = {
  source: ['source_system', 'source_instance'],
  provider: ['provider'],
  model: ['model'],
  label: ['label'],
};

const ALL_GROUP_COLUMNS = ['source_system', 'source_instance', 'provider', 'model'] as const;

/**
 * Sums token_usage per UTC period and group, from the daily roll-up the
 * database keeps (token_usage_daily, migration 0005) plus the raw rows of any
 * partial day at either end of the range: milliseconds over a year of hourly
 * rows, and exactly the totals of the raw rows. A counter no row reported
 * stays NULL instead of turning into 0 (invariant 2). Sums are BIGINT and cost
 * an exact NUMERIC read as a string, without trailing zeros.
 */
export async function report(client: SqlClient, tables: StoreTables, query: ReportQuery): Promise<ReportRow[]> {
  checkQuery(query);
  if (query.by === 'label') return reportByLabel(client, tables, query);
  const groupColumns = GROUP_COLUMNS[query.by];
  const selectedGroups = ALL_GROUP_COLUMNS.map((column) =>
    groupColumns.includes(column) ? column : `NULL::text AS ${column}`,
  );
  const rows = await client.query<ReportSqlRow>(
    `SELECT date_trunc('${query.period}', day_start AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' AS period_start,
            ${selectedGroups.join(', ')},
            ${knownSum('input_tokens')}::bigint AS input_tokens,
            ${knownSum('output_tokens')}::bigint AS output_tokens,
            ${knownSum('cached_read_tokens')}::bigint AS cached_read_tokens,
            ${knownSum('cached_write_tokens')}::bigint AS cached_write_tokens,
            ${knownSum('cached_write_1h_tokens')}::bigint AS cached_write_1h_tokens,
            ${knownSum('reasoning_tokens')}::bigint AS reasoning_tokens,
            ${knownSum('requests')}::bigint AS requests,
            trim_scale(CASE WHEN sum(cost_rows) > 0 THEN sum(cost_usd) - sum(covered_usd) END)::text AS cost_usd,
            trim_scale(CASE WHEN sum(flat_fee_rows) > 0 THEN sum(flat_fee_usd) END)::text AS flat_fee_usd,
            trim_scale(CASE WHEN sum(covered_rows) > 0 THEN sum(covered_usd) END)::text AS covered_usd,
            sum(unpriced_rows)::bigint AS unpriced_rows,
            sum(unpriced_tokens)::bigint AS unpriced_tokens,
            sum(row_count)::bigint AS row_count
     FROM (${usageDaysSql(tables, '$1::timestamptz', '$2::timestamptz')}) AS days
     GROUP BY 1, ${groupColumns.join(', ')}
     HAVING sum(row_count) > 0
     ORDER BY 1, ${groupColumns.join(', ')}`,
    [query.since ?? null, query.until ?? null],
  );
  return rows.map((row) => ({
    periodStart: row.period_start,
    key: groupKey(query.by, row),
    sourceSystem: row.source_system,
    sourceInstance: row.source_instance,
    provider: row.provider,
    model: row.model,
    label: null,
    inputTokens: row.input_tokens,
    outputTokens: row.output_tokens,
    cachedReadTokens: row.cached_read_tokens,
    cachedWriteTokens: row.cached_write_tokens,
    cachedWrite1hTokens: row.cached_write_1h_tokens,
    reasoningTokens: row.reasoning_tokens,
    requests: row.requests,
    costUsd: row.cost_usd,
    flatFeeUsd: row.flat_fee_usd,
    coveredUsd: row.covered_usd,
    unpricedRows: row.unpriced_rows,
    unpricedTokens: row.unpriced_tokens,
    rowCount: row.row_count,
  }));
}

const ROW_TOKENS =
  'COALESCE(input_tokens, 0) + COALESCE(cached_read_tokens, 0) + COALESCE(cached_write_tokens, 0) + COALESCE(output_tokens, 0)';
const COVERED = "(cost_source IS DISTINCT FROM 'fixed' AND COALESCE(labels->>'billing', '') = 'subscription')";

/**
 * Grouped by one label's value: labels are not a dimension of the daily
 * roll-up, so this reads the raw rows of the range (a tag report is usually
 * over a tracked application's weeks, not the whole ledger's year).
 */
async function reportByLabel(client: SqlClient, tables: StoreTables, query: ReportQuery): Promise<ReportRow[]> {
  const unpriced = `cost_usd IS NULL AND ${ROW_TOKENS} > 0`;
  const rows = await client.query<ReportSqlRow>(
    `SELECT date_trunc('${query.period}', bucket_start AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' AS period_start,
            COALESCE(labels->>$1, '') AS label,
            SUM(input_tokens)::bigint AS input_tokens,
            SUM(output_tokens)::bigint AS output_tokens,
            SUM(cached_read_tokens)::bigint AS cached_read_tokens,
            SUM(cached_write_tokens)::bigint AS cached_write_tokens,
            SUM(cached_write_1h_tokens)::bigint AS cached_write_1h_tokens,
            SUM(reasoning_tokens)::bigint AS reasoning_tokens,
            SUM(requests)::bigint AS requests,
            trim_scale(SUM(cost_usd) - COALESCE(SUM(cost_usd) FILTER (WHERE ${COVERED}), 0))::text AS cost_usd,
            trim_scale(SUM(cost_usd) FILTER (WHERE cost_source = 'fixed'))::text AS flat_fee_usd,
            trim_scale(SUM(cost_usd) FILTER (WHERE ${COVERED}))::text AS covered_usd,
            COUNT(*) FILTER (WHERE ${unpriced}) AS unpriced_rows,
            COALESCE(SUM(${ROW_TOKENS}) FILTER (WHERE ${unpriced}), 0)::bigint AS unpriced_tokens,
            COUNT(*) AS row_count
     FROM ${tables.tokenUsage}
     WHERE ($2::timestamptz IS NULL OR bucket_start >= $2) AND ($3::timestamptz IS NULL OR bucket_start < $3)
     GROUP BY 1, 2
     ORDER BY 1, 2`,
    [query.label as string, query.since ?? null, query.until ?? null],
  );
  return rows.map((row) => ({
    periodStart: row.period_start,
    key: row.label ?? '',
    sourceSystem: null,
    sourceInstance: null,
    provider: null,
    model: null,
    label: row.label,
    inputTokens: row.input_tokens,
    outputTokens: row.output_tokens,
    cachedReadTokens: row.cached_read_tokens,
    cachedWriteTokens: row.cached_write_tokens,
    cachedWrite1hTokens: row.cached_write_1h_tokens,
    reasoningTokens: row.reasoning_tokens,
    requests: row.requests,
    costUsd: row.cost_usd,
    flatFeeUsd: row.flat_fee_usd,
    coveredUsd: row.covered_usd,
    unpricedRows: row.unpriced_rows,
    unpricedTokens: row.unpriced_tokens,
    rowCount: row.row_count,
  }));
}

function groupKey(by: ReportGrouping, row: ReportSqlRow): string {
  switch (by) {
    case 'source':
      return row.source_instance ? `${row.source_system}/${row.source_instance}` : (row.source_system ?? '');
    case 'provider':
      return row.provider ?? '';
    case 'model':
      return row.model ?? '';
    case 'label':
      return row.label ?? '';
  }
}

function checkQuery(query: ReportQuery): void {
  if (!(REPORT_PERIODS as readonly string[]).includes(query.period)) {
    throw new StoreArgumentError({ argument: 'query.period', message: `must be one of ${REPORT_PERIODS.join(', ')}` });
  }
  if (!(REPORT_GROUPINGS as readonly string[]).includes(query.by)) {
    throw new StoreArgumentError({ argument: 'query.by', message: `must be one of ${REPORT_GROUPINGS.join(', ')}` });
  }
  if (query.by === 'label' && (typeof query.label !== 'string' || query.label === '')) {
    throw new StoreArgumentError({ argument: 'query.label', message: "required when grouping by 'label'" });
  }
  for (const field of ['since', 'until'] as const) {
    const value = query[field];
    if (value !== undefined && (!(value instanceof Date) || Number.isNaN(value.getTime()))) {
      throw new StoreArgumentError({ argument: `query.${field}`, message: 'must be a valid Date' });
    }
  }
  if (query.since && query.until && !(query.until > query.since)) {
    throw new StoreArgumentError({ argument: 'query.until', message: 'must be after query.since' });
  }
}
