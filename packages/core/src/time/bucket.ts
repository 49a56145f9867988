import type { Granularity } from './granularity';

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;

/** The start of the UTC bucket that contains `instant`. */
export function floorToBucket(instant: Date, granularity: Granularity): Date {
  const ms = instant.getTime();
  switch (granularity) {
    case 'hour':
      return new Date(Math.floor(ms / HOUR_MS) * HOUR_MS);
    case 'day':
      return new Date(Math.floor(ms / DAY_MS) * DAY_MS);
    case 'month':
      return new Date(Date.UTC(instant.getUTCFullYear(), instant.getUTCMonth(), 1));
  }
}

/** The smallest bucket boundary at or after `instant`. */
export function ceilToBucket(instant: Date, granularity: Granularity): Date {
  const floor = floorToBucket(instant, granularity);
  return floor.getTime() === instant.getTime() ? floor : addBuckets(floor, granularity, 1);
}

export function isAlignedToBucket(instant: Date, granularity: Granularity): boolean {
  return floorToBucket(instant, granularity).getTime() === instant.getTime();
}

/** Moves `count` whole buckets; `start` should be aligned (months keep day 1). */
export function addBuckets(start: Date, granularity: Granularity, count: number): Date {
  switch (granularity) {
    case 'hour':
      return new Date(start.getTime() + count * HOUR_MS);
    case 'day':
      return new Date(start.getTime() + count * DAY_MS);
    case 'month':
      return new Date(Date.UTC(start.getUTCFullYear(), start.getUTCMonth() + count, 1));
  }
}

/** Bucket starts in the half-open range [start, end), both aligned to `granularity`. */
export function bucketStartsBetween(start: Date, end: Date, granularity: Granularity): Date[] {
  const starts: Date[] = [];
  for (let cursor = floorToBucket(start, granularity); cursor < end; cursor = addBuckets(cursor, granularity, 1)) {
    if (cursor >= start) starts.push(cursor);
  }
  return starts;
}
