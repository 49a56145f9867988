import type { CycleResult } from '../cycle/run-cycle';
import { formatTable } from './format-table';

/** One line per source: window, rows, duration and status; failures with their reason below. */
export function formatCycle(result: CycleResult): string {
  const rows = result.sources.map((source) => [
    source.name,
    source.sourceSystem,
    source.status,
    source.window
      ? `${source.window.start.toISOString().slice(0, 16)}Z → ${source.window.end.toISOString().slice(0, 16)}Z (${source.window.granularity})`
      : source.status === 'paused'
        ? 'paused'
        : 'snapshot',
    String(source.rowsWritten),
    source.unpricedRows > 0 ? String(source.unpricedRows) : '',
    `${source.durationMs} ms`,
  ]);
  const table = formatTable(['source', 'system', 'status', 'window', 'rows', 'unpriced', 'took'], rows, new Set([4, 5, 6]));
  const failures = result.sources
    .filter((source) => source.status === 'error')
    .map((source) => `  ${source.name}: ${source.error ?? 'failed'}`);
  const counts = ['ok', 'error', 'paused'].map(
    (status) => `${result.sources.filter((source) => source.status === status).length} ${status === 'error' ? 'failed' : status}`,
  );
  for (const quota of result.quota ?? []) {
    if (quota.status === 'error') failures.push(`  ${quota.name} quota: ${quota.error ?? 'failed'}`);
  }
  const quotaLine = (result.quota ?? []).length > 0
    ? ['', `quota: ${(result.quota ?? []).map((quota) => `${quota.name} ${quota.status === 'ok' ? `${quota.readings} readings (${quota.stored} new)` : 'failed'}`).join(', ')}`]
    : [];
  return [table, ...quotaLine, ...(failures.length > 0 ? ['', 'failures:', ...failures] : []), '', `cycle: ${counts.join(', ')} in ${result.durationMs} ms`].join('\n');
}
