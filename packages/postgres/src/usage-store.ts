import type { UsageAdapterV1StateSelection } from '@utt/core';
import { importUsageEvents, type UsageEventImport, type UsageEventImportResult } from './import-usage-events';
import { freshness, latestUsageUpdate, type SourceFreshness } from './freshness';
import { reconcile, type ReconcileQuery, type ReconcileRow } from './reconcile';
import { report, type ReportQuery, type ReportRow } from './report';
import { migrationsPending, runMigrations } from './run-migrations';
import type { StoreTables } from './schema-name';
import {
  heartbeat,
  listStatus,
  recordSourceStatus,
  recordSourceSuccess,
  type SourceStatus,
  type SourceStatusUpdate,
} from './source-status';
import type { CloseOptions, SqlClient } from './sql-client';
import { loadSourceState } from './source-state';
import { type VerificationCheck, type VerifyOptions, verify } from './verify';
import { addRollupTimeZone, dropRollupTimeZone, listRollupTimeZones } from './usage-rollup';
import { getWatermark, listWatermarks, type SourceWatermark } from './watermark';
import { type SourceWindowWrite, writeSourceWindow } from './write-source-window';
import {
  type PruneTrackedCallsOptions,
  pruneTrackedCalls,
  readLabelValues,
  readSpend,
  readUnpricedUsage,
  setTrackedCallCosts,
  type TrackedCallCost,
  type TrackedCallsWrite,
  writeTrackedCalls,
} from './tracked-calls';
import type { SpendQueryV1, SpendScopeV1, TrackedCallV1 } from '@utt/core';
import { type AlertObservation, type AlertPrevious, type AlertStateRow, listAlertStates, transitionAlert } from './alert-state';
import {
  latestQuotaReadingRows,
  listQuotaReadings,
  type QuotaReadingsQuery,
  type QuotaReadingsWrite,
  writeQuotaReadings,
} from './quota-readings';
import type { QuotaReading } from '@utt/core';

/** The utt store: everything the worker, the CLI and an application need from the database. */
export type UsageStore = {
  /** Low-level access to the same connection, for `utt` commands and tests. */
  readonly client: SqlClient;
  /** The schema the store reads and writes (validated, unquoted). */
  readonly schema: string;
  /** Applies pending migrations; `applied` lists what this call ran (empty when up to date). */
  migrate(): Promise<{ applied: string[] }>;
  /** Whether `migrate()` has anything to apply: one read, no locks, no DDL. */
  migrationsPending(): Promise<boolean>;
  /**
   * A source's durable state (source_state), as stored by its last successful
   * write: every key, or only the selected keys and prefixes.
   */
  loadSourceState(source: string, selection?: UsageAdapterV1StateSelection): Promise<Map<string, unknown>>;
  /** The stored watermark of a source, unsnapped; null before its first successful write. */
  getWatermark(source: string): Promise<Date | null>;
  /** Rows, watermark and status of one source for one window, in one transaction (invariant 12). */
  writeSourceWindow(write: SourceWindowWrite): Promise<{ rowsWritten: number }>;
  /**
   * Per-event usage (a file's requests) summed into cells and written in one
   * transaction at database speed: COPY into a temporary table, one GROUP BY,
   * one INSERT … ON CONFLICT. Memory stays flat whatever the size.
   */
  importUsageEvents(write: UsageEventImport): Promise<UsageEventImportResult>;
  /** A run that wrote nothing (failure, paused, stale): keeps last_success_at and rows_written. */
  recordSourceStatus(update: SourceStatusUpdate): Promise<void>;
  /**
   * A successful run with nothing else to write (the status row
   * writeSourceWindow would write for an empty window without state or
   * watermark), in one statement: status ok, error cleared, last_success_at
   * and rows_written (default 0) set.
   */
  recordSourceSuccess(success: { source: string; sourceSystem: string; rowsWritten?: number; now?: Date }): Promise<void>;
  /** Upserts the worker's own `__heartbeat__` status row. */
  heartbeat(now?: Date): Promise<void>;
  listStatus(): Promise<SourceStatus[]>;
  listWatermarks(): Promise<SourceWatermark[]>;
  report(query: ReportQuery): Promise<ReportRow[]>;
  /** Billed (provider_cost) vs computed (token_usage.cost_usd) per UTC day, source system and provider. */
  reconcile(query: ReconcileQuery): Promise<ReconcileRow[]>;
  verify(options: VerifyOptions): Promise<VerificationCheck[]>;
  /**
   * Keeps the dashboard roll-up (token_usage_daily_detail) in local days of
   * one more IANA time zone, backfilled now and kept by triggers from then on.
   * 'UTC' is always kept. `added` is false when the zone already was.
   */
  addRollupTimeZone(timeZone: string): Promise<{ added: boolean }>;
  /** The time zones the dashboard roll-up keeps local days for. */
  listRollupTimeZones(): Promise<string[]>;
  /**
   * Stops keeping one zone's local days (a reporting zone no dashboard serves
   * any more), so writes stop paying for it. 'UTC' cannot be dropped.
   * `dropped` is false when the zone was not kept.
   */
  dropRollupTimeZone(timeZone: string): Promise<{ dropped: boolean }>;
  freshness(): Promise<SourceFreshness[]>;
  /** MAX(updated_at) of a source_system's rows, never created_at (invariant 8). */
  latestUsageUpdate(sourceSystem: string): Promise<Date | null>;
  /**
   * @utt/tracker's calls: the per-call ledger, and their token_usage hourly cells recomputed in the same transaction.
   * The result counts what was skipped as stored already and, in `refused`, calls of hours before their
   * application's prune horizon (see pruneTrackedCalls), not written.
   */
  writeTrackedCalls(calls: readonly TrackedCallV1[]): Promise<TrackedCallsWrite>;
  /** USD spend per query over token_usage (every source in scope), for budgets. */
  readSpend(queries: readonly SpendQueryV1[]): Promise<string[]>;
  /** Sets stored tracked calls' costs (utt reprice) and recomputes their hourly cells from them: a cell stays the sum of its calls. */
  setTrackedCallCosts(costs: readonly TrackedCallCost[]): Promise<number>;
  /** Per spend query, the rows in its scope with usage and no cost: readSpend's figure is then a lower bound. */
  readUnpricedUsage(queries: readonly SpendQueryV1[]): Promise<number[]>;
  /** The distinct value combinations of label `keys` among rows in [start, end) within `scope`: one per tenant a per-value budget has seen. */
  readLabelValues(query: { start: Date; end: Date; keys: readonly string[]; scope?: SpendScopeV1; calendar?: SpendQueryV1['calendar'] }): Promise<Array<Record<string, string>>>;
  /**
   * Retention: deletes tracked calls of hours before `before`, in batches (one transaction each); their cells keep
   * their totals, and later writes refuse calls of those hours (a retried copy would count twice).
   */
  pruneTrackedCalls(options: PruneTrackedCallsOptions): Promise<{ deleted: number; batches: number }>;
  /** A source's quota readings, its collector state and its `quota:<source>` status, in one transaction. */
  writeQuotaReadings(write: QuotaReadingsWrite): Promise<{ stored: number; confirmed: number }>;
  /** Quota readings in time order. */
  listQuotaReadings(query?: QuotaReadingsQuery): Promise<QuotaReading[]>;
  /** The newest quota reading of every source, account and window. */
  latestQuotaReadings(query?: QuotaReadingsQuery): Promise<QuotaReading[]>;
  /** Stores an alert rule's level for a subject; on a change, runs `notify` in the same transaction. */
  transitionAlert(
    observation: AlertObservation,
    notify: (previous: AlertPrevious) => Promise<string | void>,
  ): Promise<{ notified: boolean; previous: AlertPrevious }>;
  listAlertStates(): Promise<AlertStateRow[]>;
  /** Releases the connections; `{ waitForServer: false }` (PostgreSQL) for a process about to exit (see CloseOptions). */
  close(options?: CloseOptions): Promise<void>;
};

