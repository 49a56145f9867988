// Opening the store.
export { DEFAULT_PGLITE_PATH, openStore, type StoreOptions } from './open-store';
export { DEFAULT_SCHEMA, validateSchemaName } from './schema-name';
export type { UsageStore } from './usage-store';
export type { CloseOptions, SqlClient } from './sql-client';

// What the store's methods take and return.
export type { SourceWindowWrite } from './write-source-window';
export type { ReplacedWindow } from './delete-ghost-rows';
export type { SourceStateChanges } from './source-state';
export {
  ISSUE_LIMIT,
  type UsageCellIssue,
  type UsageEvent,
  type UsageEventImport,
  type UsageEventImportResult,
  type UsageEventRollup,
} from './import-usage-events';
export {
  HEARTBEAT_SOURCE,
  SOURCE_STATES,
  type SourceState,
  type SourceStatus,
  type SourceStatusUpdate,
} from './source-status';
export type { SourceWatermark } from './watermark';
export {
  REPORT_GROUPINGS,
  REPORT_PERIODS,
  type ReportGrouping,
  type ReportPeriod,
  type ReportQuery,
  type ReportRow,
} from './report';
export type { ReconcileQuery, ReconcileRow } from './reconcile';
export type { VerificationCheck, VerifyOptions, VerifySource } from './verify';
export type { SourceFreshness } from './freshness';
export { QUOTA_DEDUPE_MS, type QuotaReadingsQuery, type QuotaReadingsWrite, quotaStatusSource } from './quota-readings';
export type { AlertObservation, AlertPrevious, AlertStateRow } from './alert-state';

// @utt/tracker's sink.
export {
  createTrackerSink,
  lacksOnlyUsage,
  parseTrackedCellReason,
  piggybackQuotaReadings,
  type PruneTrackedCallsOptions,
  type TrackedCellReason,
  type TrackedCallCost,
  type TrackedCallsWrite,
  type TrackedCell,
  type TrackerSinkOptions,
} from './tracked-calls';

// Dashboard reads: breakdowns in a reporting time zone, data quality.
export {
  USAGE_DIMENSIONS,
  usageBreakdown,
  validateTimeZone,
  type UsageBreakdownQuery,
  type UsageBreakdownRow,
  type UsageDimension,
  type UsageFilter,
} from './usage-breakdown';
export {
  pricingCoverage,
  unpricedModels,
  unpricedModelTotals,
  usageDimensionValues,
  type PricingCoverageRow,
  type UnpricedModel,
  type UnpricedModelTotal,
  type UsageDimensionValues,
  type UsageRange,
} from './usage-quality';

// Dashboard reads of the tracker's call ledger: pages of calls, tag breakdowns, data quality.
export {
  listTrackedCalls,
  TRACKED_CALL_PAGE_LIMIT,
  trackedCallDimensionValues,
  trackedCallSummary,
  trackedTagBreakdown,
  trackedTagKeys,
  trackedTagValues,
  USAGE_ORIGINS,
  type TrackedCallDimensionValues,
  type TrackedCallFilter,
  type TrackedCallPage,
  type TrackedCallPageQuery,
  type TrackedCallRow,
  type TrackedCallSummary,
  type TrackedCallTotals,
  type TrackedTagBreakdown,
  type TrackedTagKey,
  type TrackedTagValue,
  type UsageOrigin,
} from './tracked-call-queries';

// Migrations (the SQL files are bundled).
export { MIGRATIONS, type Migration } from './migration-list';

// Errors.
export { StoreArgumentError } from './store-argument-error';
export { StoreConnectionError } from './store-connection-error';
export { StoreBusyError } from './store-busy-error';
export {
  DEFAULT_EMBEDDED_LOCK_WAIT_MS,
  EmbeddedDatabaseBusyError,
  type EmbeddedLockHolder,
  embeddedLockPath,
  readEmbeddedLockHolder,
} from './embedded-lock';
export { DEFAULT_STORE_TIMEOUTS, type StoreTimeouts } from './store-timeouts';
