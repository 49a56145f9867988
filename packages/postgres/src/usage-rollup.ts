import { type StoreTables, storeTables } from './schema-name';
import type { SqlClient } from './sql-client';
import { StoreArgumentError } from './store-argument-error';
import { validateTimeZone } from './usage-breakdown';
import { COVERED, DAILY_VALUE_COLUMNS, FIXED, ROW_TOKENS, UNPRICED } from './usage-days';
import type { UsageStore } from './usage-store';

/**
 * Where a range of usage is read from, in one shape: whole local days from a
 * roll-up the database keeps (migrations 0005 and 0009), the partial days at
 * either end and anything no roll-up covers from token_usage. Summing the
 * rows of `usageRollupSql` gives exactly what summing the raw rows gives.
 *
 * Every row has these columns: `day` (an hourly row's local date in the time
 * zone; a day or month row's own UTC date), the dimensions, `project`,
 * `cost_source` / `unpriced_reason` ('' for NULL), `price_source`,
 * `measurement_basis`, and the value columns of DAILY_VALUE_COLUMNS (usage-days.ts). The
 * dimensions a roll-up does not keep are '' (ask for them in `needs`).
 */
type ValueColumn = (typeof DAILY_VALUE_COLUMNS)[number];

/** The columns a query can group or filter on. token_usage_daily keeps only the first four. */
export const ROLLUP_DIMENSION_COLUMNS = [
  'source_system',
  'source_instance',
  'provider',
  'model',
  'account',
  'api_key',
  'user_id',
  'project',
  'cost_source',
  'price_source',
  'measurement_basis',
  'unpriced_reason',
] as const;
export type RollupColumn = (typeof ROLLUP_DIMENSION_COLUMNS)[number];

const DAILY_COLUMNS: readonly RollupColumn[] = ['source_system', 'source_instance', 'provider', 'model'];
const BY_USER_COLUMNS: readonly RollupColumn[] = [...DAILY_COLUMNS, 'account', 'user_id', 'project'];


/** One raw token_usage row in the roll-up's shape. */
const RAW_VALUES: Readonly<Record<ValueColumn, string>> = {
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
  cache_reporting_input_tokens:
    'CASE WHEN cached_read_tokens IS NOT NULL THEN COALESCE(input_tokens, 0) + cached_read_tokens + COALESCE(cached_write_tokens, 0) ELSE 0 END',
  cost_usd: 'COALESCE(cost_usd, 0)',
  cost_rows: '(cost_usd IS NOT NULL)::int',
  flat_fee_usd: `CASE WHEN ${FIXED} THEN COALESCE(cost_usd, 0) ELSE 0 END`,
  flat_fee_rows: `(cost_usd IS NOT NULL AND ${FIXED})::int`,
  covered_usd: `CASE WHEN ${COVERED} THEN COALESCE(cost_usd, 0) ELSE 0 END`,
  covered_rows: `(cost_usd IS NOT NULL AND ${COVERED})::int`,
  unpriced_rows: `${UNPRICED}::int`,
  unpriced_tokens: `CASE WHEN ${UNPRICED} THEN ${ROW_TOKENS} ELSE 0 END`,
};

const RAW_DIMENSIONS: Readonly<Record<RollupColumn, string>> = {
  source_system: 'source_system',
  source_instance: 'source_instance',
  provider: 'provider',
  model: 'model',
  account: 'account',
  api_key: 'api_key',
  user_id: 'user_id',
  project: "COALESCE(labels->>'project', '')",
  cost_source: "COALESCE(cost_source, '')",
  price_source: "COALESCE(substring(price_ref from '^[^@:;]+'), '')",
  measurement_basis: 'measurement_basis',
  unpriced_reason: "COALESCE(unpriced_reason, '')",
};

/** token_usage_daily_by_user's flags turned into the shared value columns. */
const BY_USER_VALUES: Partial<Record<ValueColumn, string>> = {
  flat_fee_usd: 'CASE WHEN flat_fee THEN cost_usd ELSE 0 END',
  flat_fee_rows: 'CASE WHEN flat_fee THEN cost_rows ELSE 0 END',
  covered_usd: 'CASE WHEN subscription_billing AND NOT flat_fee THEN cost_usd ELSE 0 END',
  covered_rows: 'CASE WHEN subscription_billing AND NOT flat_fee THEN cost_rows ELSE 0 END',
};

