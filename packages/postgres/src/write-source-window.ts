import { type Granularity, InvalidRecordError, type ProviderCostRow, providerCostRowKey, type UsageRow, usageRowKey } from '@utt/core';
import { deleteGhostRows, type ReplacedWindow } from './delete-ghost-rows';
import { lockSourceWrite } from './lock-source-write';
import type { StoreTables } from './schema-name';
import { checkSourceName, recordSuccess } from './source-status';
import { applySerializedSourceState, type SerializedStateBatch, type SourceStateChanges, serializeSourceState, sourceStateIsNew } from './source-state';
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
 * write is checked before anything is written (a foreign source_system, an
 * unaligned watermark before the transaction opens; duplicate conflict keys
 * see checkDuplicateKeys), and any database error rolls the whole of it back:
 * nothing is half-written.
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
  // (rowsAreNew), and its state keys likewise when the source has no stored
  // state (sourceStateIsNew); if a key turns up all the same (another writer
  // of the same source_system or source, between the probe and the insert),
  // the transaction rolls back and is written again as upserts.
  let plainInsertFailed = false;
  let serializedState: SerializedStateBatch[] | undefined;
  const writeAll = () =>
    client.transaction(async (tx) => {
      await lockSourceWrite(tx, tables, write);
      if (write.replace) await deleteGhostRows(tx, tables, { ...write, replace: write.replace });
      const onlyNewKeys = !plainInsertFailed && (await rowsAreNew(tx, tables, write.sourceSystem, write.rows));
      // A plain INSERT into hours without rows of this source_system meets any
      // duplicate key of the write in the table's unique index and fails, and
      // the write is then checked here before it is tried again: a cold write
      // does not pay a pass over its rows in this process for what the index
      // checks anyway. Every other write is checked before it inserts.
      if (!onlyNewKeys) checkDuplicateKeys(write);
      const upserting = upsertUsageRows(tx, tables, write.rows, { onlyNewKeys }).catch((error: unknown) => {
        if (onlyNewKeys && isUniqueViolation(error)) plainInsertFailed = true;
        throw error;
      });
      // The state is serialised while PostgreSQL inserts the rows (upsertUsageRows has sent its first statement).
      try {
        if (write.state) serializedState ??= serializeSourceState(write.state, tx.kind);
      } finally {
        // Awaited whatever happens, so a failed insert is never left unobserved.
        await upserting;
      }
      if (write.providerCosts && write.providerCosts.length > 0) await upsertProviderCosts(tx, tables, write.providerCosts);
      if (write.state) {
        // Probed only now, so that the rows' first statement is not held back by it.
        const stateIsNew = !plainInsertFailed && write.state.set.size > 0 && (await sourceStateIsNew(tx, tables, write.source));
        await applySerializedSourceState(tx, tables, write.source, write.state.deleted, serializedState ?? [], { onlyNewKeys: stateIsNew }).catch(
          (error: unknown) => {
            if (stateIsNew && isUniqueViolation(error)) plainInsertFailed = true;
            throw error;
          },
        );
      }
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

/** Rows and provider costs of another source_system, and provider costs with one key: refused before the transaction opens. */
function checkRows(write: SourceWindowWrite): void {
  const issues: string[] = [];
  const { rows, sourceSystem } = write;
  for (let index = 0; index < rows.length; index += 1) {
    const row = rows[index] as UsageRow;
    if (row.source_system !== sourceSystem) issues.push(`rows[${index}].source_system: is "${row.source_system}" but the write is for "${sourceSystem}"`);
  }
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

/**
 * Two rows with one conflict key in a write would make PostgreSQL fail with
 * "ON CONFLICT DO UPDATE command cannot affect row a second time" (or, in
 * different statements, let the later replace the earlier), and which of the
 * two should win is the adapter's call, not the store's: refuse, naming both.
 */
function checkDuplicateKeys(write: SourceWindowWrite): void {
  const issues: string[] = [];
  // Rows are told apart by a hash of their conflict key first, and by the
  // key itself only when two hashes are equal: building the key text of every
  // row (its labels sorted) was most of this check's time on a cold cycle.
  const firstIndexByHash = new Map<number, number | number[]>();
  const keys = new Map<number, string>();
  const keyOf = (index: number) => {
    let key = keys.get(index);
    if (key === undefined) {
      key = usageRowKey(write.rows[index] as UsageRow);
      keys.set(index, key);
    }
    return key;
  };
  write.rows.forEach((row, index) => {
    const hash = conflictKeyHash(row);
    const earlier = firstIndexByHash.get(hash);
    if (earlier === undefined) {
      firstIndexByHash.set(hash, index);
      return;
    }
    const candidates = typeof earlier === 'number' ? [earlier] : earlier;
    const key = keyOf(index);
    const firstIndex = candidates.find((candidate) => keyOf(candidate) === key);
    if (firstIndex !== undefined) {
      issues.push(`rows[${index}]: same conflict key as rows[${firstIndex}] (${describeKey(row)}); merge them before writing`);
    } else if (typeof earlier === 'number') firstIndexByHash.set(hash, [earlier, index]);
    else earlier.push(index);
  });
  if (issues.length > 0) {
    const shown = issues.length > 10 ? [...issues.slice(0, 10), `… and ${issues.length - 10} more`] : issues;
    throw new InvalidRecordError({ issues: shown, where: `source "${write.source}"` });
  }
}

/**
 * A 53-bit hash of a row's conflict key (usageRowKey's fields): equal keys
 * hash equal, labels in any order. Each text is hashed with its length, so
 * that texts run together cannot pass for others; labels are summed pair by
 * pair, which does not depend on their order.
 */
function conflictKeyHash(row: UsageRow): number {
  let high = hashText(0x811c9dc5, row.source_instance);
  high = hashText(high, row.granularity);
  high = hashText(high, row.provider);
  high = hashText(high, row.model);
  high = hashText(high, row.account);
  high = hashText(high, row.api_key);
  high = hashText(high, row.user_id);
  const time = row.bucket_start.getTime();
  let low = Math.imul(hashText(0x01000193, row.source_system) ^ (time % 0x100000000), 0x5bd1e995);
  low = Math.imul(low ^ Math.floor(time / 0x100000000), 0x5bd1e995);
  let labels = 0;
  for (const key of Object.keys(row.labels)) labels = (labels + hashText(hashText(0x9e3779b9, key), row.labels[key] as string)) | 0;
  low = Math.imul(low ^ labels, 0x5bd1e995) ^ high;
  return (high & 0x1fffff) * 0x100000000 + (low >>> 0);
}

function hashText(seed: number, text: string): number {
  let hash = Math.imul(seed ^ text.length, 0x01000193);
  for (let index = 0; index < text.length; index += 1) hash = Math.imul(hash ^ text.charCodeAt(index), 0x01000193);
  return hash;
}

function describeKey(row: UsageRow): string {
  const parts = [`${row.granularity} ${row.bucket_start.toISOString()}`, `provider=${row.provider}`];
  for (const dimension of ['source_instance', 'model', 'account', 'api_key', 'user_id'] as const) {
    if (row[dimension] !== '') parts.push(`${dimension}=${row[dimension]}`);
  }
  if (Object.keys(row.labels).length > 0) parts.push(`labels=${JSON.stringify(row.labels)}`);
  return parts.join(', ');
}
