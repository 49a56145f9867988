import { ConfigValidationError } from '@utt/core';

/** The schema utt uses when none is configured. */
export const DEFAULT_SCHEMA = 'utt';

const SCHEMA_NAME_PATTERN = /^[a-z_][a-z0-9_]{0,62}$/;

/**
 * The schema name ends up in SQL text (a schema cannot be a bind parameter), so
 * it is held to a plain lower-case identifier, at most 63 bytes as PostgreSQL
 * allows. The error names the option and never repeats the value.
 */
export function validateSchemaName(schema: string): string {
  if (!SCHEMA_NAME_PATTERN.test(schema)) {
    throw new ConfigValidationError({
      issues: [
        'database.schema: must be a lower-case SQL identifier: a letter or _ then up to 62 letters, digits or _ (pattern ^[a-z_][a-z0-9_]{0,62}$)',
      ],
    });
  }
  return schema;
}

/** Fully qualified, quoted names of the store's tables in one schema. */
export type StoreTables = {
  /** The validated schema name, unquoted (for catalog lookups and lock keys). */
  readonly schemaName: string;
  /** The schema as it appears in SQL text: double-quoted. */
  readonly schema: string;
  readonly tokenUsage: string;
  /** The daily roll-up of token_usage that triggers keep (migration 0005). */
  readonly tokenUsageDaily: string;
  /** Local days by every dashboard dimension, per kept time zone (migration 0009). */
  readonly tokenUsageDailyDetail: string;
  /** The same without api_key and the price columns (migration 0009). */
  readonly tokenUsageDailyByUser: string;
  readonly tokenUsageRollupZones: string;
  readonly watchdogStatus: string;
  readonly rollupWatermark: string;
  readonly providerCost: string;
  readonly sourceState: string;
  readonly quotaReading: string;
  readonly alertState: string;
  readonly migrations: string;
  readonly trackedCall: string;
  readonly trackedCellCarry: string;
  /** Per application, the instant before which tracked calls were pruned (migration 0014). */
  readonly trackedCallHorizon: string;
};

/** Quoted even though validated, so a schema named like a keyword (`user`) still works. */
export function storeTables(schema: string): StoreTables {
  const schemaName = validateSchemaName(schema);
  const quoted = `"${schemaName}"`;
  return {
    schemaName,
    schema: quoted,
    tokenUsage: `${quoted}.token_usage`,
    tokenUsageDaily: `${quoted}.token_usage_daily`,
    tokenUsageDailyDetail: `${quoted}.token_usage_daily_detail`,
    tokenUsageDailyByUser: `${quoted}.token_usage_daily_by_user`,
    tokenUsageRollupZones: `${quoted}.token_usage_rollup_zones`,
    watchdogStatus: `${quoted}.watchdog_status`,
    rollupWatermark: `${quoted}.rollup_watermark`,
    providerCost: `${quoted}.provider_cost`,
    sourceState: `${quoted}.source_state`,
    quotaReading: `${quoted}.quota_reading`,
    alertState: `${quoted}.alert_state`,
    migrations: `${quoted}.utt_migrations`,
    trackedCall: `${quoted}.tracked_call`,
    trackedCellCarry: `${quoted}.tracked_cell_carry`,
    trackedCallHorizon: `${quoted}.tracked_call_horizon`,
  };
}

/** Replaces the `{{schema}}` placeholder of the files in sql/ with the quoted schema. */
export function renderSql(text: string, tables: StoreTables): string {
  return text.replaceAll('{{schema}}', tables.schema);
}