/** token_usage_daily_detail's split columns turned into the shared value columns. */
const DETAIL_VALUES: Partial<Record<ValueColumn, string>> = {
  flat_fee_usd: "CASE WHEN cost_source = 'fixed' THEN cost_usd ELSE 0 END",
  flat_fee_rows: "CASE WHEN cost_source = 'fixed' THEN cost_rows ELSE 0 END",
  covered_usd: "CASE WHEN subscription_billing AND cost_source <> 'fixed' THEN cost_usd ELSE 0 END",
  covered_rows: "CASE WHEN subscription_billing AND cost_source <> 'fixed' THEN cost_rows ELSE 0 END",
};

export type UsageRollupQuery = {
  /** [since, until) on bucket_start; either end may be open. */
  readonly since?: Date;
  readonly until?: Date;
  /**
   * Days are local dates in this (validated) zone; a day or month row (a UTC
   * bucket) keeps its calendar date, and is in the range when that date's
   * midnight (read as a local time) is inside it. In UTC that is plainly
   * bucket_start in [since, until).
   */
  readonly timeZone: string;
  /** Columns the caller groups or filters on: decides which roll-up can answer. */
  readonly needs: readonly RollupColumn[];
  /** Value lists, OR-ed within a column and AND-ed across columns; an empty list is no filter. */
  readonly where?: Partial<Record<RollupColumn, readonly string[]>>;
};

export type UsageRollupSql = {
  /** A SELECT to use as a subquery. */
  readonly sql: string;
  readonly params: unknown[];
  /** What answered the whole days: token_usage_daily, token_usage_daily_by_user or _detail, or only raw rows. */
  readonly source: 'daily' | 'by_user' | 'detail' | 'raw';
};

/**
 * The rows of a range, for `SELECT … FROM (sql) AS usage GROUP BY …`.
 * The smallest roll-up that has every column the query needs answers: UTC
 * queries over the four daily columns read token_usage_daily; others, in a
 * zone kept in token_usage_rollup_zones, token_usage_daily_by_user (no API
 * key, no price columns) or token_usage_daily_detail; anything else the raw rows.
 */
