import { type Granularity, type ProviderCostRow, providerCostRowKey, type UsageRow, usageRowKey } from '@utt/core';
import type { StoreTables } from './schema-name';
import type { SqlClient } from './sql-client';

/**
 * The part of the store a source re-collected completely in this write: every
 * bucket of `granularity` in [start, end) for its source_system and these
 * source_instances. A row stored there that the source did not return again
 * (a line item the provider dropped in a revision, a model renamed) is a ghost.
 */
export type ReplacedWindow = {
  readonly start: Date;
  readonly end: Date;
  readonly granularity: Granularity;
  /** Instances the source writes as: its default and any its records name. */
  readonly sourceInstances: readonly string[];
  /** provider_cost days [start, end) re-collected as well; omitted when the source reports no billed amounts. */
  readonly costDays?: { readonly start: Date; readonly end: Date };
};

const DELETE_BATCH = 10_000;

/**
 * Deletes the ghosts of a replaced window, inside the write's transaction, so
 * the window ends up holding exactly what the source returned. Compared by
 * conflict key in memory rather than by updated_at, so it holds whatever the
 * upsert does with unchanged rows. Returns how many rows went.
 */
export async function deleteGhostRows(
  tx: SqlClient,
  tables: StoreTables,
  write: {
    readonly sourceSystem: string;
    readonly rows: readonly UsageRow[];
    readonly providerCosts?: readonly ProviderCostRow[];
    readonly replace: ReplacedWindow;
  },
): Promise<{ usageRows: number; providerCosts: number }> {
  const { replace } = write;
  const instances = [...new Set(replace.sourceInstances)];
  const kept = new Set(write.rows.map(usageRowKey));
  const stored = await tx.query<Omit<UsageRow, TokenFields> & { id: number }>(
    `SELECT id, source_system, source_instance, granularity, bucket_start, provider, model, account, api_key, user_id, labels
       FROM ${tables.tokenUsage}
      WHERE source_system = $1 AND source_instance = ANY($2::text[]) AND granularity = $3
        AND bucket_start >= $4 AND bucket_start < $5`,
    [write.sourceSystem, instances, replace.granularity, replace.start, replace.end],
  );
  const ghosts: number[] = [];
  for (const row of stored) if (!kept.has(usageRowKey(row as unknown as UsageRow))) ghosts.push(row.id);
  await deleteIds(tx, tables.tokenUsage, ghosts);

  const costGhosts: number[] = [];
  if (replace.costDays) {
    const keptCosts = new Set((write.providerCosts ?? []).map(providerCostRowKey));
    const storedCosts = await tx.query<Omit<ProviderCostRow, 'amount_usd' | 'currency'> & { id: number }>(
      `SELECT id, source_system, source_instance, bucket_start, provider, account, model, line_item
         FROM ${tables.providerCost}
        WHERE source_system = $1 AND source_instance = ANY($2::text[]) AND bucket_start >= $3 AND bucket_start < $4`,
      [write.sourceSystem, instances, replace.costDays.start, replace.costDays.end],
    );
    for (const row of storedCosts) if (!keptCosts.has(providerCostRowKey(row as unknown as ProviderCostRow))) costGhosts.push(row.id);
    await deleteIds(tx, tables.providerCost, costGhosts);
  }
  return { usageRows: ghosts.length, providerCosts: costGhosts.length };
}

type TokenFields =
  | 'input_tokens'
  | 'output_tokens'
  | 'cached_read_tokens'
  | 'cached_write_tokens'
  | 'cached_write_1h_tokens'
  | 'reasoning_tokens'
  | 'requests'
  | 'cost_usd'
  | 'cost_source'
  | 'measurement_basis';

async function deleteIds(tx: SqlClient, table: string, ids: readonly number[]): Promise<void> {
  for (let offset = 0; offset < ids.length; offset += DELETE_BATCH) {
    await tx.query(`DELETE FROM ${table} WHERE id = ANY($1::bigint[])`, [ids.slice(offset, offset + DELETE_BATCH)]);
  }
}
