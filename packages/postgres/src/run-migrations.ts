import { MIGRATIONS, type Migration } from './migration-list';
import { renderSql, type StoreTables } from './schema-name';
import type { SqlClient } from './sql-client';

/** SQLSTATE of a relation (or its schema) that does not exist. */
const UNDEFINED_TABLE = '42P01';

/**
 * Applies the migrations the schema does not have yet, in order, each in its
 * own transaction together with its utt_migrations row, so a failure leaves
 * the schema at the last migration that succeeded.
 *
 * Safe to run twice (applied ones are skipped) and from two workers at once:
 * each transaction first takes an advisory lock for this schema, so the second
 * worker waits, then sees the first one's row and skips.
 */
export async function runMigrations(
  client: SqlClient,
  tables: StoreTables,
  migrations: readonly Migration[] = MIGRATIONS,
): Promise<{ applied: string[] }> {
  if (await allApplied(client, tables, migrations)) return { applied: [] };

  const applied: string[] = [];
  for (const migration of migrations) {
    const ran = await client.transaction(async (tx) => {
      await tx.query("SELECT pg_advisory_xact_lock(hashtext('utt.migrate'), hashtext($1))", [tables.schemaName]);
      await ensureMigrationTable(tx, tables);
      const done = await tx.query(`SELECT 1 FROM ${tables.migrations} WHERE name = $1`, [migration.name]);
      if (done.length > 0) return false;
      await tx.exec(renderSql(migration.sql, tables));
      await tx.query(`INSERT INTO ${tables.migrations} (name) VALUES ($1)`, [migration.name]);
      return true;
    });
    if (ran) applied.push(migration.name);
  }
  return { applied };
}

/**
 * Whether the schema lacks a migration (or does not exist yet): the read-only
 * check `runMigrations` begins with, for a caller that checks while it does
 * other work and migrates only once it knows it should (`utt run` checks while
 * the adapters load, and migrates only after the config has proved good).
 */
export async function migrationsPending(client: SqlClient, tables: StoreTables, migrations: readonly Migration[] = MIGRATIONS): Promise<boolean> {
  return !(await allApplied(client, tables, migrations));
}

/**
 * The common case, checked without locks or DDL, so a worker with a role that
 * may read and write but not create can still open an up-to-date schema. One
 * round trip (every command opens the store): a schema or table that does not
 * exist yet answers undefined_table.
 */
async function allApplied(client: SqlClient, tables: StoreTables, migrations: readonly Migration[]): Promise<boolean> {
  let rows: Array<{ name: string }>;
  try {
    rows = await client.query<{ name: string }>(`SELECT name FROM ${tables.migrations}`);
  } catch (error) {
    if ((error as { code?: unknown } | null)?.code === UNDEFINED_TABLE) return false;
    throw error;
  }
  const names = new Set(rows.map((row) => row.name));
  return migrations.every((migration) => names.has(migration.name));
}

async function ensureMigrationTable(tx: SqlClient, tables: StoreTables): Promise<void> {
  // CREATE SCHEMA IF NOT EXISTS still needs CREATE on the database, so skip it
  // when a DBA has created the schema for a role that lacks that right.
  const [schema] = await tx.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [tables.schemaName]);
  if (schema === undefined) await tx.exec(`CREATE SCHEMA ${tables.schema}`);
  await tx.exec(
    `CREATE TABLE IF NOT EXISTS ${tables.migrations} (
       name       TEXT PRIMARY KEY,
       applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
     )`,
  );
}
