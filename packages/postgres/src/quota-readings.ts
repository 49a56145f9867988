import type { QuotaReading } from '@utt/core';
import type { StoreTables } from './schema-name';
import { applySourceStateChanges, type SourceStateChanges } from './source-state';
import { checkSourceName, recordSuccess } from './source-status';
import type { SqlClient } from './sql-client';
import { StoreArgumentError } from './store-argument-error';

/** A reading identical to the stored one within this time of its first observation is not stored again. */
export const QUOTA_DEDUPE_MS = 30 * 60_000;

/** The watchdog_status and source_state key of a source's quota collection: `quota:<source>`. */
export function quotaStatusSource(source: string): string {
  return `quota:${source}`;
}

/** One source's readings from one cycle, written all or nothing (invariant 12). */
export type QuotaReadingsWrite = {
  readonly source: string;
  readonly sourceSystem: string;
  readonly readings: readonly QuotaReading[];
  /** The quota collector's durable state (its call gate), stored under `quota:<source>`. */
  readonly state?: SourceStateChanges;
  /** Mark `quota:<source>` ok in watchdog_status (default true). */
  readonly recordStatus?: boolean;
  readonly now?: Date;
};

export type QuotaReadingsQuery = {
  readonly since?: Date;
  readonly until?: Date;
  readonly provider?: string;
  readonly account?: string;
  readonly source?: string;
};

type ReadingRow = {
  source: string;
  provider: string;
  account: string;
  quota_window: string;
  window_seconds: number | null;
  used_ratio: number | null;
  raw_value: number | null;
  raw_unit: string | null;
  limit_value: number | null;
  remaining: number | null;
  resets_at: Date | null;
  status: QuotaReading['status'];
  obtained_via: QuotaReading['obtainedVia'];
  observed_at: Date;
  confirmed_at: Date;
  detail: string | null;
};

const COLUMNS = `source, provider, account, quota_window, window_seconds, used_ratio, raw_value, raw_unit, limit_value, remaining,
  resets_at, status, obtained_via, observed_at, confirmed_at, detail`;

/**
 * Stores a source's readings, its collector state and its quota status in one
 * transaction. Each reading is compared with the newest stored reading of its
 * series: identical within 30 minutes of that row's first observation, it only
 * moves the row's confirmed_at; otherwise it is a new row. A reading older
 * than one already stored (a late log line) is inserted once.
 */
export async function writeQuotaReadings(
  client: SqlClient,
  tables: StoreTables,
  write: QuotaReadingsWrite,
): Promise<{ stored: number; confirmed: number }> {
  checkSourceName(write.source, 'write.source');
  write.readings.forEach((reading, index) => {
    if (reading.source !== write.source) {
      throw new StoreArgumentError({ argument: `readings[${index}].source`, message: `is "${reading.source}" but the write is for "${write.source}"` });
    }
  });
  const now = write.now ?? new Date();
  let stored = 0;
  let confirmed = 0;
  await client.transaction(async (tx) => {
    for (const reading of write.readings) {
      const [last] = await tx.query<ReadingRow & { id: number }>(
        `SELECT id, ${COLUMNS} FROM ${tables.quotaReading}
         WHERE source = $1 AND provider = $2 AND account = $3 AND quota_window = $4
         ORDER BY observed_at DESC LIMIT 1 FOR UPDATE`,
        [reading.source, reading.provider, reading.account, reading.window],
      );
      const age = last ? reading.observedAt.getTime() - last.observed_at.getTime() : Infinity;
      if (last && age >= 0 && age < QUOTA_DEDUPE_MS && sameReading(last, reading)) {
        if (reading.observedAt > last.confirmed_at) {
          await tx.query(`UPDATE ${tables.quotaReading} SET confirmed_at = $2, updated_at = $3 WHERE id = $1`, [last.id, reading.observedAt, now]);
        }
        confirmed += 1;
        continue;
      }
      const inserted = await tx.query(
        `INSERT INTO ${tables.quotaReading} (${COLUMNS}, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $14, $15, $16)
         ON CONFLICT (source, provider, account, quota_window, observed_at) DO NOTHING
         RETURNING id`,
        [
          reading.source,
          reading.provider,
          reading.account,
          reading.window,
          reading.windowSeconds === null ? null : Math.round(reading.windowSeconds),
          reading.usedRatio,
          reading.rawValue,
          reading.rawUnit,
          reading.limit,
          reading.remaining,
          reading.resetsAt,
          reading.status,
          reading.obtainedVia,
          reading.observedAt,
          reading.detail,
          now,
        ],
      );
      if (inserted.length > 0) stored += 1;
      else confirmed += 1;
    }
    if (write.state) await applySourceStateChanges(tx, tables, quotaStatusSource(write.source), write.state);
    if (write.recordStatus ?? true) {
      await recordSuccess(tx, tables, { source: quotaStatusSource(write.source), sourceSystem: write.sourceSystem, rowsWritten: stored, now });
    }
  });
  return { stored, confirmed };
}

