import type { QuotaReading } from './quota-reading';

/** One account's weekly window over one ISO week. */
export type QuotaWeek = {
  readonly provider: string;
  readonly account: string;
  /** `2026-W49`. */
  readonly isoWeek: string;
  readonly peakRatio: number;
  /** The mean of the week's readings. */
  readonly averageRatio: number;
  readonly readings: number;
};

/** A stretch where a window was exhausted: used ≥ 100 % or the provider said `rejected`. */
export type QuotaExhaustion = {
  readonly provider: string;
  readonly account: string;
  readonly window: string;
  readonly isoWeek: string;
  readonly startedAt: Date;
  /** The first later reading that was no longer exhausted; null while it lasts. */
  readonly endedAt: Date | null;
};

/**
 * The weekly reconstruction: per ISO week (of the reading time, UTC) and
 * account, the peak and average of the weekly (`7d`) window, and every
 * exhaustion of any window with when it started and ended.
 */
export function quotaWeekly(readings: readonly QuotaReading[], options: { window?: string } = {}): { weeks: QuotaWeek[]; exhaustions: QuotaExhaustion[] } {
  const weeklyWindow = options.window ?? '7d';
  const sorted = [...readings].sort((a, b) => a.observedAt.getTime() - b.observedAt.getTime());
  const weeks = new Map<string, { provider: string; account: string; isoWeek: string; peak: number; sum: number; count: number }>();
  for (const reading of sorted) {
    if (reading.window !== weeklyWindow || reading.usedRatio === null) continue;
    const isoWeek = isoWeekOf(reading.observedAt);
    const key = JSON.stringify([reading.provider, reading.account, isoWeek]);
    const week = weeks.get(key) ?? { provider: reading.provider, account: reading.account, isoWeek, peak: -Infinity, sum: 0, count: 0 };
    week.peak = Math.max(week.peak, reading.usedRatio);
    week.sum += reading.usedRatio;
    week.count += 1;
    weeks.set(key, week);
  }

  const exhaustions: QuotaExhaustion[] = [];
  const open = new Map<string, { startedAt: Date; reading: QuotaReading }>();
  for (const reading of sorted) {
    if (reading.status === 'auth_required' || reading.status === 'invalid_key' || reading.status === 'unknown') continue;
    if (reading.usedRatio === null && reading.status !== 'rejected') continue;
    const key = JSON.stringify([reading.provider, reading.account, reading.window]);
    const exhausted = reading.status === 'rejected' || (reading.usedRatio as number) >= 1;
    const started = open.get(key);
    if (exhausted && !started) open.set(key, { startedAt: reading.observedAt, reading });
    if (!exhausted && started) {
      exhaustions.push(exhaustion(started.reading, started.startedAt, reading.observedAt));
      open.delete(key);
    }
  }
  for (const { startedAt, reading } of open.values()) exhaustions.push(exhaustion(reading, startedAt, null));
  exhaustions.sort((a, b) => a.startedAt.getTime() - b.startedAt.getTime() || a.account.localeCompare(b.account));

  return {
    weeks: [...weeks.values()]
      .map((week) => ({
        provider: week.provider,
        account: week.account,
        isoWeek: week.isoWeek,
        peakRatio: week.peak,
        averageRatio: week.sum / week.count,
        readings: week.count,
      }))
      .sort((a, b) => a.isoWeek.localeCompare(b.isoWeek) || a.provider.localeCompare(b.provider) || a.account.localeCompare(b.account)),
    exhaustions,
  };
}

function exhaustion(reading: QuotaReading, startedAt: Date, endedAt: Date | null): QuotaExhaustion {
  return { provider: reading.provider, account: reading.account, window: reading.window, isoWeek: isoWeekOf(startedAt), startedAt, endedAt };
}

/** ISO 8601 week of a UTC instant: weeks start Monday; week 1 holds the year's first Thursday. */
export function isoWeekOf(date: Date): string {
  const day = new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate()));
  const weekday = day.getUTCDay() || 7;
  day.setUTCDate(day.getUTCDate() + 4 - weekday);
  const yearStart = Date.UTC(day.getUTCFullYear(), 0, 1);
  const week = Math.ceil(((day.getTime() - yearStart) / 86_400_000 + 1) / 7);
  return `${day.getUTCFullYear()}-W${String(week).padStart(2, '0')}`;
}
