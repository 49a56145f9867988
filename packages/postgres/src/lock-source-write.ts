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
  held: Set<string> = new Set(),
): Promise<void> {
  await takeLocks(tx, tables, sourceWriteLockKeys(write), held);
}

/** The locks lockSourceWrite takes for `write`. */
export function sourceWriteLockKeys(write: { readonly source: string; readonly rows: readonly UsageRow[] }): Set<string> {
  const keys = new Set<string>([sourceLockKey(write.source)]);
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
  return keys;
}

/**
 * The locks of a write whose rows are not known yet (startSourceWrite): the
 * source's, and those of the instances its rows are expected to carry, in the
 * same sorted order. `held` collects them, so that lockSourceWrite later takes
 * only the locks of instances nobody expected.
 */
export async function lockExpectedSourceWrite(
  tx: SqlClient,
  tables: StoreTables,
  write: { readonly source: string; readonly sourceSystem: string; readonly sourceInstances: Iterable<string> },
  held: Set<string>,
): Promise<void> {
  const keys = new Set<string>([sourceLockKey(write.source)]);
  for (const instance of write.sourceInstances) keys.add(instanceLockKey(write.sourceSystem, instance));
  await takeLocks(tx, tables, keys, held);
}

async function takeLocks(tx: SqlClient, tables: StoreTables, keys: ReadonlySet<string>, held: Set<string>): Promise<void> {
  for (const key of [...keys].sort()) {
    if (held.has(key)) continue;
    await advisoryLock(tx, tables, key);
    held.add(key);
  }
}

function sourceLockKey(source: string): string {
  return `source:${source}`;
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