export async function usageRollupSql(store: UsageStore, query: UsageRollupQuery): Promise<UsageRollupSql> {
  const tables = storeTables(store.schema);
  const params: unknown[] = [query.timeZone];
  const zone = '$1::text';
  const param = (value: unknown) => `$${params.push(value)}`;

  let source: UsageRollupSql['source'] = 'raw';
  if (query.timeZone === 'UTC' && query.needs.every((column) => DAILY_COLUMNS.includes(column))) {
    source = 'daily';
  } else {
    const [kept] = await store.client.query<{ kept: boolean }>(
      `SELECT EXISTS (SELECT 1 FROM ${tables.tokenUsageRollupZones} WHERE time_zone = $1) AS kept`,
      [query.timeZone],
    );
    if (kept?.kept) source = query.needs.every((column) => BY_USER_COLUMNS.includes(column)) ? 'by_user' : 'detail';
  }

  // The whole local days inside [since, until): [firstDay, lastDay), and the instants they start.
  const [bounds] = await store.client.query<{ first_day: string | null; last_day: string | null; first_at: Date | null; last_at: Date | null }>(
    `SELECT first_day::text AS first_day, last_day::text AS last_day,
            first_day::timestamp AT TIME ZONE $1::text AS first_at, last_day::timestamp AT TIME ZONE $1::text AS last_at
     FROM (SELECT CASE WHEN date_trunc('day', $2::timestamptz AT TIME ZONE $1::text) = $2::timestamptz AT TIME ZONE $1::text
                       THEN ($2::timestamptz AT TIME ZONE $1::text)::date
                       ELSE ($2::timestamptz AT TIME ZONE $1::text)::date + 1 END AS first_day,
                  ($3::timestamptz AT TIME ZONE $1::text)::date AS last_day) AS bounds`,
    [query.timeZone, query.since ?? null, query.until ?? null],
  );
  const firstDay = bounds?.first_day ?? null;
  const lastDay = bounds?.last_day ?? null;
  if (firstDay !== null && lastDay !== null && firstDay >= lastDay) source = 'raw';

  const lists = (columnSql: (column: RollupColumn) => string): string[] =>
    Object.entries(query.where ?? {}).flatMap(([column, values]) =>
      values === undefined || values.length === 0 ? [] : [`${columnSql(column as RollupColumn)} = ANY(${param([...values])}::text[])`],
    );

  // Hourly rows move to the reader's zone; a provider's day and month rows (UTC buckets) keep their calendar date,
  // the one its invoice names them by and budgets count them on (0020).
  const rawDay = `(CASE WHEN granularity = 'hour' THEN (bucket_start AT TIME ZONE ${zone})::date ELSE (bucket_start AT TIME ZONE 'UTC')::date END)`;
  const localTime = `(CASE WHEN granularity = 'hour' THEN bucket_start AT TIME ZONE ${zone} ELSE bucket_start AT TIME ZONE 'UTC' END)`;
  // Built only where a raw part is used, so every parameter pushed is named in the statement.
  const rawConditions = (): string[] => {
    const conditions = lists((column) => RAW_DIMENSIONS[column]);
    // A wide range on bucket_start lets the index narrow the scan; the exact test follows.
    if (query.since) {
      const since = param(query.since);
      conditions.push(
        `bucket_start >= ${since}::timestamptz - interval '1 day'`,
        `(CASE WHEN granularity <> 'hour' THEN ${localTime} >= (${since}::timestamptz AT TIME ZONE ${zone}) ELSE bucket_start >= ${since}::timestamptz END)`,
      );
    }
    if (query.until) {
      const until = param(query.until);
      conditions.push(
        `bucket_start < ${until}::timestamptz + interval '1 day'`,
        `(CASE WHEN granularity <> 'hour' THEN ${localTime} < (${until}::timestamptz AT TIME ZONE ${zone}) ELSE bucket_start < ${until}::timestamptz END)`,
      );
    }
    return conditions;
  };

  const rawSelect = (conditions: readonly string[]) =>
    `SELECT ${rawDay} AS day, ${ROLLUP_DIMENSION_COLUMNS.map((column) => `${RAW_DIMENSIONS[column]} AS ${column}`).join(', ')},
            ${DAILY_VALUE_COLUMNS.map((column) => `${RAW_VALUES[column]} AS ${column}`).join(', ')}
     FROM ${tables.tokenUsage}
     WHERE ${conditions.length > 0 ? conditions.join(' AND ') : 'true'}`;

  if (source === 'raw') return { sql: rawSelect(rawConditions()), params, source };

  const wholeDays = (dayColumn: string) => [
    ...(firstDay === null ? [] : [`${dayColumn} >= ${param(firstDay)}::date`]),
    ...(lastDay === null ? [] : [`${dayColumn} < ${param(lastDay)}::date`]),
  ];
  let rollupSelect: string;
  if (source === 'daily') {
    const day = "(day_start AT TIME ZONE 'UTC')::date";
    // The zone is always UTC here; naming it keeps $1 in the statement.
    const conditions = [`${zone} = 'UTC'`, ...wholeDays(day), ...lists((column) => column)];
    rollupSelect = `SELECT ${day} AS day, ${ROLLUP_DIMENSION_COLUMNS.map((column) =>
      DAILY_COLUMNS.includes(column) ? column : `''::text AS ${column}`,
    ).join(', ')}, ${DAILY_VALUE_COLUMNS.join(', ')}
     FROM ${tables.tokenUsageDaily}
     WHERE ${conditions.join(' AND ')}`;
  } else if (source === 'by_user') {
    const conditions = [`time_zone = ${zone}`, ...wholeDays('day'), ...lists((column) => column)];
    rollupSelect = `SELECT day, ${ROLLUP_DIMENSION_COLUMNS.map((column) => (BY_USER_COLUMNS.includes(column) ? column : `''::text AS ${column}`)).join(', ')},
            ${DAILY_VALUE_COLUMNS.map((column) => (BY_USER_VALUES[column] ? `${BY_USER_VALUES[column]} AS ${column}` : column)).join(', ')}
     FROM ${tables.tokenUsageDailyByUser}
     WHERE ${conditions.join(' AND ')}`;
  } else {
    const conditions = [`time_zone = ${zone}`, ...wholeDays('day'), ...lists((column) => column)];
    rollupSelect = `SELECT day, ${ROLLUP_DIMENSION_COLUMNS.join(', ')},
            ${DAILY_VALUE_COLUMNS.map((column) => (DETAIL_VALUES[column] ? `${DETAIL_VALUES[column]} AS ${column}` : column)).join(', ')}
     FROM ${tables.tokenUsageDailyDetail}
     WHERE ${conditions.join(' AND ')}`;
  }

  // The raw rows of the partial days at either end: near since (before the
  // first whole day) and near until (from the last whole day's end).
  // A bound on a local midnight has no partial day: a month row in range then
  // falls on a whole day too, so no raw row is needed at that end.
  const edges: string[] = [];
  if (query.since && bounds?.first_at && bounds.first_at.getTime() !== query.since.getTime()) {
    edges.push(`(bucket_start >= ${param(query.since)}::timestamptz - interval '1 day' AND bucket_start < ${param(bounds.first_at)}::timestamptz + interval '1 day')`);
  }
  if (query.until && bounds?.last_at && bounds.last_at.getTime() !== query.until.getTime()) {
    edges.push(`(bucket_start >= ${param(bounds.last_at)}::timestamptz - interval '1 day' AND bucket_start < ${param(query.until)}::timestamptz + interval '1 day')`);
  }
  if (edges.length === 0) return { sql: rollupSelect, params, source };
  const outsideWholeDays = `NOT (${['true', ...wholeDays(rawDay)].join(' AND ')})`;
  return {
    sql: `${rollupSelect}
   UNION ALL
   ${rawSelect([...rawConditions(), `(${edges.join(' OR ')})`, outsideWholeDays])}`,
    params,
    source,
  };
}

