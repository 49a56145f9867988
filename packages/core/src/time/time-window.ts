import { addBuckets, ceilToBucket, floorToBucket } from './bucket';
import type { Granularity } from './granularity';

/** A half-open UTC range [start, end) on bucket boundaries of `granularity`. */
export type TimeWindow = {
  readonly start: Date;
  readonly end: Date;
  readonly granularity: Granularity;
};

/** Widens a range outward to whole buckets: start floors, end ceils. */
export function alignWindow(start: Date, end: Date, granularity: Granularity): TimeWindow {
  if (!(end > start)) throw new RangeError(`window end ${end.toISOString()} is not after start ${start.toISOString()}`);
  return { start: floorToBucket(start, granularity), end: ceilToBucket(end, granularity), granularity };
}

/**
 * A watermark read from the database is snapped down to a bucket boundary: an
 * unaligned one (written by an older worker or by hand) would otherwise make the
 * next window start mid-bucket and write a partial bucket over a full one.
 */
export function snapWatermark(watermark: Date, granularity: Granularity): Date {
  return floorToBucket(watermark, granularity);
}

export type CollectionPlan = {
  /** The window to collect: from the settle window before the watermark to the end of the open bucket. */
  readonly window: TimeWindow;
  /** The aligned end of the last complete bucket: the watermark to store once the window is written. */
  readonly nextWatermark: Date;
  /** True when the gap since the watermark was longer than `maxBackfillMs` and was cut. */
  readonly truncated: boolean;
};

/**
 * Plans one cycle for a source (invariants 10 and 11). The window starts at the
 * watermark minus the settle window (late provider revisions are re-collected
 * and replaced), never earlier than `maxBackfillMs` before now, and ends at the
 * end of the open bucket, which is re-collected every cycle.
 */
export function planCollectionWindow(options: {
  readonly now: Date;
  readonly granularity: Granularity;
  readonly watermark: Date | null;
  readonly settleMs: number;
  readonly maxBackfillMs: number;
}): CollectionPlan {
  const { now, granularity } = options;
  const openBucketStart = floorToBucket(now, granularity);
  const end = addBuckets(openBucketStart, granularity, 1);
  const earliest = floorToBucket(new Date(now.getTime() - options.maxBackfillMs), granularity);
  if (options.watermark === null) {
    return { window: { start: earliest, end, granularity }, nextWatermark: openBucketStart, truncated: false };
  }
  const snapped = snapWatermark(options.watermark, granularity);
  const fromWatermark = floorToBucket(new Date(snapped.getTime() - options.settleMs), granularity);
  // Truncated means buckets after the watermark are lost: a settle window that
  // reaches past maxBackfill only re-collects less of what is already written.
  const truncated = snapped < earliest;
  const start = fromWatermark < earliest ? earliest : fromWatermark < openBucketStart ? fromWatermark : openBucketStart;
  return { window: { start, end, granularity }, nextWatermark: openBucketStart, truncated };
}
