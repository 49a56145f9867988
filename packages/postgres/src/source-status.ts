import type { StoreTables } from './schema-name';
import type { SqlClient } from './sql-client';
import { StoreArgumentError } from './store-argument-error';

/** The watchdog_status row the worker keeps about itself. No configured source may use this name. */
export const HEARTBEAT_SOURCE = '__heartbeat__';

export const SOURCE_STATES = ['ok', 'error', 'stale', 'paused'] as const;

/** `paused`: configured but deliberately not operating; reported, never called stale (invariant 9). */
export type SourceState = (typeof SOURCE_STATES)[number];

/** A row of watchdog_status. */
export type SourceStatus = {
  /** The configured source name, or HEARTBEAT_SOURCE. */
  readonly source: string;
  readonly sourceSystem: string;
  readonly status: SourceState;
  readonly lastRunAt: Date | null;
  readonly lastSuccessAt: Date | null;
  readonly lastError: string | null;
  /** Rows the last successful run wrote. */
  readonly rowsWritten: number;
  readonly updatedAt: Date;
};

export type SourceStatusUpdate = {
  readonly source: string;
  readonly sourceSystem: string;
  readonly status: SourceState;
  /** Already redacted by the caller (invariant 13); cut to MAX_ERROR_LENGTH characters. */
  readonly error?: string;
  readonly now?: Date;
};

/**
 * The status table is read by people and alerting scripts; a provider's HTML
 * error page can run to megabytes, and its first lines say what went wrong.
 */
const MAX_ERROR_LENGTH = 2000;

type StatusRow = {
  source: string;
  source_system: string;
  status: SourceState;
  last_run_at: Date | null;
  last_success_at: Date | null;
  last_error: string | null;
  rows_written: number;
  updated_at: Date;
};

/** A configured source name: not empty and not the worker's own heartbeat row. */
export function checkSourceName(source: string, argument: string): void {
  if (typeof source !== 'string' || source === '') {
    throw new StoreArgumentError({ argument, message: 'must be a non-empty source name' });
  }
  if (source === HEARTBEAT_SOURCE) {
    throw new StoreArgumentError({ argument, message: `"${HEARTBEAT_SOURCE}" is reserved for the worker's heartbeat` });
  }
}

/**
 * Makes the statement's own transaction commit asynchronously: PostgreSQL
 * answers before the commit record reaches the disk (`synchronous_commit`
 * off, for this transaction alone: `set_config(…, true)`). For a row that only
 * says how the last run went, and only outside a transaction of other writes:
 * a crash of the server may lose the last fraction of a second of such rows
 * (the next cycle writes them again), never leave them inconsistent, and the
 * cycle that finds nothing new does not wait for two WAL flushes, each
 * a good part of its time (bench/startup/README.md).
 */
const ASYNCHRONOUS_COMMIT = `(SELECT set_config('synchronous_commit', 'off', true)) AS asynchronous_commit`;

/**
 * Marks a successful run: status ok, error cleared, last_success_at and rows_written set.
 * `asynchronousCommit` only for a statement that is its own transaction (see ASYNCHRONOUS_COMMIT).
 */
export async function recordSuccess(
  client: SqlClient,
  tables: StoreTables,
  success: { source: string; sourceSystem: string; rowsWritten: number; now: Date },
  options: { asynchronousCommit?: boolean } = {},
): Promise<void> {
  await client.query(
    `INSERT INTO ${tables.watchdogStatus}
       (source, source_system, status, last_run_at, last_success_at, last_error, rows_written, updated_at)
     ${
       options.asynchronousCommit
         ? `SELECT $1::text, $2::text, 'ok', $3::timestamptz, $3::timestamptz, NULL, $4::bigint, $3::timestamptz FROM ${ASYNCHRONOUS_COMMIT}`
         : `VALUES ($1, $2, 'ok', $3, $3, NULL, $4, $3)`
     }
     ON CONFLICT (source) DO UPDATE SET
       source_system = EXCLUDED.source_system,
       status = 'ok',
       last_run_at = EXCLUDED.last_run_at,
       last_success_at = EXCLUDED.last_success_at,
       last_error = NULL,
       rows_written = EXCLUDED.rows_written,
       updated_at = EXCLUDED.updated_at`,
    [success.source, success.sourceSystem, success.now, success.rowsWritten],
  );
}

