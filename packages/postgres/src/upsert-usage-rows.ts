import { KEY_COLUMNS, TOKEN_COLUMNS, type UsageRow } from '@utt/core';
import type { StoreTables } from './schema-name';
import type { SqlClient } from './sql-client';

/** The columns that are replaced when a row with the same conflict key exists. */
const VALUE_COLUMNS = [...TOKEN_COLUMNS, 'cost_usd', 'cost_source', 'measurement_basis', 'price_ref', 'unpriced_reason'] as const;

/** The pricing columns a replay keeps when it would only re-price the same tokens (see frozenCostCondition). */
const PRICING_COLUMNS = new Set<string>(['cost_usd', 'cost_source', 'price_ref', 'unpriced_reason']);

const INSERT_COLUMNS = [...KEY_COLUMNS, ...VALUE_COLUMNS] as const;

/** The SQL type of each inserted column, as json_to_recordset reads it. */
const COLUMN_TYPES: Readonly<Record<(typeof INSERT_COLUMNS)[number], string>> = {
  source_system: 'text',
  source_instance: 'text',
  granularity: 'text',
  bucket_start: 'timestamptz',
  provider: 'text',
  model: 'text',
  account: 'text',
  api_key: 'text',
  user_id: 'text',
  labels: 'jsonb',
  input_tokens: 'bigint',
  output_tokens: 'bigint',
  cached_read_tokens: 'bigint',
  cached_write_tokens: 'bigint',
  cached_write_1h_tokens: 'bigint',
  reasoning_tokens: 'bigint',
  requests: 'bigint',
  cost_usd: 'numeric',
  cost_source: 'text',
  measurement_basis: 'text',
  price_ref: 'text',
  unpriced_reason: 'text',
};

/**
 * Rows per INSERT statement. Each statement carries its rows as one JSON
 * parameter: a cycle of 16,000 rows is four statements (and four passes of
 * the daily roll-up trigger), and the text stays a few megabytes.
 */
export const ROWS_PER_STATEMENT = 5_000;

/**
 * Replacement upsert (invariant 1): a row whose conflict key exists overwrites
 * every counter, the cost and the basis, and moves updated_at; created_at is
 * kept.
 *
 * The rows travel as one JSON document per statement, unpacked by
 * json_to_recordset: serialising them is one native JSON.stringify, where
 * binding 22 parameters a row made the driver convert and frame each value
 * (a third of a cold cycle's write time), and the statement text is the same
 * whatever the number of rows. JSON keeps every value exact: counters are
 * safe integers, costs decimal text, bucket_start an ISO instant.
 *
 * Run it inside a transaction: a later batch failing must undo the earlier
 * ones. The caller must also remove duplicate conflict keys first: PostgreSQL
 * refuses one INSERT that updates the same row twice.
 */
export async function upsertUsageRows(tx: SqlClient, tables: StoreTables, rows: readonly UsageRow[]): Promise<void> {
  const statement = upsertStatement(tables);
  let running: Promise<unknown> | undefined;
  for (let start = 0; start < rows.length; start += ROWS_PER_STATEMENT) {
    // Each batch is serialised while PostgreSQL runs the one before (a
    // statement is sent as soon as it is called), so this process's work and
    // the database's overlap. The statements still run one after the other:
    // the next is sent only once the previous one has succeeded.
    const batch: CompactRow[] = [];
    for (let index = start; index < Math.min(rows.length, start + ROWS_PER_STATEMENT); index += 1) batch.push(compactRow(rows[index] as UsageRow));
    const text = JSON.stringify(batch);
    if (running) await running;
    running = tx.query(statement, [text]);
  }
  await running;
}

/**
 * Each column's member in the JSON rows: one letter, in INSERT_COLUMNS order
 * (a = source_system … v = unpriced_reason). Full column names repeated in
 * every row made the text twice as long, and serialising and sending it was
 * most of the write's own work.
 */
const MEMBERS = INSERT_COLUMNS.map((_, index) => String.fromCharCode(97 + index));

type CompactRow = Record<string, unknown>;

/** A row as its JSON members, every one named (one object shape for every row). */
function compactRow(row: UsageRow): CompactRow {
  return {
    a: row.source_system,
    b: row.source_instance,
    c: row.granularity,
    d: row.bucket_start,
    e: row.provider,
    f: row.model,
    g: row.account,
    h: row.api_key,
    i: row.user_id,
    j: row.labels,
    k: row.input_tokens,
    l: row.output_tokens,
    m: row.cached_read_tokens,
    n: row.cached_write_tokens,
    o: row.cached_write_1h_tokens,
    p: row.reasoning_tokens,
    q: row.requests,
    r: row.cost_usd,
    s: row.cost_source,
    t: row.measurement_basis,
    u: row.price_ref ?? null,
    v: row.unpriced_reason ?? null,
  };
}

function upsertStatement(tables: StoreTables): string {
  const record = INSERT_COLUMNS.map((column, index) => `${MEMBERS[index]} ${COLUMN_TYPES[column]}`).join(', ');
  return `INSERT INTO ${tables.tokenUsage} AS existing (${INSERT_COLUMNS.join(', ')})
SELECT ${MEMBERS.join(', ')} FROM json_to_recordset($1::json) AS incoming(${record})
${replacementConflictClause()}`;
}

/**
 * The ON CONFLICT clause of every token_usage write, for an INSERT that names
 * the target `AS existing`.
 */
export function replacementConflictClause(): string {
  return `ON CONFLICT (${KEY_COLUMNS.join(', ')}) DO UPDATE SET ${replacementAssignments()}`;
}

/**
 * What a replacement sets, reading the stored row as `existing` and the
 * incoming one as `excluded`: the counters, cost and basis, except that a
 * frozen computed cost is kept (see frozenCostCondition); updated_at moves.
 */
export function replacementAssignments(): string {
  const frozen = frozenCostCondition();
  const updates = VALUE_COLUMNS.map((column) =>
    PRICING_COLUMNS.has(column)
      ? `${column} = CASE WHEN ${frozen} THEN existing.${column} ELSE EXCLUDED.${column} END`
      : `${column} = EXCLUDED.${column}`,
  );
  return `${updates.join(', ')}, updated_at = now()`;
}

/**
 * Stored costs change only through `utt reprice`. The worker re-collects the
 * open bucket and the settle window every cycle and prices them again; with a
 * newer price registry that would silently re-price history. So a replay keeps
 * the stored computed cost (and its price_ref) when the row it computed is
 * unchanged: same token and request counts, and the incoming cost is ours too
 * (computed or unpriced). New tokens, or a provider-reported cost, replace it.
 */
function frozenCostCondition(): string {
  const sameTokens = TOKEN_COLUMNS.map((column) => `existing.${column} IS NOT DISTINCT FROM EXCLUDED.${column}`);
  return `(existing.cost_source = 'computed' AND EXCLUDED.cost_source IS DISTINCT FROM 'provider' AND EXCLUDED.cost_source IS DISTINCT FROM 'fixed' AND ${sameTokens.join(' AND ')})`;
}
