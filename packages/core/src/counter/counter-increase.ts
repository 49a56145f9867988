import { floorToBucket } from '../time/bucket';
import type { Granularity } from '../time/granularity';

/** One reading of a cumulative counter (a Prometheus counter, a running total in a log). */
export type CounterSample = { readonly at: Date; readonly value: number };

/**
 * The increase of one sample over the one before it (invariant 3): a value
 * lower than the previous one means the counter restarted, so the new value is
 * itself the increase since the restart.
 */
export function counterDelta(previous: number | undefined, current: number): number {
  if (previous === undefined) return 0;
  return current >= previous ? current - previous : current;
}

/**
 * The total increase over samples in time order, safe across restarts. The
 * first sample is the baseline and contributes nothing.
 */
export function counterIncrease(samples: readonly CounterSample[]): number {
  let total = 0;
  let previous: number | undefined;
  for (const sample of samples) {
    total += counterDelta(previous, sample.value);
    previous = sample.value;
  }
  return total;
}

/**
 * Splits the increase of a counter into UTC buckets: each delta belongs to the
 * bucket of the later sample. Samples before `from` only serve as the
 * baseline. A series that starts inside the range (a new key, a new model)
 * starts from zero when `seriesStartsAtZero` is set, which is how a fresh
 * counter behaves; otherwise its first sample is only the baseline.
 */
export function counterIncreaseByBucket(
  samples: readonly CounterSample[],
  granularity: Granularity,
  options: { from?: Date; seriesStartsAtZero?: boolean } = {},
): Map<number, number> {
  const buckets = new Map<number, number>();
  let previous: number | undefined = options.seriesStartsAtZero ? 0 : undefined;
  for (const sample of samples) {
    const delta = counterDelta(previous, sample.value);
    previous = sample.value;
    if (options.from && sample.at < options.from) continue;
    const bucket = floorToBucket(sample.at, granularity).getTime();
    buckets.set(bucket, (buckets.get(bucket) ?? 0) + delta);
  }
  return buckets;
}
