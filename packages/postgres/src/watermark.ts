import { type Granularity, isAlignedToBucket, isGranularity } from '@utt/core';
import type { StoreTables } from './schema-name';
import type { SqlClient } from './sql-client';
import { StoreArgumentError } from './store-argument-error';

/** A row of rollup_watermark. */
export type SourceWatermark = {
  readonly source: string;
  readonly sourceSystem: string;
  readonly granularity: Granularity;
  /** The aligned UTC end of the last complete bucket written. */
  readonly watermark: Date;
  readonly updatedAt: Date;
};

type WatermarkRow = {
  source: string;
  source_system: string;
  granularity: Granularity;
  watermark: Date;
  updated_at: Date;
};

/**
 * The stored watermark as it is, or null before the first successful write.
 * The caller snaps it to its granularity (core's `snapWatermark`): an older
 * writer or a hand edit may have left it off a boundary.
 */
export async function getWatermark(client: SqlClient, tables: StoreTables, source: string): Promise<Date | null> {
  const [row] = await client.query<Pick<WatermarkRow, 'watermark'>>(
    `SELECT watermark FROM ${tables.rollupWatermark} WHERE source = $1`,
    [source],
  );
  return row?.watermark ?? null;
}

export async function listWatermarks(client: SqlClient, tables: StoreTables): Promise<SourceWatermark[]> {
  const rows = await client.query<WatermarkRow>(
    `SELECT source, source_system, granularity, watermark, updated_at FROM ${tables.rollupWatermark} ORDER BY source`,
  );
  return rows.map((row) => ({
    source: row.source,
    sourceSystem: row.source_system,
    granularity: row.granularity,
    watermark: row.watermark,
    updatedAt: row.updated_at,
  }));
}

/**
 * Refuses a watermark off a bucket boundary (invariant 10): storing one would
 * make the next window start mid-bucket. Checked before the transaction opens,
 * so a refused write changes nothing.
 */
export function checkWatermark(watermark: { readonly at: Date; readonly granularity: Granularity }): void {
  if (!isGranularity(watermark.granularity)) {
    throw new StoreArgumentError({ argument: 'watermark.granularity', message: "must be 'hour', 'day' or 'month'" });
  }
  if (!(watermark.at instanceof Date) || Number.isNaN(watermark.at.getTime())) {
    throw new StoreArgumentError({ argument: 'watermark.at', message: 'must be a valid Date' });
  }
  if (!isAlignedToBucket(watermark.at, watermark.granularity)) {
    throw new StoreArgumentError({
      argument: 'watermark.at',
      message: `${watermark.at.toISOString()} is not the start of a UTC ${watermark.granularity}; pass the aligned end of the last complete bucket`,
    });
  }
}

export async function upsertWatermark(
  tx: SqlClient,
  tables: StoreTables,
  watermark: { source: string; sourceSystem: string; at: Date; granularity: Granularity; now: Date },
): Promise<void> {
  await tx.query(
    `INSERT INTO ${tables.rollupWatermark} (source, source_system, granularity, watermark, updated_at)
     VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (source) DO UPDATE SET
       source_system = EXCLUDED.source_system,
       granularity = EXCLUDED.granularity,
       watermark = EXCLUDED.watermark,
       updated_at = EXCLUDED.updated_at`,
    [watermark.source, watermark.sourceSystem, watermark.granularity, watermark.at, watermark.now],
  );
}
