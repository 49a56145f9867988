import initSql from '../../../sql/migrations/0001_init.sql';
import providerCostSql from '../../../sql/migrations/0002_provider_cost.sql';
import sourceStateSql from '../../../sql/migrations/0003_source_state.sql';
import priceProvenanceSql from '../../../sql/migrations/0004_price_provenance.sql';
import usageDailySql from '../../../sql/migrations/0005_usage_daily.sql';
import trackedCallsSql from '../../../sql/migrations/0006_tracked_calls.sql';
import quotaSql from '../../../sql/migrations/0007_quota.sql';
import usageRollupsSql from '../../../sql/migrations/0009_usage_rollups.sql';
import rollupTriggerCostSql from '../../../sql/migrations/0010_rollup_trigger_cost.sql';
import coldWriteCostSql from '../../../sql/migrations/0011_cold_write_cost.sql';
import oneRollupPassSql from '../../../sql/migrations/0012_one_rollup_pass.sql';
import responseIdentitySql from '../../../sql/migrations/0013_response_identity.sql';
import trackedCallPruneHorizonSql from '../../../sql/migrations/0014_tracked_call_prune_horizon.sql';
import unpricedRowsIndexSql from '../../../sql/migrations/0015_unpriced_rows_index.sql';
import usageUnknownCallsSql from '../../../sql/migrations/0016_usage_unknown_calls.sql';
import dropUnpricedRowsIndexSql from '../../../sql/migrations/0017_drop_unpriced_rows_index.sql';
import priceRefRowsSql from '../../../sql/migrations/0018_price_ref_rows.sql';
import dayRowsOnTheirDateSql from '../../../sql/migrations/0020_day_rows_on_their_date.sql';

export type Migration = {
  /** The file name in sql/migrations without `.sql`; recorded in utt_migrations. */
  readonly name: string;
  readonly sql: string;
};

/**
 * Every migration, in the order it runs. The SQL is bundled into the build so
 * the published package needs no sql/ folder beside it. A test keeps this list
 * and sql/migrations/ the same: add a file there, add it here.
 */
export const MIGRATIONS: readonly Migration[] = [
  { name: '0001_init', sql: initSql },
  { name: '0002_provider_cost', sql: providerCostSql },
  { name: '0003_source_state', sql: sourceStateSql },
  { name: '0004_price_provenance', sql: priceProvenanceSql },
  { name: '0005_usage_daily', sql: usageDailySql },
  { name: '0006_tracked_calls', sql: trackedCallsSql },
  { name: '0007_quota', sql: quotaSql },
  { name: '0009_usage_rollups', sql: usageRollupsSql },
  { name: '0010_rollup_trigger_cost', sql: rollupTriggerCostSql },
  { name: '0011_cold_write_cost', sql: coldWriteCostSql },
  { name: '0012_one_rollup_pass', sql: oneRollupPassSql },
  { name: '0013_response_identity', sql: responseIdentitySql },
  { name: '0014_tracked_call_prune_horizon', sql: trackedCallPruneHorizonSql },
  { name: '0015_unpriced_rows_index', sql: unpricedRowsIndexSql },
  { name: '0016_usage_unknown_calls', sql: usageUnknownCallsSql },
  { name: '0017_drop_unpriced_rows_index', sql: dropUnpricedRowsIndexSql },
  { name: '0018_price_ref_rows', sql: priceRefRowsSql },
  { name: '0020_day_rows_on_their_date', sql: dayRowsOnTheirDateSql },
];
