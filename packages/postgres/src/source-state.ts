import type { StagedStateChanges, UsageAdapterV1StateSelection } from '@utt/core';
import { jsonbParameter } from './jsonb-parameter';
import type { StoreTables } from './schema-name';
import type { SqlClient } from './sql-client';

/** Staged changes to a source's durable state, written with its rows. */
export type SourceStateChanges = StagedStateChanges;

const ROWS_PER_STATEMENT = 1000;
const STATE_KEYS_PER_STATEMENT = 5_000;

/**
 * The keys and values a source has stored: all of them, or only the selected
 * keys and those under the selected prefixes (on-demand state loading).
 */
export async function loadSourceState(
  client: SqlClient,
  tables: StoreTables,
  source: string,
  selection?: UsageAdapterV1StateSelection,
): Promise<Map<string, unknown>> {
  if (!selection) {
    const rows = await client.query<{ key: string; value: unknown }>(`SELECT key, value FROM ${tables.sourceState} WHERE source = $1 ORDER BY key`, [source]);
    return new Map(rows.map((row) => [row.key, row.value]));
  }
  const keys = selection.keys ?? [];
  const prefixes = selection.prefixes ?? [];
  if (keys.length === 0 && prefixes.length === 0) return new Map();
  // starts_with rather than LIKE: a prefix may hold % or _.
  const rows = await client.query<{ key: string; value: unknown }>(
    prefixes.length === 0
      ? `SELECT key, value FROM ${tables.sourceState} WHERE source = $1 AND key = ANY($2::text[]) ORDER BY key`
      : `SELECT key, value FROM ${tables.sourceState}
WHERE source = $1 AND (key = ANY($2::text[]) OR EXISTS (SELECT 1 FROM unnest($3::text[]) AS selected(prefix) WHERE starts_with(key, selected.prefix)))
ORDER BY key`,
    prefixes.length === 0 ? [source, keys] : [source, keys, prefixes],
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
  await applySerializedSourceState(tx, tables, source, changes.deleted, serializeSourceState(changes, tx.kind));
}

/**
 * The changed keys as the JSON parameters applySerializedSourceState sends
 * (jsonbParameter: encoded for `kind`'s client). Apart, so a writer can
 * serialise and encode them while the database runs its earlier statements
 * (megabytes of state for a cold agent-log scan).
 */
export function serializeSourceState(changes: SourceStateChanges, kind: SqlClient['kind']): Array<string | Buffer> {
  // The changed keys travel as one JSON object per statement, unpacked by
  // jsonb_each: one native JSON.stringify instead of two bound parameters a key
  // (a cold cycle writes thousands of keys and megabytes of state). jsonb, not
  // json: the text is parsed once, where json_each and a cast of each value
  // parsed it three times.
  const texts: Array<string | Buffer> = [];
  const entries = [...changes.set];
  for (let start = 0; start < entries.length; start += STATE_KEYS_PER_STATEMENT) {
    // No prototype: a key named __proto__ stays a key.
    const batch: Record<string, unknown> = Object.create(null);
    for (const [key, value] of entries.slice(start, start + STATE_KEYS_PER_STATEMENT)) batch[key] = value;
    texts.push(jsonbParameter(kind, JSON.stringify(batch)));
  }
  return texts;
}

/**
 * Deletes `deleted` and upserts the keys serializeSourceState serialised.
 *
 * `onlyNewKeys`: the caller knows the source has no stored key (see
 * sourceStateIsNew), so a plain INSERT does the same as the upsert without
 * its speculative insertion; should a key exist after all, the INSERT fails
 * with a unique violation (isUniqueViolation) and the caller must write again
 * without it.
 */
export async function applySerializedSourceState(
  tx: SqlClient,
  tables: StoreTables,
  source: string,
  deleted: readonly string[],
  serialized: ReadonlyArray<string | Buffer>,
  options: { readonly onlyNewKeys?: boolean } = {},
): Promise<void> {
  for (let start = 0; start < deleted.length; start += ROWS_PER_STATEMENT) {
    await tx.query(`DELETE FROM ${tables.sourceState} WHERE source = $1 AND key = ANY($2::text[])`, [source, deleted.slice(start, start + ROWS_PER_STATEMENT)]);
  }
  const insert = `INSERT INTO ${tables.sourceState} (source, key, value)
SELECT $1, changed.key, changed.value FROM jsonb_each($2::jsonb) AS changed`;
  const statement = options.onlyNewKeys ? insert : `${insert}\nON CONFLICT (source, key) DO UPDATE SET value = EXCLUDED.value, updated_at = now()`;
  for (const text of serialized) await tx.query(statement, [source, text]);
}

/**
 * Whether `source` has no stored state at all: true for its first write (a
 * cold backfill), whose keys can then be inserted without the upsert's
 * conflict handling (applySerializedSourceState's `onlyNewKeys`).
 */
export async function sourceStateIsNew(tx: SqlClient, tables: StoreTables, source: string): Promise<boolean> {
  const [result] = await tx.query<{ fresh: boolean }>(`SELECT NOT EXISTS (SELECT 1 FROM ${tables.sourceState} WHERE source = $1) AS fresh`, [source]);
  return result?.fresh === true;
}
