import { KEY_COLUMNS, TOKEN_COLUMNS, type UsageRow } from '@utt/core';
import { jsonbParameter } from './jsonb-parameter';
import type { StoreTables } from './schema-name';
import type { SqlClient } from './sql-client';

/** The columns that are replaced when a row with the same conflict key exists. */
const VALUE_COLUMNS = [...TOKEN_COLUMNS, 'cost_usd', 'cost_source', 'measurement_basis', 'price_ref', 'unpriced_reason'] as const;

/** The pricing columns a replay keeps when it would only re-price the same tokens (see frozenCostCondition). */
const PRICING_COLUMNS = new Set<string>(['cost_usd', 'cost_source', 'price_ref', 'unpriced_reason']);

const INSERT_COLUMNS = [...KEY_COLUMNS, ...VALUE_COLUMNS] as const;

/**
 * The columns the rows of one write nearly always share: one source, instance,
 * granularity and provider, the same identity columns, cost source, basis and
 * reason. When every row of a batch holds the same value in each of them, the
 * values go once, as parameters $2…, and each row's array holds only the other
 * columns (ROW_COLUMNS): JSON.stringify's time grows with the values it
 * visits, and these are ten of a row's 22 (nearly a quarter of its text).
 */
const SHARED_COLUMNS = [
  'source_system',
  'source_instance',
  'granularity',
  'provider',
  'account',
  'api_key',
  'user_id',
  'cost_source',
  'measurement_basis',
  'unpriced_reason',
] as const satisfies ReadonlyArray<(typeof INSERT_COLUMNS)[number]>;

/** A row's array when its batch shares SHARED_COLUMNS: the other columns, in this order. */
const ROW_COLUMNS = INSERT_COLUMNS.filter((column) => !(SHARED_COLUMNS as readonly string[]).includes(column));

type InsertColumn = (typeof INSERT_COLUMNS)[number];

/** How each inserted column is read, as SQL, from the text of its value (`value` is an expression giving text, or jsonb for labels). */
const COLUMN_CASTS: Readonly<Record<InsertColumn, (value: string) => string>> = {
  source_system: text,
  source_instance: text,
  granularity: text,
  bucket_start: (value) => `(${value})::timestamptz`,
  provider: text,
  model: text,
  account: text,
  api_key: text,
  user_id: text,
  labels: text,
  input_tokens: bigint,
  output_tokens: bigint,
  cached_read_tokens: bigint,
  cached_write_tokens: bigint,
  cached_write_1h_tokens: bigint,
  reasoning_tokens: bigint,
  requests: bigint,
  cost_usd: (value) => `(${value})::numeric`,
  cost_source: text,
  measurement_basis: text,
  price_ref: text,
  unpriced_reason: text,
};

function text(value: string): string {
  return value;
}

function bigint(value: string): string {
  return `(${value})::bigint`;
}

