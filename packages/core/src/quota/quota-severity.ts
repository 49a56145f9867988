import { effectiveUsedRatio, type QuotaReading } from './quota-reading';

export type QuotaSeverity = 'OK' | 'WARNING' | 'CRITICAL' | 'UNKNOWN';

/** Used-ratio thresholds (0–1) at which a window becomes WARNING and CRITICAL. */
export type QuotaThresholds = { readonly warning: number; readonly critical: number };

export const DEFAULT_QUOTA_THRESHOLDS: QuotaThresholds = { warning: 0.8, critical: 0.95 };

/** Nagios plugin exit codes, which cron and monitoring already understand. */
export const QUOTA_SEVERITY_EXIT_CODES: Readonly<Record<QuotaSeverity, number>> = { OK: 0, WARNING: 1, CRITICAL: 2, UNKNOWN: 3 };

/**
 * A window's severity: `rejected` is CRITICAL whatever the number; a reading
 * that says nothing about use (auth required, invalid key, no ratio) is
 * UNKNOWN, never OK; a window whose reset has passed counts as replenished;
 * the provider's own `warning` is at least WARNING.
 */
export function quotaSeverity(reading: QuotaReading, now: Date, thresholds: QuotaThresholds = DEFAULT_QUOTA_THRESHOLDS): QuotaSeverity {
  if (reading.status === 'rejected') return 'CRITICAL';
  if (reading.status === 'auth_required' || reading.status === 'invalid_key' || reading.status === 'unknown') return 'UNKNOWN';
  const used = effectiveUsedRatio(reading, now);
  if (used === null) return 'UNKNOWN';
  if (used >= thresholds.critical) return 'CRITICAL';
  if (used >= thresholds.warning || reading.status === 'warning') return 'WARNING';
  return 'OK';
}

/** The worst severity wins; CRITICAL and WARNING outrank UNKNOWN (as Nagios aggregates). */
export function worstQuotaSeverity(severities: Iterable<QuotaSeverity>): QuotaSeverity {
  const rank: Record<QuotaSeverity, number> = { OK: 0, UNKNOWN: 1, WARNING: 2, CRITICAL: 3 };
  let worst: QuotaSeverity = 'OK';
  for (const severity of severities) if (rank[severity] > rank[worst]) worst = severity;
  return worst;
}

/** The newest reading of every (source, provider, account, window). */
export function latestQuotaReadings(readings: readonly QuotaReading[]): QuotaReading[] {
  const latest = new Map<string, QuotaReading>();
  for (const reading of readings) {
    const key = quotaSeriesKey(reading);
    const seen = latest.get(key);
    if (!seen || reading.observedAt.getTime() > seen.observedAt.getTime()) latest.set(key, reading);
  }
  return [...latest.values()].sort(
    (a, b) => a.provider.localeCompare(b.provider) || a.account.localeCompare(b.account) || a.window.localeCompare(b.window),
  );
}

export function quotaSeriesKey(reading: Pick<QuotaReading, 'source' | 'provider' | 'account' | 'window'>): string {
  return JSON.stringify([reading.source, reading.provider, reading.account, reading.window]);
}
