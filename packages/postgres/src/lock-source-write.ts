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
  // Rows of a write nearly all share one instance: a key is built only when a
  // row's pair differs from the row before. An indexed loop: it runs once per
  // process over 16,000 rows of a cold cycle, before V8 optimises it, where an
  // array iterator costs more than the comparisons.
  let system: string | undefined;
  let instance: string | undefined;
  const rows = write.rows;
  for (let index = 0; index < rows.length; index += 1) {
    const row = rows[index] as UsageRow;
    if (row.source_system === system && row.source_instance === instance) continue;
    system = row.source_system;
    instance = row.source_instance;
    keys.add(instanceLockKey(system, instance));
  }
  for (const key of [...keys].sort()) await advisoryLock(tx, tables, key);
}

/** The lock an import takes: the same one a source writing rows of that instance takes. */
export async function lockInstanceWrite(tx: SqlClient, tables: StoreTables, sourceSystem: string, sourceInstance: string): Promise<void> {
  await advisoryLock(tx, tables, instanceLockKey(sourceSystem, sourceInstance));
}

function instanceLockKey(sourceSystem: string, sourceInstance: string): string {
  return `rows:${sourceSystem}:${sourceInstance}`;
}

async function advisoryLock(tx: SqlClient, tables: StoreTables, key: string): Promise<void> {
  await tx.query('SELECT pg_advisory_xact_lock(hashtext($1), hashtext($2))', [tables.schemaName, key]);
}
