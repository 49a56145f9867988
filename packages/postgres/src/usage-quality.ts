import { storeTables } from './schema-name';
import { StoreArgumentError } from './store-argument-error';
import { trimZeros, validateTimeZone } from './usage-breakdown';
import { moneyTotal, type RollupColumn, usageRollupSql } from './usage-rollup';
import type { UsageStore } from './usage-store';

/** A range on bucket_start: [since, until); either end may be open. */
export type UsageRange = {
  readonly since?: Date;
  readonly until?: Date;
  /**
   * The reporting zone the bounds are local midnights of (default UTC). A
   * month row (a flat fee) is in the range when its UTC month starts, read as
   * a local time, inside it — as usageBreakdown counts it. In a zone the
   * roll-up keeps (addRollupTimeZone) whole local days are read from it.
   */
  readonly timeZone?: string;
};

/**
 * Usage with tokens and no price, per provider, model and the reason the
 * pricer gave. "Unpriced" as `utt report` counts it: cost_usd NULL and more
 * than 0 tokens in the four counters a price applies to; a NULL-cost row whose
 * counters are all 0 or NULL has nothing to price and is not counted.
 */
export type UnpricedModelTotal = {
  readonly provider: string;
  readonly model: string;
  /** token_usage.unpriced_reason; null when none was recorded (NULL, or ''). */
  readonly reason: string | null;
  readonly rows: number;
  readonly tokens: number;
};

/** An unpriced model total and the last bucket it has usage in. */
export type UnpricedModel = UnpricedModelTotal & {
  readonly lastBucketStart: Date;
};

/** How the money and the counts of a slice of rows were obtained. */
export type PricingCoverageRow = {
  /** 'provider', 'computed', 'fixed', or null for unpriced rows. */
  readonly costSource: string | null;
  /** The price source: price_ref up to its first @, : or ; (`genai-prices`, `override`, …); '' when none is recorded. */
  readonly priceSource: string;
  readonly measurementBasis: string;
  readonly rows: number;
  readonly tokens: number;
  readonly costUsd: string | null;
};

/** The distinct values present in a range, for filter choices. */
export type UsageDimensionValues = {
  readonly sourceSystems: string[];
  readonly providers: string[];
  readonly models: string[];
};

const ROW_TOKENS =
  'COALESCE(input_tokens, 0) + COALESCE(cached_read_tokens, 0) + COALESCE(cached_write_tokens, 0) + COALESCE(output_tokens, 0)';

/**
 * The rows of a range from the roll-ups (token_usage_daily_detail in UTC days,
 * raw rows for partial days): bucket_start in [since, until), exactly.
 */
async function rangeRows(store: UsageStore, range: UsageRange, needs: readonly RollupColumn[]) {
  for (const field of ['since', 'until'] as const) {
    const value = range[field];
    if (value !== undefined && (!(value instanceof Date) || Number.isNaN(value.getTime()))) {
      throw new StoreArgumentError({ argument: `range.${field}`, message: 'must be a valid Date' });
    }
  }
  const timeZone = validateTimeZone(range.timeZone ?? 'UTC', 'range.timeZone');
  return usageRollupSql(store, { since: range.since, until: range.until, timeZone, needs });
}

type UnpricedGroup = { provider: string; model: string; reason: string; rows: number; tokens: number; last_day: string };

/**
 * The unpriced rows and tokens of a range per provider, model and reason ('' for
 * none), largest first, from the roll-ups; with the last local day of each when asked.
 */
async function unpricedGroups(store: UsageStore, range: UsageRange, lastDay: boolean): Promise<UnpricedGroup[]> {
  const usage = await rangeRows(store, range, ['provider', 'model', 'unpriced_reason']);
  // The rows, not the groups, are filtered: the condition reaches the roll-up's scan, so priced rows are never grouped.
  return store.client.query<UnpricedGroup>(
    `SELECT provider, model, unpriced_reason AS reason, sum(unpriced_rows)::bigint AS rows,
            sum(unpriced_tokens)::bigint AS tokens${lastDay ? ', max(day)::text AS last_day' : ''}
     FROM (${usage.sql}) AS usage
     WHERE unpriced_rows > 0
     GROUP BY 1, 2, 3
     ORDER BY tokens DESC, provider, model, reason`,
    usage.params,
  );
}

/**
 * Unpriced usage per provider, model and reason, largest first, over a range
 * (every row when none is given): one read of the roll-ups, the listing of
 * `utt verify`, `utt prices check` and `utt doctor`.
 */
export async function unpricedModelTotals(store: UsageStore, range: UsageRange = {}): Promise<UnpricedModelTotal[]> {
  const groups = await unpricedGroups(store, range, false);
  return groups.map((row) => ({
    provider: row.provider,
    model: row.model,
    reason: row.reason === '' ? null : row.reason,
    rows: Number(row.rows),
    tokens: Number(row.tokens),
  }));
}

