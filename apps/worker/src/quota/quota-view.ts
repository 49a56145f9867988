// The status rows and the countdown are computed in @utt/core (the dashboard's Quotas page uses them too).
export { formatCountdown, type QuotaStatusRow, quotaStatusRows } from '@utt/core';

export function formatPercent(ratio: number | null): string {
  if (ratio === null) return '?';
  return `${Math.round(ratio * 100)}%`;
}