function sameReading(row: ReadingRow, reading: QuotaReading): boolean {
  return (
    row.used_ratio === reading.usedRatio &&
    row.raw_value === reading.rawValue &&
    row.limit_value === reading.limit &&
    row.remaining === reading.remaining &&
    row.status === reading.status &&
    (row.resets_at?.getTime() ?? null) === (reading.resetsAt?.getTime() ?? null) &&
    row.window_seconds === (reading.windowSeconds === null ? null : Math.round(reading.windowSeconds)) &&
    row.detail === reading.detail
  );
}

/** Readings in time order, filtered. */
export async function listQuotaReadings(client: SqlClient, tables: StoreTables, query: QuotaReadingsQuery = {}): Promise<QuotaReading[]> {
  const { where, params } = filters(query);
  const rows = await client.query<ReadingRow>(`SELECT ${COLUMNS} FROM ${tables.quotaReading} ${where} ORDER BY observed_at, id`, params);
  return rows.map(toReading);
}

/** The newest reading of every (source, provider, account, window) at or before `until`. */
export async function latestQuotaReadingRows(client: SqlClient, tables: StoreTables, query: QuotaReadingsQuery = {}): Promise<QuotaReading[]> {
  const { where, params } = filters(query);
  const rows = await client.query<ReadingRow>(
    `SELECT DISTINCT ON (source, provider, account, quota_window) ${COLUMNS}
     FROM ${tables.quotaReading} ${where}
     ORDER BY source, provider, account, quota_window, observed_at DESC`,
    params,
  );
  return rows.map(toReading).sort((a, b) => a.provider.localeCompare(b.provider) || a.account.localeCompare(b.account) || a.window.localeCompare(b.window));
}

function filters(query: QuotaReadingsQuery): { where: string; params: unknown[] } {
  const clauses: string[] = [];
  const params: unknown[] = [];
  const add = (sql: string, value: unknown) => {
    params.push(value);
    clauses.push(sql.replace('?', `$${params.length}`));
  };
  if (query.since) add('observed_at >= ?', query.since);
  if (query.until) add('observed_at <= ?', query.until);
  if (query.provider) add('provider = ?', query.provider);
  if (query.account) add('account = ?', query.account);
  if (query.source) add('source = ?', query.source);
  return { where: clauses.length > 0 ? `WHERE ${clauses.join(' AND ')}` : '', params };
}

function toReading(row: ReadingRow): QuotaReading {
  return {
    source: row.source,
    provider: row.provider,
    account: row.account,
    window: row.quota_window,
    windowSeconds: row.window_seconds,
    usedRatio: row.used_ratio,
    rawValue: row.raw_value,
    rawUnit: row.raw_unit,
    limit: row.limit_value,
    remaining: row.remaining,
    resetsAt: row.resets_at,
    status: row.status,
    obtainedVia: row.obtained_via,
    observedAt: row.observed_at,
    confirmedAt: row.confirmed_at,
    detail: row.detail,
  };
}
