import { type Granularity, InvalidRecordError, type ProviderCostRow, providerCostRowKey, type UsageRow, usageRowKey } from '@utt/core';
import { deleteGhostRows, type ReplacedWindow } from './delete-ghost-rows';
import { lockSourceWrite } from './lock-source-write';
import type { StoreTables } from './schema-name';
import { checkSourceName, recordSuccess } from './source-status';
import { applySerializedSourceState, type SourceStateChanges, serializeSourceState } from './source-state';
import type { SqlClient } from './sql-client';
import { StoreArgumentError } from './store-argument-error';
import { upsertProviderCosts } from './upsert-provider-costs';
import { isUniqueViolation, rowsAreNew, upsertUsageRows } from './upsert-usage-rows';
import { checkWatermark, upsertWatermark } from './watermark';

/** One source's result for one window, written all or nothing (invariant 12). */
export type SourceWindowWrite = {
  /** The configured source name (the watchdog_status and rollup_watermark key). */
  readonly source: string;
  /** The adapter's source_system; every row must carry it. */
  readonly sourceSystem: string;
  readonly rows: readonly UsageRow[];
  /** What the provider billed for the days of the window (provider_cost), written with the rows. */
  readonly providerCosts?: readonly ProviderCostRow[];
  /** The source's staged durable state (source_state), written with the rows it describes. */
  readonly state?: SourceStateChanges;
  /** The aligned end of the last complete bucket, stored with the rows. */
  readonly watermark?: { readonly at: Date; readonly granularity: Granularity };
  /** Marks the run successful; `rowsWritten` defaults to the number of rows. */
  readonly status?: { readonly status: 'ok'; readonly rowsWritten?: number };
  /** The clock for status and watermark timestamps; token_usage.updated_at uses the database clock. */
  readonly now?: Date;
  /**
   * The source re-collected this window completely: stored rows in it that
   * `rows` (and `providerCosts`) no longer hold are deleted in the same
   * transaction. Leave it out for sources that return only what changed
   * (file-based, non-windowed): their rows are only ever replaced.
   */
  readonly replace?: ReplacedWindow;
};

/**
 * Writes a source's rows, its watermark and its status in one transaction. The
 * write is checked before the transaction opens (duplicate conflict keys, a
 * foreign source_system, an unaligned watermark), and any database error rolls
 * the whole of it back: nothing is half-written.
 */
export async function writeSourceWindow(
  client: SqlClient,
  tables: StoreTables,
  write: SourceWindowWrite,
): Promise<{ rowsWritten: number }> {
  checkSourceName(write.source, 'write.source');
  checkRows(write);
  if (write.watermark) checkWatermark(write.watermark);
  if (write.replace && !(write.replace.start.getTime() <= write.replace.end.getTime())) {
    throw new StoreArgumentError({ argument: 'replace', message: 'start must not be after end' });
  }
  if (write.status && write.status.status !== 'ok') {
    throw new StoreArgumentError({ argument: 'status.status', message: "must be 'ok'; record a failure with recordSourceStatus" });
  }
  const rowsWritten = write.status?.rowsWritten ?? write.rows.length;
  if (write.status && (!Number.isSafeInteger(rowsWritten) || rowsWritten < 0)) {
    throw new StoreArgumentError({ argument: 'status.rowsWritten', message: 'must be a whole number >= 0' });
  }
  const now = write.now ?? new Date();

  // A source's first write (a cold backfill) inserts its rows without the
  // upsert's conflict handling when no stored row can share a key with them
  // (rowsAreNew); if one turns up all the same (another writer of the same
  // source_system, between the probe and the insert), the transaction rolls
  // back and is written again as upserts.
  let plainInsertFailed = false;
  let serializedState: string[] | undefined;
  const writeAll = () =>
    client.transaction(async (tx) => {
      await lockSourceWrite(tx, tables, write);
      if (write.replace) await deleteGhostRows(tx, tables, { ...write, replace: write.replace });
      const onlyNewKeys = !plainInsertFailed && (await rowsAreNew(tx, tables, write.sourceSystem, write.rows));
      const upserting = upsertUsageRows(tx, tables, write.rows, { onlyNewKeys }).catch((error: unknown) => {
        if (onlyNewKeys && isUniqueViolation(error)) plainInsertFailed = true;
        throw error;
      });
      // The state is serialised while PostgreSQL inserts the rows (upsertUsageRows has sent its first statement).
      try {
        if (write.state) serializedState ??= serializeSourceState(write.state);
      } finally {
        // Awaited whatever happens, so a failed insert is never left unobserved.
        await upserting;
      }
      if (write.providerCosts && write.providerCosts.length > 0) await upsertProviderCosts(tx, tables, write.providerCosts);
      if (write.state) await applySerializedSourceState(tx, tables, write.source, write.state.deleted, serializedState ?? []);
      if (write.watermark) {
        await upsertWatermark(tx, tables, {
          source: write.source,
          sourceSystem: write.sourceSystem,
          at: write.watermark.at,
          granularity: write.watermark.granularity,
          now,
        });
      }
      if (write.status) {
        await recordSuccess(tx, tables, { source: write.source, sourceSystem: write.sourceSystem, rowsWritten, now });
      }
    });
  try {
    await writeAll();
  } catch (error) {
    if (!plainInsertFailed) throw error;
    await writeAll();
  }
  return { rowsWritten: write.rows.length };
}

/**
 * Two rows with one conflict key in a write would make PostgreSQL fail with
 * "ON CONFLICT DO UPDATE command cannot affect row a second time", and which of
 * the two should win is the adapter's call, not the store's: refuse, naming both.
 */
function checkRows(write: SourceWindowWrite): void {
  const issues: string[] = [];
  const firstIndexByKey = new Map<string, number>();
  write.rows.forEach((row, index) => {
    if (row.source_system !== write.sourceSystem) {
      issues.push(`rows[${index}].source_system: is "${row.source_system}" but the write is for "${write.sourceSystem}"`);
    }
    const key = usageRowKey(row);
    const firstIndex = firstIndexByKey.get(key);
    if (firstIndex === undefined) {
      firstIndexByKey.set(key, index);
    } else {
      issues.push(`rows[${index}]: same conflict key as rows[${firstIndex}] (${describeKey(row)}); merge them before writing`);
    }
  });
  const firstCostIndexByKey = new Map<string, number>();
  (write.providerCosts ?? []).forEach((row, index) => {
    if (row.source_system !== write.sourceSystem) {
      issues.push(`providerCosts[${index}].source_system: is "${row.source_system}" but the write is for "${write.sourceSystem}"`);
    }
    const key = providerCostRowKey(row);
    const firstIndex = firstCostIndexByKey.get(key);
    if (firstIndex === undefined) firstCostIndexByKey.set(key, index);
    else issues.push(`providerCosts[${index}]: same day, provider, account, model and line item as providerCosts[${firstIndex}]; merge them before writing`);
  });
  if (issues.length > 0) {
    const shown = issues.length > 10 ? [...issues.slice(0, 10), `… and ${issues.length - 10} more`] : issues;
    throw new InvalidRecordError({ issues: shown, where: `source "${write.source}"` });
  }
}

function describeKey(row: UsageRow): string {
  const parts = [`${row.granularity} ${row.bucket_start.toISOString()}`, `provider=${row.provider}`];
  for (const dimension of ['source_instance', 'model', 'account', 'api_key', 'user_id'] as const) {
    if (row[dimension] !== '') parts.push(`${dimension}=${row[dimension]}`);
  }
  if (Object.keys(row.labels).length > 0) parts.push(`labels=${JSON.stringify(row.labels)}`);
  return parts.join(', ');
}
