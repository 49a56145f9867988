import { type StagedStateChanges, StateJsonText, type UsageAdapterV1StateSelection } from '@utt/core';
import type { ParameterPieces } from './bind-large-parameters';
import { textArrayParameter } from './text-array-parameter';
import type { StoreTables } from './schema-name';
import type { SqlClient } from './sql-client';
import { StoreArgumentError } from './store-argument-error';

/** Staged changes to a source's durable state, written with its rows. */
export type SourceStateChanges = StagedStateChanges;

const ROWS_PER_STATEMENT = 1000;
const STATE_KEYS_PER_STATEMENT = 5_000;
/** Up to this many selected prefixes are tested one by one in the statement; more go as one array. */
const PREFIX_PARAMETERS = 16;

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
  // starts_with rather than LIKE: a prefix may hold % or _. A few prefixes (the
  // usual selection) are a parameter each: the same test as a subquery over an
  // array cost the server three times as much per stored key (every cycle of
  // an agent-log source looks over thousands of keys).
  const rows = await client.query<{ key: string; value: unknown }>(
    prefixes.length === 0
      ? `SELECT key, value FROM ${tables.sourceState} WHERE source = $1 AND key = ANY($2::text[]) ORDER BY key`
      : prefixes.length <= PREFIX_PARAMETERS
        ? `SELECT key, value FROM ${tables.sourceState}
WHERE source = $1 AND (key = ANY($2::text[]) OR ${prefixes.map((_, index) => `starts_with(key, $${index + 3})`).join(' OR ')})
ORDER BY key`
        : `SELECT key, value FROM ${tables.sourceState}
WHERE source = $1 AND (key = ANY($2::text[]) OR EXISTS (SELECT 1 FROM unnest($3::text[]) AS selected(prefix) WHERE starts_with(key, selected.prefix)))
ORDER BY key`,
    prefixes.length === 0 ? [source, keys] : prefixes.length <= PREFIX_PARAMETERS ? [source, keys, ...prefixes] : [source, keys, prefixes],
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
 * A statement's worth of changed keys: their keys and their values' JSON
 * texts, each a text array (textArrayParameter). `jsonTexts()`: the values
 * staged as JSON text (setJson), sent as they are, to name the one at fault
 * if the database refuses the statement (listed only then).
 */
export type SerializedStateBatch = {
  readonly keys: Buffer | ParameterPieces | string[];
  readonly values: Buffer | ParameterPieces | string[];
  readonly jsonTexts?: () => ReadonlyArray<readonly [key: string, json: string | Uint8Array]>;
};

/**
 * The changed keys as the parameters applySerializedSourceState sends
 * (textArrayParameter: encoded for `kind`'s client). Apart, so a writer can
 * serialise and encode them while the database runs its earlier statements
 * (megabytes of state for a cold agent-log scan).
 */
export function serializeSourceState(changes: SourceStateChanges, kind: SqlClient['kind']): SerializedStateBatch[] {
  // The changed keys travel as two text arrays per statement, the keys and
  // the values' JSON texts, zipped by unnest: on a server each array goes in
  // binary form, which PostgreSQL takes without parsing it whole (the values
  // are parsed once, by the cast of each to json, as they are stored).
  // Values staged as JSON text (a cold agent-log scan stages 5.6 MB of hours
  // so) are sent as they are; the others are serialised one by one. One
  // indexed pass over thousands of values, run once per process: each further
  // pass is one more loop for V8 to optimise while it runs, on threads whose
  // time is this process's too.
  const keys = [...changes.set.keys()];
  const values = [...changes.set.values()];
  const texts: Array<string | Uint8Array> = new Array(values.length);
  let stagedAsJson = 0;
  for (let index = 0; index < values.length; index += 1) {
    const value = values[index];
    // JSON.stringify gives undefined for these; an object would have dropped them without a word.
    if (value === undefined || typeof value === 'function' || typeof value === 'symbol') {
      throw new TypeError(`state value for "${keys[index]}" must be JSON, not ${typeof value}`);
    }
    if (StateJsonText.isInstance(value)) {
      texts[index] = value.json;
      stagedAsJson += 1;
    } else texts[index] = JSON.stringify(value);
  }
  const batches: SerializedStateBatch[] = [];
  for (let start = 0; start < keys.length; start += STATE_KEYS_PER_STATEMENT) {
    const whole = start === 0 && keys.length <= STATE_KEYS_PER_STATEMENT;
    const end = Math.min(keys.length, start + STATE_KEYS_PER_STATEMENT);
    const batchKeys = whole ? keys : keys.slice(start, end);
    const jsonTexts = () => {
      const listed: Array<readonly [string, string | Uint8Array]> = [];
      for (let index = start; index < end; index += 1) {
        const value = values[index];
        if (StateJsonText.isInstance(value)) listed.push([keys[index] as string, value.json]);
      }
      return listed;
    };
    batches.push({
      keys: textArrayParameter(kind, batchKeys),
      values: textArrayParameter(kind, whole ? texts : texts.slice(start, end)),
      ...(stagedAsJson === 0 ? {} : { jsonTexts }),
    });
  }
  return batches;
}

/** A value staged as JSON text that is not exactly one JSON value: named, rather than the database's error about the whole array. */
function findBadJsonText(batch: SerializedStateBatch): StoreArgumentError | undefined {
  for (const [key, json] of batch.jsonTexts?.() ?? []) {
    const text = typeof json === 'string' ? json : decoder.decode(json);
    try {
      JSON.parse(text);
    } catch (error) {
      return new StoreArgumentError({ argument: `state["${key}"]`, message: `the JSON text staged for it is not one JSON value (${(error as Error).message})` });
    }
  }
  return undefined;
}

const decoder = new TextDecoder();

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
  serialized: readonly SerializedStateBatch[],
  options: { readonly onlyNewKeys?: boolean } = {},
): Promise<void> {
  for (let start = 0; start < deleted.length; start += ROWS_PER_STATEMENT) {
    await tx.query(`DELETE FROM ${tables.sourceState} WHERE source = $1 AND key = ANY($2::text[])`, [source, deleted.slice(start, start + ROWS_PER_STATEMENT)]);
  }
  // Each value is checked as it is cast to json: a text that is not one JSON
  // value fails the statement (findBadJsonText then names its key). The two
  // arrays are unnested side by side in the select list, which streams their
  // elements; in FROM, unnest's rows would first be stored in a tuplestore,
  // which megabytes of state spill to a temporary file.
  const insert = `INSERT INTO ${tables.sourceState} (source, key, value)
SELECT $1, changed.key, changed.value::json FROM (SELECT unnest($2::text[]) AS key, unnest($3::text[]) AS value) AS changed`;
  const statement = options.onlyNewKeys ? insert : `${insert}\nON CONFLICT (source, key) DO UPDATE SET value = EXCLUDED.value, updated_at = now()`;
  for (const batch of serialized) {
    await tx.query(statement, [source, batch.keys, batch.values]).catch((error: unknown) => {
      throw (batch.jsonTexts && findBadJsonText(batch)) || error;
    });
  }
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
