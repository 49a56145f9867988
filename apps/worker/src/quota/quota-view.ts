// The status rows are computed in @utt/core (the dashboard's Quotas page uses them too).
export { type QuotaStatusRow, quotaStatusRows } from '@utt/core';

export function formatPercent(ratio: number | null): string {
  if (ratio === null) return '?';
  return `${Math.round(ratio * 100)}%`;
}

/** `4h 12m`, `2d 3h`, `now`. */
export function formatCountdown(now: Date, at: Date | null): string {
  if (at === null) return '';
  const minutes = Math.round((at.getTime() - now.getTime()) / 60_000);
  if (minutes <= 0) return 'passed';
  if (minutes < 60) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours}h ${minutes % 60}m`;
  return `${Math.floor(hours / 24)}d ${hours % 24}h`;
}
