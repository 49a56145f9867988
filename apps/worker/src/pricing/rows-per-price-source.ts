import type { UsageStore } from '@utt/postgres';

export type RowsPerPriceSource = {
  /** The price source a computed row's price_ref names: its text up to the first ':', after any "per-request:". */
  readonly sourceLabel: string;
  readonly rows: number;
};

/**
 * Computed rows per price source, for `utt prices check` to name the sources
 * the registry no longer uses. Rows are counted per price_ref first and the
 * source is cut out of the few distinct refs afterwards: cutting it out of
 * every row took two thirds of this query's time on a year of rows
 * (bench/reports).
 */
export async function rowsPerPriceSource(store: UsageStore): Promise<RowsPerPriceSource[]> {
  const rows = await store.client.query<{ source_label: string; row_count: string | number }>(
    `SELECT split_part(regexp_replace(price_ref, '^per-request:', ''), ':', 1) AS source_label, sum(row_count)::bigint AS row_count
     FROM (SELECT price_ref, count(*) AS row_count FROM "${store.schema}".token_usage
           WHERE cost_source = 'computed' AND price_ref IS NOT NULL GROUP BY 1) AS per_ref
     GROUP BY 1 ORDER BY 1`,
  );
  return rows.map((row) => ({ sourceLabel: row.source_label, rows: Number(row.row_count) }));
}
