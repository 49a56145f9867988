import { type Granularity, InvalidRecordError, type ProviderCostRow, providerCostRowKey, type UsageRow, usageRowKey } from '@utt/core';
import { deleteGhostRows, type ReplacedWindow } from './delete-ghost-rows';
import { lockExpectedSourceWrite, lockSourceWrite, sourceWriteLockKeys } from './lock-source-write';
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
  checkWrite(write);
  // One clock for every try.
  const timed = { ...write, now: write.now ?? new Date() };
  const attempt: WriteAttempt = { plainInsertFailed: false };
  const writeAll = () => client.transaction((tx) => writeInTransaction(tx, tables, timed, attempt, new Set()));
  try {
    await writeAll();
  } catch (error) {
    if (!attempt.plainInsertFailed) throw error;
    await writeAll();
  }
  return { rowsWritten: write.rows.length };
}

/** What a source's write knows before its rows are final (startSourceWrite). */
export type SourceWriteStart = {
  readonly source: string;
  readonly sourceSystem: string;
  /**
   * The source_instance values the rows are expected to carry: their locks are
   * taken when the write starts, with the source's, in the order every writer
   * takes them. A row of another instance has its lock taken when it comes.
   */
  readonly sourceInstances: readonly string[];
};

/** The rest of a started write: everything of SourceWindowWrite but what SourceWriteStart gave. */
export type SourceWriteRest = Omit<SourceWindowWrite, 'source' | 'sourceSystem'>;

/**
 * A source's write whose transaction is open. Rows final early (validated and
 * priced) can be handed over as they are (sendRows), and the database inserts
 * them while the caller prepares the next; finish() writes the rest. It ends
 * with exactly one of finish() (commit, or a rollback and the error) and
 * abandon() (rollback). Until then its transaction holds the connection (on
 * PGlite, the database): the caller runs no other statement of the store.
 */
export type StartedSourceWrite = {
  /**
   * Resolves once the transaction is open, the source's locks taken and the
   * database asked whether this is the source's first write; never rejects
   * (a failure is reported by finish()).
   */
  readonly opened: Promise<void>;
  /**
   * Whether sendRows() sends: once opened, on a PostgreSQL server, for the
   * first write of a source_system (no stored row of it, as rowsAreNew, so
   * the rows go as plain INSERTs in whatever order they come). Otherwise the
   * rows are written by finish(), as by writeSourceWindow.
   */
  readonly sendsRowsAhead: () => boolean;
  /**
   * Rows that are final: the next ones of the write, in order. Sent now (or
   * as soon as the statement before has run) when sendsRowsAhead(); the
   * promise resolves once this process has handed them to the socket, so
   * that the caller's next work does not hold up their bytes. finish() must
   * be given every row, these first, the same objects in the same order.
   */
  sendRows(rows: readonly UsageRow[]): Promise<void>;
  /** Checks the write as writeSourceWindow does, writes what was not sent yet and commits; on any failure nothing of it stays. */
  finish(rest: SourceWriteRest): Promise<{ rowsWritten: number }>;
  /** Rolls back what was sent; resolves once the transaction has ended. Does nothing after finish(). */
  abandon(): Promise<void>;
};

/**
 * writeSourceWindow with its transaction opened before the rows are final,
 * for a caller with a large first write to prepare (the worker: a cold
 * backfill's records to validate and price). The transaction opens now and
 * takes the source's locks; on a first write the rows handed to sendRows()
 * are inserted while the caller prepares the next ones; finish() writes the
 * rest in the same transaction, with the same checks, the same retry as
 * upserts when a plain INSERT meets a key, and the same outcome: all of it or
 * nothing.
 */