/** Models whose usage has no price, largest first, with the last bucket of each: the dashboard's data-quality listing, over a range. */
export async function unpricedModels(store: UsageStore, range: UsageRange = {}): Promise<UnpricedModel[]> {
  const groups = await unpricedGroups(store, range, true);
  if (groups.length === 0) return [];
  // The roll-up knows the last (local) day; the raw rows of that one day give the last bucket.
  const tables = storeTables(store.schema);
  const localTime = `(CASE WHEN granularity = 'hour' THEN bucket_start AT TIME ZONE $7::text ELSE bucket_start AT TIME ZONE 'UTC' END)`;
  const last = await store.client.query<{ i: number; last_bucket_start: Date }>(
    `SELECT g.i, (SELECT max(bucket_start) FROM ${tables.tokenUsage}
                  WHERE provider = g.provider AND model = g.model AND COALESCE(unpriced_reason, '') = g.reason
                    AND bucket_start >= g.day::timestamp AT TIME ZONE 'UTC' - interval '1 day' AND bucket_start < (g.day + 2)::timestamp AT TIME ZONE 'UTC'
                    AND ${localTime}::date = g.day
                    AND ($5::timestamptz IS NULL OR ${localTime} >= $5::timestamptz AT TIME ZONE $7::text)
                    AND ($6::timestamptz IS NULL OR ${localTime} < $6::timestamptz AT TIME ZONE $7::text)
                    AND cost_usd IS NULL AND ${ROW_TOKENS} > 0) AS last_bucket_start
     FROM unnest($1::text[], $2::text[], $3::text[], $4::date[]) WITH ORDINALITY AS g(provider, model, reason, day, i)`,
    [
      groups.map((row) => row.provider),
      groups.map((row) => row.model),
      groups.map((row) => row.reason),
      groups.map((row) => row.last_day),
      range.since ?? null,
      range.until ?? null,
      range.timeZone ?? 'UTC',
    ],
  );
  const lastByIndex = new Map(last.map((row) => [Number(row.i), row.last_bucket_start]));
  return groups.map((row, index) => ({
    provider: row.provider,
    model: row.model,
    // The roll-up keeps a missing reason as ''.
    reason: row.reason === '' ? null : row.reason,
    rows: Number(row.rows),
    tokens: Number(row.tokens),
    lastBucketStart: lastByIndex.get(index + 1) as Date,
  }));
}

/** Rows, tokens and money per cost source, price source and measurement basis. */
export async function pricingCoverage(store: UsageStore, range: UsageRange = {}): Promise<PricingCoverageRow[]> {
  const usage = await rangeRows(store, range, ['cost_source', 'price_source', 'measurement_basis']);
  const rows = await store.client.query<{
    cost_source: string | null;
    price_source: string;
    measurement_basis: string;
    rows: number;
    tokens: number;
    cost_usd: string | null;
  }>(
    `SELECT NULLIF(cost_source, '') AS cost_source, price_source, measurement_basis,
            sum(row_count)::bigint AS rows,
            (sum(input_tokens) + sum(cached_read_tokens) + sum(cached_write_tokens) + sum(output_tokens))::bigint AS tokens,
            ${moneyTotal('sum(cost_usd)', 'sum(cost_rows)')} AS cost_usd
     FROM (${usage.sql}) AS usage
     GROUP BY 1, 2, 3
     HAVING sum(row_count) > 0
     ORDER BY 1 NULLS LAST, 2, 3`,
    usage.params,
  );
  return rows.map((row) => ({
    costSource: row.cost_source,
    priceSource: row.price_source,
    measurementBasis: row.measurement_basis,
    rows: Number(row.rows),
    tokens: Number(row.tokens),
    costUsd: trimZeros(row.cost_usd),
  }));
}

/** The source systems, providers and models that have rows in a range, sorted. */
export async function usageDimensionValues(store: UsageStore, range: UsageRange = {}): Promise<UsageDimensionValues> {
  const usage = await rangeRows(store, range, ['source_system', 'provider', 'model']);
  const rows = await store.client.query<{ source_system: string; provider: string; model: string }>(
    `SELECT source_system, provider, model FROM (${usage.sql}) AS usage GROUP BY 1, 2, 3 HAVING sum(row_count) > 0`,
    usage.params,
  );
  const sorted = (values: Iterable<string>) => [...new Set(values)].sort();
  return {
    sourceSystems: sorted(rows.map((row) => row.source_system)),
    providers: sorted(rows.map((row) => row.provider)),
    models: sorted(rows.map((row) => row.model).filter((model) => model !== '')),
  };
}