/**
 * Marks a successful run that has nothing else to write (no rows, no state,
 * no watermark: a cycle that found nothing new) in one statement, without the
 * transaction and source lock of writeSourceWindow, which would write the
 * same status row in four round trips. Committed asynchronously (see
 * ASYNCHRONOUS_COMMIT): the row carries nothing but the run's outcome.
 */
export async function recordSourceSuccess(
  client: SqlClient,
  tables: StoreTables,
  success: { source: string; sourceSystem: string; rowsWritten?: number; now?: Date },
): Promise<void> {
  checkSourceName(success.source, 'success.source');
  const rowsWritten = success.rowsWritten ?? 0;
  if (!Number.isSafeInteger(rowsWritten) || rowsWritten < 0) {
    throw new StoreArgumentError({ argument: 'success.rowsWritten', message: 'must be a whole number >= 0' });
  }
  await recordSuccess(client, tables, { source: success.source, sourceSystem: success.sourceSystem, rowsWritten, now: success.now ?? new Date() }, { asynchronousCommit: true });
}

/**
 * Records a run that wrote nothing: a failure, a paused source, a stale
 * verdict. last_success_at and rows_written keep the values of the last
 * successful run, so "failing since" stays visible.
 */
export async function recordSourceStatus(client: SqlClient, tables: StoreTables, update: SourceStatusUpdate): Promise<void> {
  checkSourceName(update.source, 'update.source');
  if (!(SOURCE_STATES as readonly string[]).includes(update.status)) {
    throw new StoreArgumentError({ argument: 'update.status', message: `must be one of ${SOURCE_STATES.join(', ')}` });
  }
  const error = update.error === undefined ? null : update.error.slice(0, MAX_ERROR_LENGTH);
  await client.query(
    `INSERT INTO ${tables.watchdogStatus}
       (source, source_system, status, last_run_at, last_error, updated_at)
     VALUES ($1, $2, $3, $4, $5, $4)
     ON CONFLICT (source) DO UPDATE SET
       source_system = EXCLUDED.source_system,
       status = EXCLUDED.status,
       last_run_at = EXCLUDED.last_run_at,
       last_error = EXCLUDED.last_error,
       updated_at = EXCLUDED.updated_at`,
    [update.source, update.sourceSystem, update.status, update.now ?? new Date(), error],
  );
}

/**
 * Upserts the worker's own row. An external watchdog that sees it go stale
 * knows the worker is down, which the per-source rows cannot tell it.
 * Committed asynchronously (see ASYNCHRONOUS_COMMIT): a heartbeat lost to a
 * crash of the server is written again by the next cycle.
 */
export async function heartbeat(client: SqlClient, tables: StoreTables, now: Date = new Date()): Promise<void> {
  await recordSuccess(client, tables, { source: HEARTBEAT_SOURCE, sourceSystem: '', rowsWritten: 0, now }, { asynchronousCommit: true });
}

export async function listStatus(client: SqlClient, tables: StoreTables): Promise<SourceStatus[]> {
  const rows = await client.query<StatusRow>(
    `SELECT source, source_system, status, last_run_at, last_success_at, last_error, rows_written, updated_at
     FROM ${tables.watchdogStatus}
     ORDER BY source`,
  );
  return rows.map((row) => ({
    source: row.source,
    sourceSystem: row.source_system,
    status: row.status,
    lastRunAt: row.last_run_at,
    lastSuccessAt: row.last_success_at,
    lastError: row.last_error,
    rowsWritten: row.rows_written,
    updatedAt: row.updated_at,
  }));
}
