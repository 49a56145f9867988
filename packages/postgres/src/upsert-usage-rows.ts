import { KEY_COLUMNS, TOKEN_COLUMNS, type UsageRow } from '@utt/core';
import type { StoreTables } from './schema-name';
import type { SqlClient } from './sql-client';

/** The columns that are replaced when a row with the same conflict key exists. */
const VALUE_COLUMNS = [...TOKEN_COLUMNS, 'cost_usd', 'cost_source', 'measurement_basis', 'price_ref', 'unpriced_reason'] as const;

/** The pricing columns a replay keeps when it would only re-price the same tokens (see frozenCostCondition). */
const PRICING_COLUMNS = new Set<string>(['cost_usd', 'cost_source', 'price_ref', 'unpriced_reason']);

const INSERT_COLUMNS = [...KEY_COLUMNS, ...VALUE_COLUMNS] as const;

/** PostgreSQL's wire protocol numbers bind parameters with 16 bits. */
const MAX_BIND_PARAMETERS = 65_535;

/**
 * Rows per INSERT statement: large enough that a month of hourly buckets is a
 * handful of round trips, and always under the bind-parameter limit.
 */
export const ROWS_PER_STATEMENT = Math.min(1000, Math.floor(MAX_BIND_PARAMETERS / INSERT_COLUMNS.length));

/**
 * Replacement upsert (invariant 1): a row whose conflict key exists overwrites
 * every counter, the cost and the basis, and moves updated_at; created_at is
 * kept. Rows go in multi-row INSERTs of ROWS_PER_STATEMENT.
 *
 * Run it inside a transaction: a later batch failing must undo the earlier
 * ones. The caller must also remove duplicate conflict keys first: PostgreSQL
 * refuses one INSERT that updates the same row twice.
 */
export async function upsertUsageRows(tx: SqlClient, tables: StoreTables, rows: readonly UsageRow[]): Promise<void> {
  for (let start = 0; start < rows.length; start += ROWS_PER_STATEMENT) {
    const batch = rows.slice(start, start + ROWS_PER_STATEMENT);
    await tx.query(upsertStatement(tables, batch.length), batch.flatMap(rowParameters));
  }
}

function rowParameters(row: UsageRow): unknown[] {
  return INSERT_COLUMNS.map((column) => (column === 'labels' ? JSON.stringify(row.labels) : (row[column] ?? null)));
}

function upsertStatement(tables: StoreTables, rowCount: number): string {
  const tuples: string[] = [];
  for (let rowIndex = 0; rowIndex < rowCount; rowIndex += 1) {
    const placeholders = INSERT_COLUMNS.map((column, columnIndex) => {
      const placeholder = `$${rowIndex * INSERT_COLUMNS.length + columnIndex + 1}`;
      return column === 'labels' ? `${placeholder}::jsonb` : placeholder;
    });
    tuples.push(`(${placeholders.join(', ')})`);
  }
  return `INSERT INTO ${tables.tokenUsage} AS existing (${INSERT_COLUMNS.join(', ')})
VALUES ${tuples.join(',\n       ')}
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