/** A total as the raw SUM would give it: NULL when no row knew the counter (invariant 2). */
export function knownTotal(column: string): string {
  return `CASE WHEN sum(${column}_rows) > 0 THEN sum(${column}) END`;
}

/** The exact money of a slice as text: NULL when no row of it is priced. */
export function moneyTotal(usd: string, rows: string): string {
  return `(CASE WHEN ${rows} > 0 THEN ${usd} END)::text`;
}

/**
 * Keeps token_usage_daily_detail's local days for one more time zone (the
 * reporting zone of a dashboard), so per-day pages in that zone read the
 * roll-up instead of raw rows. Backfills the zone from token_usage in one
 * transaction that holds writers off (a SHARE lock: reads go on), then the
 * triggers keep it. Does nothing when the zone is already kept. Each kept
 * zone adds its share to every write's trigger work.
 */
export async function addRollupTimeZone(client: SqlClient, tables: StoreTables, timeZone: string): Promise<{ added: boolean }> {
  validateTimeZone(timeZone, 'timeZone');
  const kept = async (tx: SqlClient) =>
    (await tx.query<{ kept: boolean }>(`SELECT EXISTS (SELECT 1 FROM ${tables.tokenUsageRollupZones} WHERE time_zone = $1) AS kept`, [timeZone]))[0]?.kept ?? false;
  if (await kept(client)) return { added: false };
  // PostgreSQL must know the zone too, or every later write would fail in the trigger.
  await client.query(`SELECT now() AT TIME ZONE $1::text AS local_now`, [timeZone]);
  return client.transaction(async (tx) => {
    await tx.exec(`LOCK TABLE ${tables.tokenUsage} IN SHARE MODE`);
    const inserted = await tx.query(`INSERT INTO ${tables.tokenUsageRollupZones} (time_zone) VALUES ($1) ON CONFLICT DO NOTHING RETURNING time_zone`, [timeZone]);
    if (inserted.length === 0) return { added: false };
    const [built] = await tx.query<{ statement: string }>(
      `SELECT ${tables.schema}.token_usage_daily_detail_statement($1, format('SELECT %L::text AS time_zone', $2::text)) AS statement`,
      [`SELECT 1 AS sign, * FROM ${tables.tokenUsage}`, timeZone],
    );
    if (built) await tx.query(built.statement);
    return { added: true };
  });
}

/**
 * Stops keeping one time zone's local days (a reporting zone no dashboard
 * serves any more): its rows leave token_usage_daily_detail and
 * token_usage_daily_by_user, and writes stop paying its share of the
 * triggers. Holds writers off as addRollupTimeZone does, so no write in
 * flight leaves rows of the dropped zone behind (they would be counted twice
 * if the zone were added again). UTC is always kept. `{ dropped: false }` when
 * the zone was not kept.
 */
export async function dropRollupTimeZone(client: SqlClient, tables: StoreTables, timeZone: string): Promise<{ dropped: boolean }> {
  if (timeZone === 'UTC') throw new StoreArgumentError({ argument: 'timeZone', message: 'UTC is always kept: the daily roll-up and every UTC page read it' });
  return client.transaction(async (tx) => {
    await tx.exec(`LOCK TABLE ${tables.tokenUsage} IN SHARE MODE`);
    const deleted = await tx.query(`DELETE FROM ${tables.tokenUsageRollupZones} WHERE time_zone = $1 RETURNING time_zone`, [timeZone]);
    if (deleted.length === 0) return { dropped: false };
    await tx.query(`DELETE FROM ${tables.tokenUsageDailyDetail} WHERE time_zone = $1`, [timeZone]);
    await tx.query(`DELETE FROM ${tables.tokenUsageDailyByUser} WHERE time_zone = $1`, [timeZone]);
    return { dropped: true };
  });
}

/** The time zones token_usage_daily_detail keeps, 'UTC' first. */
export async function listRollupTimeZones(client: SqlClient, tables: StoreTables): Promise<string[]> {
  const rows = await client.query<{ time_zone: string }>(
    `SELECT time_zone FROM ${tables.tokenUsageRollupZones} ORDER BY time_zone <> 'UTC', time_zone`,
  );
  return rows.map((row) => row.time_zone);
}
