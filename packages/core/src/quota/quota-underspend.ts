import { quotaPace } from './quota-pace';
import { effectiveUsedRatio, type QuotaReading } from './quota-reading';

export type QuotaUnderspendOptions = {
  /** Raise when at least this share of the short window is unused. Default 0.4. */
  readonly minUnusedRatio?: number;
  /** …and its reset is closer than this. Default 2 h. */
  readonly withinMs?: number;
  /** The short window (default `5h`) and the long one that must have room (default `7d`). */
  readonly window?: string;
  readonly weeklyWindow?: string;
  /** The weekly window needs at least this share left to absorb the spend. Default 0.1. */
  readonly minWeeklyRoomRatio?: number;
};

export type QuotaUnderspend = {
  readonly provider: string;
  readonly account: string;
  readonly window: string;
  readonly unusedRatio: number;
  readonly resetsAt: Date;
  /** The weekly window's remaining share; null when the account has no weekly reading. */
  readonly weeklyRemainingRatio: number | null;
};

/**
 * Quota about to be thrown away: a short window with ≥ 40 % unused and under
 * 2 hours to its reset, raised only where the weekly window has room to spend
 * it (not rejected, at least `minWeeklyRoomRatio` left, and not projected to
 * run out before its own reset). An account without a weekly reading has no
 * weekly limit in the way. Pass the latest reading of each window.
 */
export function quotaUnderspend(latest: readonly QuotaReading[], now: Date, options: QuotaUnderspendOptions = {}): QuotaUnderspend[] {
  const minUnused = options.minUnusedRatio ?? 0.4;
  const within = options.withinMs ?? 2 * 3_600_000;
  const shortWindow = options.window ?? '5h';
  const weeklyWindow = options.weeklyWindow ?? '7d';
  const minRoom = options.minWeeklyRoomRatio ?? 0.1;
  const found: QuotaUnderspend[] = [];
  for (const reading of latest) {
    if (reading.window !== shortWindow || reading.resetsAt === null || reading.status === 'rejected') continue;
    if (reading.status === 'auth_required' || reading.status === 'invalid_key') continue;
    const used = effectiveUsedRatio(reading, now);
    const left = reading.resetsAt.getTime() - now.getTime();
    if (used === null || left <= 0 || left >= within || 1 - used < minUnused) continue;
    const weekly = latest.find(
      (other) => other.provider === reading.provider && other.account === reading.account && other.window === weeklyWindow,
    );
    let weeklyRemaining: number | null = null;
    if (weekly) {
      const weeklyUsed = effectiveUsedRatio(weekly, now);
      if (weekly.status === 'rejected' || weeklyUsed === null) continue;
      weeklyRemaining = 1 - weeklyUsed;
      if (weeklyRemaining < minRoom) continue;
      if (quotaPace(weekly, now)?.runsOutBeforeReset) continue;
    }
    found.push({
      provider: reading.provider,
      account: reading.account,
      window: reading.window,
      unusedRatio: 1 - used,
      resetsAt: reading.resetsAt,
      weeklyRemainingRatio: weeklyRemaining,
    });
  }
  return found.sort((a, b) => a.resetsAt.getTime() - b.resetsAt.getTime());
}
