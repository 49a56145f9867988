import type { QuotaReadingV1 } from '@utt/core';

type StatuslineWindow = { used_percentage?: unknown; resets_at?: unknown } | null | undefined;

/**
 * The `rate_limits` Claude Code pipes to a statusLine command (v2.1.80+):
 * `five_hour` and `seven_day`, `used_percentage` 0–100 (can exceed 100),
 * `resets_at` in Unix seconds. Absent or null before the session's first
 * response, and on API-key sessions: then there is nothing to record.
 */
export function claudeStatuslineReadings(input: unknown, options: { account: string; observedAt: Date }): QuotaReadingV1[] {
  if (typeof input !== 'object' || input === null) return [];
  const limits = (input as { rate_limits?: Record<string, StatuslineWindow> | null }).rate_limits;
  if (!limits || typeof limits !== 'object') return [];
  const readings: QuotaReadingV1[] = [];
  for (const [key, window, seconds] of [
    ['five_hour', '5h', 18_000],
    ['seven_day', '7d', 604_800],
  ] as const) {
    const value = limits[key];
    if (!value || typeof value !== 'object') continue;
    const percent = typeof value.used_percentage === 'number' && Number.isFinite(value.used_percentage) ? value.used_percentage : null;
    if (percent === null) continue;
    const resetsAt = typeof value.resets_at === 'number' && Number.isFinite(value.resets_at) ? new Date(value.resets_at * 1000) : null;
    readings.push({
      provider: 'anthropic',
      account: options.account,
      window,
      windowSeconds: seconds,
      usedRatio: percent / 100,
      rawValue: percent,
      rawUnit: 'percent',
      resetsAt,
      status: percent >= 100 ? 'rejected' : 'allowed',
      // Claude Code copies the unified headers of its own responses here: real traffic, no extra call.
      obtainedVia: 'piggyback',
      observedAt: options.observedAt,
      detail: 'Claude Code statusline',
    });
  }
  return readings;
}
