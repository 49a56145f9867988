import type { QuotaReading } from './quota-reading';
import { effectiveUsedRatio } from './quota-reading';
import { type QuotaHistoricalPace, quotaHistoricalPace } from './quota-historical-pace';
import { type QuotaPace, quotaPace } from './quota-pace';
import { type QuotaSeverity, quotaSeverity, type QuotaThresholds } from './quota-severity';

/** One account window as `utt quota` and the dashboard's Quotas page show it. */
export type QuotaStatusRow = {
  readonly reading: QuotaReading;
  /** The used ratio that counts now (0 after a reset passed). */
  readonly usedRatio: number | null;
  readonly severity: QuotaSeverity;
  /** Not confirmed within quota.staleAfter: the number may have moved since. */
  readonly stale: boolean;
  readonly pace: QuotaPace | null;
  /** Only for windows of a day or longer, from the past windows in `history`. */
  readonly historicalPace: QuotaHistoricalPace | null;
};

/** Severity, staleness and pace of the latest reading of every window. */
export function quotaStatusRows(
  latest: readonly QuotaReading[],
  history: readonly QuotaReading[],
  options: { now: Date; thresholds: QuotaThresholds; staleAfterMs: number },
): QuotaStatusRow[] {
  return latest.map((reading) => ({
    reading,
    usedRatio: effectiveUsedRatio(reading, options.now),
    severity: quotaSeverity(reading, options.now, options.thresholds),
    stale: options.now.getTime() - reading.confirmedAt.getTime() > options.staleAfterMs,
    pace: quotaPace(reading, options.now, { history }),
    historicalPace: reading.windowSeconds !== null && reading.windowSeconds >= 86_400 ? quotaHistoricalPace(reading, history, options.now) : null,
  }));
}

/** Time until `at` as `utt quota` and the dashboard print it: `4h 12m`, `2d 3h`, `passed`; '' when unknown. */
export function formatCountdown(now: Date, at: Date | null): string {
  if (at === null) return '';
  const minutes = Math.round((at.getTime() - now.getTime()) / 60_000);
  if (minutes <= 0) return 'passed';
  if (minutes < 60) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours}h ${minutes % 60}m`;
  return `${Math.floor(hours / 24)}d ${hours % 24}h`;
}
