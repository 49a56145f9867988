import reconcileSql from '../../../sql/queries/reconcile.sql';
import { parseNamedQueries, requireQuery } from './named-queries';
import { renderSql, type StoreTables } from './schema-name';
import type { SqlClient } from './sql-client';
import { StoreArgumentError } from './store-argument-error';

export type ReconcileQuery = {
  /** Earliest bucket_start included (inclusive). */
  readonly since?: Date;
  /** Latest bucket_start excluded (exclusive): [since, until). */
  readonly until?: Date;
};

/** Billed vs computed for one UTC day, source system and provider. */
export type ReconcileRow = {
  readonly day: Date;
  readonly sourceSystem: string;
  readonly provider: string;
  /** Exact decimal sum of provider_cost (USD); null when the provider billed nothing that day. */
  readonly billedUsd: string | null;
  /** Exact decimal sum of token_usage.cost_usd; null when no row of that day is priced. */
  readonly computedUsd: string | null;
  /** (computed − billed) / billed × 100, rounded to 2 decimals; null when either side is missing or billed is 0. */
  readonly gapPercent: string | null;
  /** Usage rows with tokens but no price: computed spend that is missing, not a provider error. */
  readonly unpricedRows: number;
};

type ReconcileSqlRow = {
  day: Date;
  source_system: string;
  provider: string;
  billed_usd: string | null;
  computed_usd: string | null;
  gap_percent: string | null;
  unpriced_rows: number;
};

const queries = parseNamedQueries(reconcileSql);

/** sql/queries/reconcile.sql `billed_vs_computed`: money stays NUMERIC, read as exact strings. */
export async function reconcile(client: SqlClient, tables: StoreTables, query: ReconcileQuery): Promise<ReconcileRow[]> {
  for (const field of ['since', 'until'] as const) {
    const value = query[field];
    if (value !== undefined && (!(value instanceof Date) || Number.isNaN(value.getTime()))) {
      throw new StoreArgumentError({ argument: `query.${field}`, message: 'must be a valid Date' });
    }
  }
  if (query.since && query.until && !(query.until > query.since)) {
    throw new StoreArgumentError({ argument: 'query.until', message: 'must be after query.since' });
  }
  const rows = await client.query<ReconcileSqlRow>(renderSql(requireQuery(queries, 'billed_vs_computed'), tables), [
    query.since ?? null,
    query.until ?? null,
  ]);
  return rows.map((row) => ({
    day: row.day,
    sourceSystem: row.source_system,
    provider: row.provider,
    billedUsd: trimZeros(row.billed_usd),
    computedUsd: trimZeros(row.computed_usd),
    gapPercent: row.gap_percent,
    unpricedRows: Number(row.unpriced_rows),
  }));
}

/** NUMERIC sums keep the widest scale ("0.4200000000"); the value is the same without the trailing zeros. */
function trimZeros(value: string | null): string | null {
  if (value === null || !value.includes('.')) return value;
  return value.replace(/0+$/, '').replace(/\.$/, '');
}
