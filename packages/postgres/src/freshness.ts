import type { StoreTables } from './schema-name';
import { listStatus, type SourceState } from './source-status';
import type { SqlClient } from './sql-client';

/** What a watchdog needs about one source to call it fresh, stale, failing or paused. */
export type SourceFreshness = {
  readonly source: string;
  readonly sourceSystem: string;
  readonly status: SourceState;
  /** When the worker last touched this source's status: the freshness clock (invariant 8). */
  readonly updatedAt: Date;
  readonly lastSuccessAt: Date | null;
  readonly lastError: string | null;
};

export async function freshness(client: SqlClient, tables: StoreTables): Promise<SourceFreshness[]> {
  const statuses = await listStatus(client, tables);
  return statuses.map((status) => ({
    source: status.source,
    sourceSystem: status.sourceSystem,
    status: status.status,
    updatedAt: status.updatedAt,
    lastSuccessAt: status.lastSuccessAt,
    lastError: status.lastError,
  }));
}

/**
 * When rows of a source_system were last written, by MAX(updated_at) and never
 * MAX(created_at) (invariant 8): a source that re-collects the same buckets
 * every cycle creates no new rows yet is perfectly fresh. Null with no rows.
 */
export async function latestUsageUpdate(client: SqlClient, tables: StoreTables, sourceSystem: string): Promise<Date | null> {
  const [row] = await client.query<{ latest: Date | null }>(
    `SELECT MAX(updated_at) AS latest FROM ${tables.tokenUsage} WHERE source_system = $1`,
    [sourceSystem],
  );
  return row?.latest ?? null;
}