/** The expression reading `column` from the row's array `r` at position `at` (labels as jsonb, the rest as text). */
function readAt(column: InsertColumn, at: number): string {
  return column === 'labels' ? `r->${at}` : COLUMN_CASTS[column](`r->>${at}`);
}

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
 * The rows travel as one JSON document per statement, an array of arrays (a
 * row's columns in INSERT_COLUMNS order), unpacked by jsonb_array_elements:
 * serialising them is one native JSON.stringify, where binding 22 parameters
 * a row made the driver convert and frame each value, and the statement text
 * is the same whatever the number of rows. Arrays rather than objects: the
 * text is a fifth shorter, this process builds no object per row, and
 * PostgreSQL reads a member by its position instead of matching names. JSON
 * keeps every value exact: counters are safe integers, costs decimal text,
 * bucket_start an ISO instant. When every row of a batch holds the same
 * values in SHARED_COLUMNS (one source's rows nearly always do), those go once
 * as parameters and each row's array holds only ROW_COLUMNS: the same rows
 * stored, for about 40 % less of this process's time serialising them
 * (bench/agent-logs/README.md, issue-12o).
 *
 * `onlyNewKeys`: the caller knows no stored row can share a conflict key with
 * these (see rowsAreNew), so a plain INSERT does the same as the upsert
 * without its speculative insertion (about a fifth of the database's work for
 * a cold cycle); should a row exist after all, or two of `rows` share a key,
 * the INSERT fails with a unique violation (isUniqueViolation) and the caller
 * must write again without it.
 *
 * Run it inside a transaction: a later batch failing must undo the earlier
 * ones. Without `onlyNewKeys` the caller must also remove duplicate conflict
 * keys first: PostgreSQL refuses one INSERT that updates the same row twice,
 * and across statements the later row would replace the earlier.
 *
 * The first statement is sent before this returns its promise, so the caller
 * can do its own work meanwhile.
 */
export async function upsertUsageRows(
  tx: SqlClient,
  tables: StoreTables,
  rows: readonly UsageRow[],
  options: { readonly onlyNewKeys?: boolean } = {},
): Promise<void> {
  const conflict = options.onlyNewKeys ? '' : `\n${replacementConflictClause()}`;
  const statement = { eachRow: `${insertStatement(tables, false)}${conflict}`, shared: `${insertStatement(tables, true)}${conflict}` };
  // Rows share few hours: each instant is formatted once (what JSON.stringify of the Date would give).
  const instants: Instants = { date: undefined, text: '', byTime: new Map() };
  let running: Promise<unknown> | undefined;
  for (let start = 0; start < rows.length; start += ROWS_PER_STATEMENT) {
    // Each batch is serialised while PostgreSQL runs the one before (a
    // statement is sent as soon as it is called), so this process's work and
    // the database's overlap. The statements still run one after the other:
    // the next is sent only once the previous one has succeeded.
    const end = Math.min(rows.length, start + ROWS_PER_STATEMENT);
    const batch: unknown[][] = new Array(end - start);
    // A Date is trusted to keep its time only within one synchronous pass.
    instants.date = undefined;
    const shared = sharedValues(rows, start, end);
    if (shared === undefined) {
      for (let index = start; index < end; index += 1) batch[index - start] = rowArray(rows[index] as UsageRow, instants);
    } else {
      for (let index = start; index < end; index += 1) batch[index - start] = ownColumnsArray(rows[index] as UsageRow, instants);
    }
    const parameter = jsonbParameter(tx.kind, JSON.stringify(batch));
    if (running) await running;
    running = shared === undefined ? tx.query(statement.eachRow, [parameter]) : tx.query(statement.shared, [parameter, ...shared]);
  }
  await running;
}

/**
 * Whether no stored row can share a conflict key with `rows`: no row of their
 * source_system at all between their first and last bucket_start. One probe
 * of the (source_system, bucket_start) index; true for a source's first write
 * (a cold backfill), false for the re-collected hours of a later cycle.
 */
export async function rowsAreNew(tx: SqlClient, tables: StoreTables, sourceSystem: string, rows: readonly UsageRow[]): Promise<boolean> {
  if (rows.length === 0) return false;
  let first = Infinity;
  let last = -Infinity;
  // Rows of one bucket mostly come together and share its Date: each Date is read once.
  let previous: Date | undefined;
  for (let index = 0; index < rows.length; index += 1) {
    const date = (rows[index] as UsageRow).bucket_start;
    if (date === previous) continue;
    previous = date;
    const time = date.getTime();
    if (time < first) first = time;
    if (time > last) last = time;
  }
  const [result] = await tx.query<{ fresh: boolean }>(
    `SELECT NOT EXISTS (SELECT 1 FROM ${tables.tokenUsage} WHERE source_system = $1 AND bucket_start >= $2 AND bucket_start <= $3) AS fresh`,
    [sourceSystem, new Date(first), new Date(last)],
  );
  return result?.fresh === true;
}

/** The error of a plain INSERT (onlyNewKeys) that met a stored conflict key. */
export function isUniqueViolation(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === '23505';
}

/** The bucket instants a write has formatted: by time, and the last Date met (rows of one bucket mostly share it and come together). */
type Instants = { date: Date | undefined; text: string; readonly byTime: Map<number, string> };

function instantText(date: Date, instants: Instants): string {
  if (date === instants.date) return instants.text;
  const time = date.getTime();
  let text = instants.byTime.get(time);
  if (text === undefined) {
    text = date.toISOString();
    instants.byTime.set(time, text);
  }
  instants.date = date;
  instants.text = text;
  return text;
}

/**
 * The values of SHARED_COLUMNS when every row of rows[start, end) holds the
 * same ones (strict equality; a missing unpriced_reason counts as null), in
 * that order; undefined otherwise, or when one is neither text nor null.
 */
function sharedValues(rows: readonly UsageRow[], start: number, end: number): Array<string | null> | undefined {
  const first = rows[start] as UsageRow;
  const { source_system, source_instance, granularity, provider, account, api_key, user_id, cost_source, measurement_basis } = first;
  const unpricedReason = first.unpriced_reason ?? null;
  for (let index = start + 1; index < end; index += 1) {
    const row = rows[index] as UsageRow;
    if (
      row.source_system !== source_system ||
      row.source_instance !== source_instance ||
      row.granularity !== granularity ||
      row.provider !== provider ||
      row.account !== account ||
      row.api_key !== api_key ||
      row.user_id !== user_id ||
      row.cost_source !== cost_source ||
      row.measurement_basis !== measurement_basis ||
      (row.unpriced_reason ?? null) !== unpricedReason
    ) {
      return undefined;
    }
  }
  // Only texts (and null) go as parameters: the driver would convert anything else its own way.
  const values = [source_system, source_instance, granularity, provider, account, api_key, user_id, cost_source, measurement_basis, unpricedReason];
  return values.every((value) => value === null || typeof value === 'string') ? values : undefined;
}

/** A row's JSON array when its batch shares SHARED_COLUMNS: ROW_COLUMNS' values, in that order. */
function ownColumnsArray(row: UsageRow, instants: Instants): unknown[] {
  return [
    instantText(row.bucket_start, instants),
    row.model,
    row.labels,
    row.input_tokens,
    row.output_tokens,
    row.cached_read_tokens,
    row.cached_write_tokens,
    row.cached_write_1h_tokens,
    row.reasoning_tokens,
    row.requests,
    row.cost_usd,
    row.price_ref ?? null,
  ];
}

/** A row as its JSON array, in INSERT_COLUMNS order. */
function rowArray(row: UsageRow, instants: Instants): unknown[] {
  const instant = instantText(row.bucket_start, instants);
  return [
    row.source_system,
    row.source_instance,
    row.granularity,
    instant,
    row.provider,
    row.model,
    row.account,
    row.api_key,
    row.user_id,
    row.labels,
    row.input_tokens,
    row.output_tokens,
    row.cached_read_tokens,
    row.cached_write_tokens,
    row.cached_write_1h_tokens,
    row.reasoning_tokens,
    row.requests,
    row.cost_usd,
    row.cost_source,
    row.measurement_basis,
    row.price_ref ?? null,
    row.unpriced_reason ?? null,
  ];
}

/**
 * The INSERT of a batch: each row's array `r` from the jsonb array $1; with
 * `shared`, SHARED_COLUMNS from the parameters $2… and the rest from `r` in
 * ROW_COLUMNS order, else every column from `r` in INSERT_COLUMNS order.
 */
function insertStatement(tables: StoreTables, shared: boolean): string {
  const reads = INSERT_COLUMNS.map((column, index) => {
    if (!shared) return readAt(column, index);
    const parameter = (SHARED_COLUMNS as readonly string[]).indexOf(column);
    return parameter === -1 ? readAt(column, ROW_COLUMNS.indexOf(column)) : COLUMN_CASTS[column](`$${parameter + 2}::text`);
  });
  return `INSERT INTO ${tables.tokenUsage} AS existing (${INSERT_COLUMNS.join(', ')})
SELECT ${reads.join(', ')} FROM jsonb_array_elements($1::jsonb) AS incoming(r)`;
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
 * frozen computed cost is kept (see frozenCostCondition) unless `reprice`
 * says the write is a deliberate re-pricing; updated_at moves.
 */
export function replacementAssignments(options: { reprice?: boolean } = {}): string {
  const frozen = frozenCostCondition();
  const updates = VALUE_COLUMNS.map((column) =>
    PRICING_COLUMNS.has(column) && options.reprice !== true
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
