import type { ProviderCostRow } from '@utt/core';
import type { StoreTables } from './schema-name';
import type { SqlClient } from './sql-client';

const KEY_COLUMNS = ['source_system', 'source_instance', 'bucket_start', 'provider', 'account', 'model', 'line_item'] as const;
const VALUE_COLUMNS = ['amount_usd', 'currency'] as const;
const INSERT_COLUMNS = [...KEY_COLUMNS, ...VALUE_COLUMNS] as const;
const ROWS_PER_STATEMENT = 1000;

/**
 * Replacement upsert of billed amounts (invariant 1): a provider's revision of
 * a day overwrites it. Run inside the source's write transaction.
 */
export async function upsertProviderCosts(tx: SqlClient, tables: StoreTables, rows: readonly ProviderCostRow[]): Promise<void> {
  for (let start = 0; start < rows.length; start += ROWS_PER_STATEMENT) {
    const batch = rows.slice(start, start + ROWS_PER_STATEMENT);
    const tuples = batch.map(
      (_, rowIndex) => `(${INSERT_COLUMNS.map((__, columnIndex) => `$${rowIndex * INSERT_COLUMNS.length + columnIndex + 1}`).join(', ')})`,
    );
    await tx.query(
      `INSERT INTO ${tables.providerCost} (${INSERT_COLUMNS.join(', ')})
VALUES ${tuples.join(',\n       ')}
ON CONFLICT (${KEY_COLUMNS.join(', ')}) DO UPDATE SET ${VALUE_COLUMNS.map((column) => `${column} = EXCLUDED.${column}`).join(', ')}, updated_at = now()`,
      batch.flatMap((row) => INSERT_COLUMNS.map((column) => row[column])),
    );
  }
}