export function createUsageStore(client: SqlClient, tables: StoreTables): UsageStore {
  return {
    client,
    schema: tables.schemaName,
    migrate: () => runMigrations(client, tables),
    migrationsPending: () => migrationsPending(client, tables),
    getWatermark: (source) => getWatermark(client, tables, source),
    loadSourceState: (source, selection) => loadSourceState(client, tables, source, selection),
    writeSourceWindow: (write) => writeSourceWindow(client, tables, write),
    importUsageEvents: (write) => importUsageEvents(client, tables, write),
    recordSourceStatus: (update) => recordSourceStatus(client, tables, update),
    recordSourceSuccess: (success) => recordSourceSuccess(client, tables, success),
    heartbeat: (now) => heartbeat(client, tables, now),
    listStatus: () => listStatus(client, tables),
    listWatermarks: () => listWatermarks(client, tables),
    report: (query) => report(client, tables, query),
    reconcile: (query) => reconcile(client, tables, query),
    verify: (options) => verify(client, tables, options),
    addRollupTimeZone: (timeZone) => addRollupTimeZone(client, tables, timeZone),
    listRollupTimeZones: () => listRollupTimeZones(client, tables),
    dropRollupTimeZone: (timeZone) => dropRollupTimeZone(client, tables, timeZone),
    freshness: () => freshness(client, tables),
    latestUsageUpdate: (sourceSystem) => latestUsageUpdate(client, tables, sourceSystem),
    writeTrackedCalls: (calls) => writeTrackedCalls(client, tables, calls),
    readSpend: (queries) => readSpend(client, tables, queries),
    readUnpricedUsage: (queries) => readUnpricedUsage(client, tables, queries),
    setTrackedCallCosts: (costs) => setTrackedCallCosts(client, tables, costs),
    readLabelValues: (query) => readLabelValues(client, tables, query),
    pruneTrackedCalls: (options) => pruneTrackedCalls(client, tables, options),
    writeQuotaReadings: (write) => writeQuotaReadings(client, tables, write),
    listQuotaReadings: (query) => listQuotaReadings(client, tables, query),
    latestQuotaReadings: (query) => latestQuotaReadingRows(client, tables, query),
    transitionAlert: (observation, notify) => transitionAlert(client, tables, observation, notify),
    listAlertStates: () => listAlertStates(client, tables),
    close: (options) => client.close(options),
  };
}
