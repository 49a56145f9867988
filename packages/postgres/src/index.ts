// Opening the store.
export { DEFAULT_PGLITE_PATH, openStore, type StoreOptions } from './open-store';
export { DEFAULT_SCHEMA, validateSchemaName } from './schema-name';
export type { UsageStore } from './usage-store';
export type { SqlClient } from './sql-client';

// What the store's methods take and return.
export type { SourceWindowWrite } from './write-source-window';
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

// Migrations (the SQL files are bundled).
export { MIGRATIONS, type Migration } from './migration-list';

// Errors.
export { StoreArgumentError } from './store-argument-error';
export { StoreConnectionError } from './store-connection-error';
