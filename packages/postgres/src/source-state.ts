import type { StoreTables } from './schema-name';
import type { SqlClient } from './sql-client';

/** Staged changes to a source's durable state, written with its rows. */
export type SourceStateChanges = {
  readonly set: ReadonlyMap<string, unknown>;
  readonly deleted: readonly string[];
};

const ROWS_PER_STATEMENT = 1000;

/** Every key and value a source has stored. */
export async function loadSourceState(client: SqlClient, tables: StoreTables, source: string): Promise<Map<string, unknown>> {
  const rows = await client.query<{ key: string; value: unknown }>(
    `SELECT key, value FROM ${tables.sourceState} WHERE source = $1 ORDER BY key`,
    [source],
  );
  return new Map(rows.map((row) => [row.key, row.value]));
}

/** Applies staged changes inside the source's write transaction. */
export async function applySourceStateChanges(
  tx: SqlClient,
  tables: StoreTables,
  source: string,
  changes: SourceStateChanges,
): Promise<void> {
  for (let start = 0; start < changes.deleted.length; start += ROWS_PER_STATEMENT) {
    await tx.query(`DELETE FROM ${tables.sourceState} WHERE source = $1 AND key = ANY($2::text[])`, [
      source,
      changes.deleted.slice(start, start + ROWS_PER_STATEMENT),
    ]);
  }
  const entries = [...changes.set];
  for (let start = 0; start < entries.length; start += ROWS_PER_STATEMENT) {
    const batch = entries.slice(start, start + ROWS_PER_STATEMENT);
    const tuples = batch.map((_, index) => `($1, $${index * 2 + 2}, $${index * 2 + 3}::jsonb)`);
    await tx.query(
      `INSERT INTO ${tables.sourceState} (source, key, value) VALUES ${tuples.join(', ')}
ON CONFLICT (source, key) DO UPDATE SET value = EXCLUDED.value, updated_at = now()`,
      [source, ...batch.flatMap(([key, value]) => [key, JSON.stringify(value)])],
    );
  }
}
