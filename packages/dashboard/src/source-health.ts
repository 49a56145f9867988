import { HEARTBEAT_SOURCE, type SourceStatus, type SourceWatermark } from '@utt/postgres';
import type { ResolvedOptions } from './dashboard-options';

export type SourceHealthState = 'fresh' | 'stale' | 'failing' | 'paused' | 'never';

/** One source as the Sources page and the freshness API show it. */
export type SourceHealth = {
  readonly source: string;
  readonly sourceSystem: string;
  readonly state: SourceHealthState;
  /** watchdog_status.status as stored; null when the worker never ran the source. */
  readonly status: string | null;
  readonly lastRunAt: Date | null;
  readonly lastSuccessAt: Date | null;
  readonly lastError: string | null;
  readonly rowsWritten: number | null;
  readonly watermark: Date | null;
  readonly staleAfterMs: number;
  /** Why the state is not plain "fresh", in a sentence; '' when fresh. */
  readonly reason: string;
};

/**
 * The watchdog's rule, shared with `utt watchdog`: fresh means a successful
 * write within staleAfter, judged on the status row's times, never on
 * created_at (invariant 8); a paused source is reported, never stale
 * (invariant 9). A failing run after a recent success is "failing".
 */
export function judgeSources(
  statuses: readonly SourceStatus[],
  watermarks: readonly SourceWatermark[],
  options: Pick<ResolvedOptions, 'sources' | 'staleAfterMs'>,
  now: Date,
): SourceHealth[] {
  const byName = new Map(statuses.map((status) => [status.source, status]));
  const watermarkOf = new Map(watermarks.map((watermark) => [watermark.source, watermark.watermark]));
  const configured = options.sources?.filter((source) => source.enabled !== false);
  const names = configured
    ? [HEARTBEAT_SOURCE, ...configured.map((source) => source.name)]
    : [...statuses.map((status) => status.source)].sort((a, b) => (a === HEARTBEAT_SOURCE ? -1 : b === HEARTBEAT_SOURCE ? 1 : a.localeCompare(b)));
  return names.map((name) => {
    const status = byName.get(name);
    const config = configured?.find((source) => source.name === name);
    const staleAfterMs = config?.staleAfterMs ?? options.staleAfterMs;
    const paused = config?.paused ?? status?.status === 'paused';
    const base = {
      source: name,
      sourceSystem: status?.sourceSystem ?? config?.sourceSystem ?? '',
      status: status?.status ?? null,
      lastRunAt: status?.lastRunAt ?? null,
      lastSuccessAt: status?.lastSuccessAt ?? null,
      lastError: status?.lastError ?? null,
      rowsWritten: status?.rowsWritten ?? null,
      watermark: watermarkOf.get(name) ?? null,
      staleAfterMs,
    };
    if (paused) return { ...base, state: 'paused', reason: 'paused in the configuration: reported, not judged stale' };
    if (status === undefined) {
      return {
        ...base,
        state: 'never',
        reason: name === HEARTBEAT_SOURCE ? 'the worker has never run against this database' : 'configured, but the worker has not run it yet',
      };
    }
    const lastSuccess = status.lastSuccessAt;
    const age = lastSuccess === null ? null : now.getTime() - lastSuccess.getTime();
    if (lastSuccess === null || (age !== null && age > staleAfterMs)) {
      const since = lastSuccess === null ? 'never succeeded' : `no successful write for ${describeDuration(age ?? 0)} (limit ${describeDuration(staleAfterMs)})`;
      const failure = status.status === 'error' ? `; last run failed${status.lastError ? `: ${status.lastError}` : ''}` : '';
      return { ...base, state: 'stale', reason: `${since}${failure}` };
    }
    if (status.status === 'error') {
      return { ...base, state: 'failing', reason: `last run failed${status.lastError ? `: ${status.lastError}` : ''}; data is still within the freshness limit` };
    }
    return { ...base, state: 'fresh', reason: '' };
  });
}

export function describeDuration(ms: number): string {
  const minutes = Math.round(ms / 60_000);
  if (minutes < 120) return `${minutes} min`;
  const hours = Math.round(minutes / 60);
  if (hours < 72) return `${hours} h`;
  return `${Math.round(hours / 24)} days`;
}
