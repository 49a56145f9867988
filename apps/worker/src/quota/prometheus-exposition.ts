import { randomBytes } from 'node:crypto';
import { rename, rm, writeFile } from 'node:fs/promises';
import { QUOTA_SEVERITY_EXIT_CODES } from '@utt/core';
import type { QuotaStatusRow } from './quota-view';

const METRICS: readonly { name: string; help: string; value: (row: QuotaStatusRow) => number | null }[] = [
  { name: 'utt_quota_used_ratio', help: 'Fraction of the quota window used (may exceed 1).', value: (row) => row.usedRatio },
  { name: 'utt_quota_reset_timestamp_seconds', help: 'When the quota window resets, Unix seconds.', value: (row) => seconds(row.reading.resetsAt) },
  {
    name: 'utt_quota_projected_exhaustion_timestamp_seconds',
    help: 'When the window runs out at the current pace, Unix seconds (absent when it lasts to the reset).',
    value: (row) => (row.pace?.runsOutBeforeReset ? seconds(row.pace.exhaustsAt) : null),
  },
  { name: 'utt_quota_pace_delta_ratio', help: 'Used minus the share an even pace would have used by now (positive: ahead of pace).', value: (row) => row.pace?.deltaRatio ?? null },
  { name: 'utt_quota_run_out_probability', help: 'Chance of running out before the reset, from past weeks.', value: (row) => row.historicalPace?.runOutProbability ?? null },
  { name: 'utt_quota_severity', help: 'Severity of the window: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN.', value: (row) => QUOTA_SEVERITY_EXIT_CODES[row.severity] },
  { name: 'utt_quota_stale', help: '1 when the reading has not been confirmed within quota.staleAfter.', value: (row) => (row.stale ? 1 : 0) },
  { name: 'utt_quota_last_observed_timestamp_seconds', help: 'When the reading was last confirmed, Unix seconds.', value: (row) => seconds(row.reading.confirmedAt) },
];

/**
 * The Prometheus text exposition of the current readings, for the
 * node_exporter textfile collector: one group per metric with HELP and TYPE,
 * no sample timestamps (the collector refuses them), ratios 0–1, a final
 * newline. Labels: provider, account, window (a closed set).
 */
export function quotaPrometheusText(rows: readonly QuotaStatusRow[]): string {
  const lines: string[] = [];
  for (const metric of METRICS) {
    const samples: string[] = [];
    const seen = new Set<string>();
    for (const row of rows) {
      const value = metric.value(row);
      if (value === null || !Number.isFinite(value)) continue;
      const labels = `{provider="${escape(row.reading.provider)}",account="${escape(row.reading.account)}",window="${escape(row.reading.window)}"}`;
      // Two sources reporting one account window: the first (newest-sorted) wins, as a labelset may appear once.
      if (seen.has(labels)) continue;
      seen.add(labels);
      samples.push(`${metric.name}${labels} ${formatValue(value)}`);
    }
    if (samples.length === 0) continue;
    lines.push(`# HELP ${metric.name} ${metric.help}`, `# TYPE ${metric.name} gauge`);
    for (const sample of samples) lines.push(sample);
  }
  return lines.length === 0 ? '' : `${lines.join('\n')}\n`;
}

/** Writes beside the target and renames over it, so a scrape never reads half a file. */
export async function writeFileAtomically(file: string, text: string): Promise<void> {
  const temporary = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    await writeFile(temporary, text);
    await rename(temporary, file);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}

function seconds(date: Date | null): number | null {
  return date === null ? null : date.getTime() / 1000;
}

function escape(value: string): string {
  return value.replaceAll('\\', '\\\\').replaceAll('"', '\\"').replaceAll('\n', '\\n');
}

function formatValue(value: number): string {
  return Number.isInteger(value) ? String(value) : String(Number(value.toPrecision(12)));
}
