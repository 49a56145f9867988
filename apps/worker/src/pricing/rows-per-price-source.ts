import type { UsageStore } from '@utt/postgres';

export type RowsPerPriceSource = {
  /** The price source a computed row's price_ref names: its text up to the first ':', after any "per-request:". */
  readonly sourceLabel: string;
  readonly rows: number;
};

/**
 * Computed rows per price source, for `utt prices check` to name the sources
 * the registry no longer uses. The database keeps the count per source and
 * price_ref (token_usage_price_ref_rows, migration 0018), a few hundred rows:
 * counting the raw rows took 0.9 s on PostgreSQL and 1.8 s on PGlite over a
 * year of hourly rows (bench/reports). The source is cut out of those refs.
 */
export async function rowsPerPriceSource(store: UsageStore): Promise<RowsPerPriceSource[]> {
  const rows = await store.client.query<{ source_label: string; row_count: string | number }>(
    `SELECT split_part(regexp_replace(price_ref, '^per-request:', ''), ':', 1) AS source_label, sum(row_count)::bigint AS row_count
     FROM "${store.schema}".token_usage_price_ref_rows
     GROUP BY 1 HAVING sum(row_count) > 0 ORDER BY 1`,
  );
  return rows.map((row) => ({ sourceLabel: row.source_label, rows: Number(row.row_count) }));
}
