import type { UsageRow } from '@utt/core';
import type { StoreTables } from './schema-name';
import type { SqlClient } from './sql-client';

/**
 * Serialises writers of the same data: two processes writing one source, or
 * two imports into one instance (same source_system and source_instance), take
 * turns instead of interleaving row locks until PostgreSQL reports a bare
 * `deadlock detected`. Transaction-scoped advisory locks, taken in sorted order
 * so that two writers never wait on each other; the wait is bounded by
 * database.lockTimeout, whose error says another process is writing.
 */
export async function lockSourceWrite(
  tx: SqlClient,
  tables: StoreTables,
  write: { readonly source: string; readonly sourceSystem: string; readonly rows: readonly UsageRow[] },
): Promise<void> {
  const keys = new Set<string>([`source:${write.source}`]);
  for (const row of write.rows) keys.add(`rows:${row.source_system}:${row.source_instance}`);
  for (const key of [...keys].sort()) {
    await tx.query('SELECT pg_advisory_xact_lock(hashtext($1), hashtext($2))', [tables.schemaName, key]);
  }
}
