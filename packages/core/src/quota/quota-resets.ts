import type { QuotaReading } from './quota-reading';

/** The reset schedule: windows resetting in (now, now + withinMs], soonest first. Pass the latest reading of each window. */
export function quotaResets(latest: readonly QuotaReading[], now: Date, withinMs: number): QuotaReading[] {
  const end = now.getTime() + withinMs;
  return latest
    .filter((reading) => reading.resetsAt !== null && reading.resetsAt.getTime() > now.getTime() && reading.resetsAt.getTime() <= end)
    .sort(
      (a, b) =>
        (a.resetsAt as Date).getTime() - (b.resetsAt as Date).getTime() || a.account.localeCompare(b.account) || a.window.localeCompare(b.window),
    );
}
