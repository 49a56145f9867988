import { storeTables } from './schema-name';
import { StoreArgumentError } from './store-argument-error';
import { trimZeros } from './usage-breakdown';
import type { UsageStore } from './usage-store';

/** A range on bucket_start: [since, until); either end may be open. */
export type UsageRange = { readonly since?: Date; readonly until?: Date };

/** Usage with tokens and no price, per provider, model and the reason the pricer gave. */
export type UnpricedModel = {
  readonly provider: string;
  readonly model: string;
  /** token_usage.unpriced_reason; null for rows written before reasons were recorded. */
  readonly reason: string | null;
  readonly rows: number;
  readonly tokens: number;
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

function rangeSql(range: UsageRange, params: unknown[]): string[] {
  const conditions: string[] = [];
  for (const field of ['since', 'until'] as const) {
    const value = range[field];
    if (value === undefined) continue;
    if (!(value instanceof Date) || Number.isNaN(value.getTime())) {
      throw new StoreArgumentError({ argument: `range.${field}`, message: 'must be a valid Date' });
    }
    params.push(value);
    conditions.push(`bucket_start ${field === 'since' ? '>=' : '<'} $${params.length}`);
  }
  return conditions;
}

function where(conditions: readonly string[]): string {
  return conditions.length === 0 ? '' : `WHERE ${conditions.join(' AND ')}`;
}

/** Models whose usage has no price, largest first: what `utt prices check` reports, over a range. */
export async function unpricedModels(store: UsageStore, range: UsageRange = {}): Promise<UnpricedModel[]> {
  const params: unknown[] = [];
  const conditions = [...rangeSql(range, params), 'cost_usd IS NULL', `${ROW_TOKENS} > 0`];
  const rows = await store.client.query<{ provider: string; model: string; reason: string | null; rows: number; tokens: number; last_bucket_start: Date }>(
    `SELECT provider, model, unpriced_reason AS reason, COUNT(*) AS rows,
            SUM(${ROW_TOKENS})::bigint AS tokens, MAX(bucket_start) AS last_bucket_start
     FROM ${storeTables(store.schema).tokenUsage}
     ${where(conditions)}
     GROUP BY 1, 2, 3
     ORDER BY tokens DESC, provider, model`,
    params,
  );
  return rows.map((row) => ({
    provider: row.provider,
    model: row.model,
    reason: row.reason,
    rows: Number(row.rows),
    tokens: Number(row.tokens),
    lastBucketStart: row.last_bucket_start,
  }));
}

/** Rows, tokens and money per cost source, price source and measurement basis. */
export async function pricingCoverage(store: UsageStore, range: UsageRange = {}): Promise<PricingCoverageRow[]> {
  const params: unknown[] = [];
  const conditions = rangeSql(range, params);
  const rows = await store.client.query<{
    cost_source: string | null;
    price_source: string;
    measurement_basis: string;
    rows: number;
    tokens: number;
    cost_usd: string | null;
  }>(
    `SELECT cost_source,
            COALESCE(substring(price_ref from '^[^@:;]+'), '') AS price_source,
            measurement_basis,
            COUNT(*) AS rows,
            SUM(${ROW_TOKENS})::bigint AS tokens,
            SUM(cost_usd)::text AS cost_usd
     FROM ${storeTables(store.schema).tokenUsage}
     ${where(conditions)}
     GROUP BY 1, 2, 3
     ORDER BY 1 NULLS LAST, 2, 3`,
    params,
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
  const params: unknown[] = [];
  const conditions = rangeSql(range, params);
  const rows = await store.client.query<{ source_system: string; provider: string; model: string }>(
    `SELECT DISTINCT source_system, provider, model FROM ${storeTables(store.schema).tokenUsage} ${where(conditions)}`,
    params,
  );
  const sorted = (values: Iterable<string>) => [...new Set(values)].sort();
  return {
    sourceSystems: sorted(rows.map((row) => row.source_system)),
    providers: sorted(rows.map((row) => row.provider)),
    models: sorted(rows.map((row) => row.model).filter((model) => model !== '')),
  };
}
