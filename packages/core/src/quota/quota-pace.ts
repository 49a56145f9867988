import { effectiveUsedRatio, type QuotaReading } from './quota-reading';

/** Where a window stands against an even spread of its quota over its length. */
export type QuotaPace = {
  /** The share an even pace would have used by now (0–1). */
  readonly expectedRatio: number;
  /** used − expected: positive is ahead of pace (a deficit), negative is reserve. */
  readonly deltaRatio: number;
  /** Used share per hour, over the basis below. */
  readonly ratePerHour: number;
  readonly rateBasis: 'window_average' | 'recent_samples';
  /** When the quota runs out at that rate; null when it lasts (or nothing is used). */
  readonly exhaustsAt: Date | null;
  /** True when exhaustsAt falls before the reset: "runs out before reset". */
  readonly runsOutBeforeReset: boolean;
  readonly resetsAt: Date;
};

export type QuotaPaceOptions = {
  /** Earlier readings of the same series; with ≥ `minRecentSpan` of them in this reset window the recent burn rate is used. */
  readonly history?: readonly QuotaReading[];
  /** How far back the recent burn rate looks. Default 6 h. */
  readonly recentLookbackMs?: number;
  /** The least span of samples that makes a recent rate. Default 30 min. */
  readonly minRecentSpanMs?: number;
};

const HOUR_MS = 3_600_000;
// Providers jitter reset times by seconds to minutes; one window's readings share a reset to within this.
const RESET_SLACK_MS = 5 * 60_000;

/**
 * The linear pace the peers use (CodexBar's UsagePace): expected = elapsed/W,
 * rate = used/elapsed (or the slope of the recent samples of the same reset
 * window when there are enough), exhaustion = now + (1 − used)/rate.
 * Null when the window's length or reset is unknown, the reset is not in
 * (now, now + W], or a fresh window shows use with no elapsed time.
 */
export function quotaPace(reading: QuotaReading, now: Date, options: QuotaPaceOptions = {}): QuotaPace | null {
  const used = effectiveUsedRatio(reading, now);
  if (used === null || reading.windowSeconds === null || reading.resetsAt === null) return null;
  const windowMs = reading.windowSeconds * 1000;
  const leftMs = reading.resetsAt.getTime() - now.getTime();
  if (!(leftMs > 0 && leftMs <= windowMs)) return null;
  const elapsedMs = windowMs - leftMs;
  if (elapsedMs === 0) return null;
  const expectedRatio = elapsedMs / windowMs;

  let ratePerMs = used / elapsedMs;
  let rateBasis: QuotaPace['rateBasis'] = 'window_average';
  const recent = recentRate(reading, now, options);
  if (recent !== null) {
    ratePerMs = recent;
    rateBasis = 'recent_samples';
  }

  let exhaustsAt: Date | null = null;
  if (used >= 1) exhaustsAt = reading.observedAt.getTime() < now.getTime() ? reading.observedAt : now;
  else if (ratePerMs > 0) exhaustsAt = new Date(now.getTime() + (1 - used) / ratePerMs);
  return {
    expectedRatio,
    deltaRatio: used - expectedRatio,
    ratePerHour: ratePerMs * HOUR_MS,
    rateBasis,
    exhaustsAt,
    runsOutBeforeReset: exhaustsAt !== null && exhaustsAt.getTime() < reading.resetsAt.getTime(),
    resetsAt: reading.resetsAt,
  };
}

/** The slope from the oldest to the newest sample of this reset window within the lookback; never across a reset. */
function recentRate(reading: QuotaReading, now: Date, options: QuotaPaceOptions): number | null {
  if (!options.history || reading.usedRatio === null || reading.resetsAt === null) return null;
  const lookback = options.recentLookbackMs ?? 6 * HOUR_MS;
  const minSpan = options.minRecentSpanMs ?? 30 * 60_000;
  const resetsAt = reading.resetsAt.getTime();
  let oldest: QuotaReading | null = null;
  for (const sample of options.history) {
    if (sample.account !== reading.account || sample.window !== reading.window || sample.provider !== reading.provider) continue;
    if (sample.usedRatio === null || sample.resetsAt === null || Math.abs(sample.resetsAt.getTime() - resetsAt) > RESET_SLACK_MS) continue;
    if (sample.observedAt.getTime() < now.getTime() - lookback || sample.observedAt.getTime() >= reading.observedAt.getTime()) continue;
    if (!oldest || sample.observedAt < oldest.observedAt) oldest = sample;
  }
  if (!oldest || oldest.usedRatio === null) return null;
  // The newer reading may have been confirmed unchanged since: the slope runs to its last confirmation.
  const span = reading.confirmedAt.getTime() - oldest.observedAt.getTime();
  if (span < minSpan) return null;
  return Math.max(0, (reading.usedRatio - oldest.usedRatio) / span);
}