export function startSourceWrite(client: SqlClient, tables: StoreTables, start: SourceWriteStart): StartedSourceWrite {
  checkSourceName(start.source, 'write.source');
  let supply: (write: SourceWindowWrite) => void = () => {};
  let refuse: (reason: unknown) => void = () => {};
  const remainder = new Promise<SourceWindowWrite>((resolve, reject) => {
    supply = resolve;
    refuse = reject;
  });
  // Observed by the transaction, unless the transaction failed before it waited for it.
  remainder.catch(() => undefined);
  let signalOpened: () => void = () => {};
  const opened = new Promise<void>((resolve) => {
    signalOpened = resolve;
  });
  const attempt: WriteAttempt = { plainInsertFailed: false };
  const held = new Set<string>();
  // Set once opened: the transaction's client, and whether rows go ahead.
  let open: { readonly tx: SqlClient; readonly rowsAhead: boolean; readonly stateIsNew: boolean } | undefined;
  const sentChunks: Array<readonly UsageRow[]> = [];
  const sending: Array<Promise<void>> = [];
  let ended = false;

  // The rows' statements, one after another: a chunk's statement is built
  // (its rows serialised) when the chunk is sent, and handed to the driver at
  // once if nothing is running, else as soon as the statement before has run
  // (pg runs one query at a time, and deprecates queueing them). After a
  // failure nothing more is sent: the transaction is lost.
  let running: Promise<unknown> | undefined;
  let idle = true;
  let failure: { readonly error: unknown } | undefined;
  // Set when the transaction is about to end: a statement still waiting for
  // its turn then never goes (it would run after the ROLLBACK, outside the
  // transaction, and commit on its own).
  let closing = false;
  const inTurn = (tx: SqlClient): SqlClient => ({
    ...tx,
    query<T>(text: string, params?: readonly unknown[]): Promise<T[]> {
      if (failure) return Promise.reject(failure.error);
      const sendNow = () => (closing ? Promise.reject(new Error('the source write ended before this statement was sent')) : tx.query<T>(text, params));
      const statement = idle || running === undefined ? sendNow() : running.then(sendNow);
      idle = false;
      running = statement;
      statement.then(
        () => {
          if (running === statement) idle = true;
        },
        (error: unknown) => {
          failure ??= { error };
        },
      );
      return statement;
    },
  });

  const send = (tx: SqlClient, rows: readonly UsageRow[]): void => {
    const keys = sourceWriteLockKeys({ source: start.source, rows });
    const ordered = inTurn(tx);
    const insert = () => upsertUsageRows(ordered, tables, rows, { onlyNewKeys: true });
    // Rows of an instance nobody expected take its lock first (the statement waits for it).
    const statement = ([...keys].every((key) => held.has(key)) ? insert() : lockSourceWrite(ordered, tables, { ...start, rows }, held).then(insert)).catch(
      (error: unknown) => {
        if (isUniqueViolation(error)) attempt.plainInsertFailed = true;
        throw error;
      },
    );
    statement.catch(() => undefined);
    sending.push(statement);
  };

  const transaction = client
    .transaction((tx) =>
      writeStarted(tx).catch(async (error: unknown) => {
        // Nothing of this write may run after the ROLLBACK: the statements not
        // sent yet never go, and the one running is awaited before it.
        closing = true;
        await Promise.allSettled(sending);
        throw error;
      }),
    )
    .finally(signalOpened);
  // Observed by finish() or abandon().
  transaction.catch(() => undefined);

  async function writeStarted(tx: SqlClient): Promise<void> {
    await lockExpectedSourceWrite(tx, tables, start, held);
    const [fresh] = await tx.query<{ rows_new: boolean; state_new: boolean }>(
      `SELECT NOT EXISTS (SELECT 1 FROM ${tables.tokenUsage} WHERE source_system = $1) AS rows_new,
              NOT EXISTS (SELECT 1 FROM ${tables.sourceState} WHERE source = $2) AS state_new`,
      [start.sourceSystem, start.source],
    );
    // PGlite runs its statements on this thread: nothing to overlap, and its transaction takes one statement at a time.
    open = { tx, rowsAhead: tx.kind === 'postgres' && fresh?.rows_new === true, stateIsNew: fresh?.state_new === true };
    signalOpened();
    const write = await remainder;
    if (!open.rowsAhead) {
      await writeInTransaction(tx, tables, write, attempt, held);
      return;
    }
    // A first write: every row goes as a plain INSERT (a key met twice fails
    // the write, which is tried again as upserts, checked), those not sent yet now.
    const sent = sentChunks.reduce((count, chunk) => count + chunk.length, 0);
    if (sent < write.rows.length) send(tx, sent === 0 ? write.rows : write.rows.slice(sent));
    try {
      // Serialised while PostgreSQL inserts the rows.
      if (write.state) attempt.serializedState ??= serializeSourceState(write.state, tx.kind);
    } finally {
      // Every statement awaited whatever happens, so none is left unobserved; the first failure is the write's.
      await Promise.allSettled(sending);
    }
    for (const statement of sending) await statement;
    // Compared by conflict key with the write's rows: the rows just inserted are among them.
    if (write.replace) await deleteGhostRows(tx, tables, { ...write, replace: write.replace });
    await writeAfterRows(tx, tables, write, attempt, async () => open?.stateIsNew === true);
  }

  return {
    opened,
    sendsRowsAhead: () => !ended && open?.rowsAhead === true,
    async sendRows(rows) {
      if (ended || open === undefined || !open.rowsAhead || rows.length === 0) return;
      sentChunks.push(rows);
      send(open.tx, rows);
      await open.tx.flushed?.();
    },
    async finish(rest) {
      if (ended) throw new Error('this source write has already been finished or abandoned');
      ended = true;
      const write: SourceWindowWrite = { ...rest, source: start.source, sourceSystem: start.sourceSystem, now: rest.now ?? new Date() };
      try {
        checkWrite(write);
        checkSentRows(write.rows, sentChunks);
      } catch (error) {
        refuse(error);
        await transaction.catch(() => undefined);
        throw error;
      }
      supply(write);
      try {
        await transaction;
      } catch (error) {
        if (!attempt.plainInsertFailed) throw error;
        await client.transaction((tx) => writeInTransaction(tx, tables, write, attempt, new Set()));
      }
      return { rowsWritten: write.rows.length };
    },
    async abandon() {
      if (ended) return;
      ended = true;
      refuse(new Error('the source write was abandoned'));
      await transaction.catch(() => undefined);
    },
  };
}

/** The rows sent ahead must be the write's first rows, the same objects in the same order. */
function checkSentRows(rows: readonly UsageRow[], sentChunks: ReadonlyArray<readonly UsageRow[]>): void {
  let offset = 0;
  for (const chunk of sentChunks) {
    for (let index = 0; index < chunk.length; index += 1) {
      if (rows[offset + index] !== chunk[index]) {
        throw new StoreArgumentError({ argument: 'rows', message: `rows[${offset + index}] is not the row sent ahead at that place; give finish() every row, those sent first, in order` });
      }
    }
    offset += chunk.length;
  }
}

/**
 * One try of a write. A source's first write (a cold backfill) inserts its
 * rows without the upsert's conflict handling when no stored row can share a
 * key with them (rowsAreNew), and its state keys likewise when the source has
 * no stored state (sourceStateIsNew); if a key turns up all the same (another
 * writer of the same source_system or source, between the probe and the
 * insert), `plainInsertFailed` is set, the transaction rolls back and is
 * written again as upserts.
 */
type WriteAttempt = { plainInsertFailed: boolean; serializedState?: SerializedStateBatch[] };

/** The checks of a write that need no database: refused before anything is sent (or, for a started write, before its rest is). */
function checkWrite(write: SourceWindowWrite): void {
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
}

/** The whole write inside its transaction (the locks in `held` already taken). */
async function writeInTransaction(tx: SqlClient, tables: StoreTables, write: SourceWindowWrite, attempt: WriteAttempt, held: Set<string>): Promise<void> {
  await lockSourceWrite(tx, tables, write, held);
  if (write.replace) await deleteGhostRows(tx, tables, { ...write, replace: write.replace });
  const onlyNewKeys = !attempt.plainInsertFailed && (await rowsAreNew(tx, tables, write.sourceSystem, write.rows));
  // A plain INSERT into hours without rows of this source_system meets any
  // duplicate key of the write in the table's unique index and fails, and
  // the write is then checked here before it is tried again: a cold write
  // does not pay a pass over its rows in this process for what the index
  // checks anyway. Every other write is checked before it inserts.
  if (!onlyNewKeys) checkDuplicateKeys(write);
  const upserting = upsertUsageRows(tx, tables, write.rows, { onlyNewKeys }).catch((error: unknown) => {
    if (onlyNewKeys && isUniqueViolation(error)) attempt.plainInsertFailed = true;
    throw error;
  });
  // The state is serialised while PostgreSQL inserts the rows (upsertUsageRows has sent its first statement).
  try {
    if (write.state) attempt.serializedState ??= serializeSourceState(write.state, tx.kind);
  } finally {
    // Awaited whatever happens, so a failed insert is never left unobserved.
    await upserting;
  }
  // Probed only now, so that the rows' first statement is not held back by it.
  await writeAfterRows(tx, tables, write, attempt, () => sourceStateIsNew(tx, tables, write.source));
}

/** What follows the rows: provider costs, the state (serialised in `attempt`), watermark and status. */
async function writeAfterRows(
  tx: SqlClient,
  tables: StoreTables,
  write: SourceWindowWrite,
  attempt: WriteAttempt,
  probeStateIsNew: () => Promise<boolean>,
): Promise<void> {
  if (write.providerCosts && write.providerCosts.length > 0) await upsertProviderCosts(tx, tables, write.providerCosts);
  if (write.state) {
    const stateIsNew = !attempt.plainInsertFailed && write.state.set.size > 0 && (await probeStateIsNew());
    await applySerializedSourceState(tx, tables, write.source, write.state.deleted, attempt.serializedState ?? [], { onlyNewKeys: stateIsNew }).catch(
      (error: unknown) => {
        if (stateIsNew && isUniqueViolation(error)) attempt.plainInsertFailed = true;
        throw error;
      },
    );
  }
  const now = write.now ?? new Date();
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
    await recordSuccess(tx, tables, { source: write.source, sourceSystem: write.sourceSystem, rowsWritten: write.status.rowsWritten ?? write.rows.length, now });
  }
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
