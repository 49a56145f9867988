import path from 'node:path';
import {
  latestQuotaReadings,
  parseDuration,
  QUOTA_SEVERITY_EXIT_CODES,
  type QuotaReading,
  quotaResets,
  quotaUnderspend,
  quotaWeekly,
  rotateQuotaAccounts,
  worstQuotaSeverity,
} from '@utt/core';
import type { UsageStore } from '@utt/postgres';
import { prepareSources } from '../cycle/prepare-sources';
import { formatTable } from '../output/format-table';
import { collectQuota, type QuotaRunResult } from '../quota/collect-quota';
import { quotaPrometheusText, writeFileAtomically } from '../quota/prometheus-exposition';
import { formatCountdown, formatPercent, type QuotaStatusRow, quotaStatusRows } from '../quota/quota-view';
import { ingestStatuslineSpools } from '../quota/statusline-spool';
import { openConfiguredStore, type Runtime } from '../runtime';
import { parseTimeFlag, UsageError } from './parse-time-flag';

export type QuotaFlags = {
  readonly json?: boolean;
  readonly provider?: string;
  readonly account?: string;
  readonly within?: string;
  readonly since?: string;
  readonly format?: string;
  readonly output?: string;
  readonly offline?: boolean;
  readonly now?: Date;
};

export const QUOTA_VIEWS = ['status', 'weekly', 'resets', 'rotate', 'underspend'] as const;
const HISTORY_DAYS = 8 * 7;

/**
 * `utt quota [weekly|resets|rotate|underspend]`: first asks every source that
 * can read quota (no model call; gated sources answer from their last reading),
 * unless --offline, then analyses the stored history. The status view exits
 * with the Nagios codes: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN.
 */
export async function quotaCommand(runtime: Runtime, view: string | undefined, flags: QuotaFlags): Promise<number> {
  const chosen = view ?? 'status';
  if (!(QUOTA_VIEWS as readonly string[]).includes(chosen)) throw new UsageError(`unknown quota view "${chosen}" (use ${QUOTA_VIEWS.join(', ')})`, 'quota');
  const format = flags.format ?? (flags.json ? 'json' : 'table');
  if (!['table', 'json', 'prometheus'].includes(format)) throw new UsageError('--format must be table, json or prometheus', 'quota');
  if (format === 'prometheus' && chosen !== 'status') throw new UsageError('--format prometheus is for the status view', 'quota');
  if (flags.output && format !== 'prometheus') throw new UsageError('--output is for --format prometheus', 'quota');
  const now = flags.now ?? new Date();
  const within = parseWithin(flags.within);

  const prepared = flags.offline ? [] : (await prepareSources(runtime.loaded, { cwd: runtime.cwd })).filter((source) => source.adapter.collectQuota);
  const store = await openConfiguredStore(runtime);
  try {
    let collected: QuotaRunResult[] = [];
    if (prepared.length > 0) {
      collected = await collectQuota({
        prepared,
        store,
        worker: runtime.loaded.config.worker,
        env: runtime.env,
        fetch: globalThis.fetch,
        logger: runtime.logger,
        secrets: runtime.loaded.secrets,
        signal: new AbortController().signal,
        now,
      });
      for (const failure of collected.filter((result) => result.status === 'error')) {
        process.stderr.write(`utt: quota from ${failure.name} failed: ${failure.error}\n`);
      }
    }
    // Readings `utt statusline` left for the database's owner (always: reading a local file asks no source).
    await ingestStatuslineSpools(runtime, store);
    const filter = { provider: flags.provider, account: flags.account };
    const history = (await store.listQuotaReadings({ ...filter, since: new Date(now.getTime() - HISTORY_DAYS * 86_400_000), until: now }));
    const latest = latestQuotaReadings(history);
    switch (chosen) {
      case 'weekly':
        return printWeekly(await weeklyHistory(store, filter, flags.since, now), format);
      case 'resets':
        return printResets(quotaResets(latest, now, within ?? 48 * 3_600_000), now, format);
      case 'rotate':
        return printRotation(latest, now, format);
      case 'underspend':
        return printUnderspend(latest, now, format, runtime);
      default:
        return await printStatus(runtime, latest, history, now, format, flags.output);
    }
  } finally {
    await store.close();
  }
}

function parseWithin(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  try {
    return parseDuration(text);
  } catch (error) {
    throw new UsageError(`--within: ${(error as Error).message}`, 'quota');
  }
}

async function printStatus(runtime: Runtime, latest: QuotaReading[], history: QuotaReading[], now: Date, format: string, output: string | undefined): Promise<number> {
  const config = runtime.loaded.config.quota;
  const rows = quotaStatusRows(latest, history, { now, thresholds: config.thresholds, staleAfterMs: config.staleAfter });
  const overall = rows.length === 0 ? 'UNKNOWN' : worstQuotaSeverity(rows.map((row) => row.severity));
  const exitCode = QUOTA_SEVERITY_EXIT_CODES[overall];
  if (format === 'prometheus') {
    const text = quotaPrometheusText(rows);
    if (output) await writeFileAtomically(path.resolve(runtime.cwd, output), text);
    else process.stdout.write(text);
    return exitCode;
  }
  if (format === 'json') {
    process.stdout.write(`${JSON.stringify({ now, overall, exitCode, windows: rows.map(statusJson) }, null, 2)}\n`);
    return exitCode;
  }
  if (rows.length === 0) {
    process.stdout.write('no quota readings yet: enable a quota source (see the README, "Quota and rate limits")\n');
    return exitCode;
  }
  const table = rows.map((row) => [
    row.reading.provider,
    row.reading.account,
    row.reading.window,
    formatPercent(row.usedRatio),
    row.reading.status,
    row.stale ? `${row.severity} (stale)` : row.severity,
    formatCountdown(now, row.reading.resetsAt),
    describePace(row, now),
  ]);
  process.stdout.write(`${formatTable(['provider', 'account', 'window', 'used', 'status', 'severity', 'resets in', 'pace'], table, new Set([3]))}\n`);
  const counts = (['CRITICAL', 'WARNING', 'OK', 'UNKNOWN'] as const)
    .map((severity) => [severity, rows.filter((row) => row.severity === severity).length] as const)
    .filter(([, count]) => count > 0)
    .map(([severity, count]) => `${count} ${severity}`);
  const stale = rows.filter((row) => row.stale).length;
  process.stdout.write(`\nOverall: ${overall} (${counts.join(', ')}${stale > 0 ? `; ${stale} stale` : ''})\n`);
  return exitCode;
}

function describePace(row: QuotaStatusRow, now: Date): string {
  const pace = row.pace;
  if (!pace) return '';
  const delta = Math.round(pace.deltaRatio * 100);
  const parts = [`${delta > 0 ? '+' : ''}${delta}% vs even pace`];
  if (pace.runsOutBeforeReset && pace.exhaustsAt) {
    parts.push(pace.exhaustsAt.getTime() <= now.getTime() ? 'EXHAUSTED' : `runs out before reset (in ${formatCountdown(now, pace.exhaustsAt)})`);
  } else parts.push('lasts to reset');
  const historical = row.historicalPace;
  if (historical?.runOutProbability !== null && historical?.runOutProbability !== undefined) {
    parts.push(`P(run out) ${Math.round(historical.runOutProbability * 100)}% over ${historical.weeks} weeks`);
  }
  return parts.join('; ');
}

function statusJson(row: QuotaStatusRow) {
  const reading = row.reading;
  return {
    source: reading.source,
    provider: reading.provider,
    account: reading.account,
    window: reading.window,
    windowSeconds: reading.windowSeconds,
    usedRatio: row.usedRatio,
    reportedUsedRatio: reading.usedRatio,
    rawValue: reading.rawValue,
    rawUnit: reading.rawUnit,
    limit: reading.limit,
    remaining: reading.remaining,
    resetsAt: reading.resetsAt,
    status: reading.status,
    severity: row.severity,
    stale: row.stale,
    obtainedVia: reading.obtainedVia,
    observedAt: reading.observedAt,
    confirmedAt: reading.confirmedAt,
    detail: reading.detail,
    pace: row.pace,
    historicalPace: row.historicalPace,
  };
}

async function weeklyHistory(store: UsageStore, filter: { provider?: string; account?: string }, sinceFlag: string | undefined, now: Date) {
  const since = parseTimeFlag('since', sinceFlag) ?? new Date(now.getTime() - HISTORY_DAYS * 86_400_000);
  return quotaWeekly(await store.listQuotaReadings({ ...filter, since, until: now }));
}

function printWeekly(weekly: ReturnType<typeof quotaWeekly>, format: string): number {
  if (format === 'json') {
    process.stdout.write(`${JSON.stringify(weekly, null, 2)}\n`);
    return 0;
  }
  const weeks = weekly.weeks.map((week) => [week.isoWeek, week.provider, week.account, formatPercent(week.peakRatio), formatPercent(week.averageRatio), String(week.readings)]);
  process.stdout.write(
    weeks.length === 0 ? 'no weekly (7d) readings in the period\n' : `${formatTable(['week', 'provider', 'account', 'peak 7d', 'average 7d', 'readings'], weeks, new Set([3, 4, 5]))}\n`,
  );
  if (weekly.exhaustions.length > 0) {
    const events = weekly.exhaustions.map((event) => [
      event.isoWeek,
      event.provider,
      event.account,
      event.window,
      event.startedAt.toISOString(),
      event.endedAt ? event.endedAt.toISOString() : 'ongoing',
    ]);
    process.stdout.write(`\nexhaustions (≥ 100 % or rejected):\n${formatTable(['week', 'provider', 'account', 'window', 'from', 'until'], events)}\n`);
  }
  return 0;
}

function printResets(resets: QuotaReading[], now: Date, format: string): number {
  if (format === 'json') {
    process.stdout.write(`${JSON.stringify(resets.map((reading) => ({ provider: reading.provider, account: reading.account, window: reading.window, resetsAt: reading.resetsAt, usedRatio: reading.usedRatio })), null, 2)}\n`);
    return 0;
  }
  if (resets.length === 0) {
    process.stdout.write('no window resets in that time\n');
    return 0;
  }
  const rows = resets.map((reading) => [
    formatCountdown(now, reading.resetsAt),
    (reading.resetsAt as Date).toISOString(),
    reading.provider,
    reading.account,
    reading.window,
    formatPercent(reading.usedRatio),
  ]);
  process.stdout.write(`${formatTable(['in', 'at (UTC)', 'provider', 'account', 'window', 'used now'], rows, new Set([5]))}\n`);
  return 0;
}

function printRotation(latest: QuotaReading[], now: Date, format: string): number {
  const order = rotateQuotaAccounts(latest, now);
  if (format === 'json') {
    process.stdout.write(`${JSON.stringify(order, null, 2)}\n`);
    return 0;
  }
  if (order.length === 0) {
    process.stdout.write('no quota readings yet\n');
    return 0;
  }
  const rows = order.map((entry) => [
    String(entry.rank),
    entry.provider,
    entry.account,
    entry.group,
    entry.headroomRatio === null ? '?' : formatPercent(Math.max(0, entry.headroomRatio)),
    entry.resetsAt ? formatCountdown(now, entry.resetsAt) : '',
    entry.why,
  ]);
  process.stdout.write(`${formatTable(['#', 'provider', 'account', 'group', 'headroom', 'resets in', 'why'], rows, new Set([0, 4]))}\n`);
  const best = order[0];
  if (best?.group === 'available') {
    const avoid = order.filter((entry) => entry.group !== 'available' && entry.group !== 'unknown').map((entry) => entry.account);
    process.stdout.write(`\n→ use ${best.account}${avoid.length > 0 ? ` | avoid ${avoid.join(', ')}` : ''}\n`);
  } else {
    process.stdout.write('\n→ no account has known headroom now\n');
  }
  return 0;
}

function printUnderspend(latest: QuotaReading[], now: Date, format: string, runtime: Runtime): number {
  const config = runtime.loaded.config.quota.underspend;
  const found = quotaUnderspend(latest, now, { minUnusedRatio: config.minUnused, withinMs: config.within, minWeeklyRoomRatio: config.minWeeklyRoom });
  if (format === 'json') {
    process.stdout.write(`${JSON.stringify(found, null, 2)}\n`);
    return 0;
  }
  if (found.length === 0) {
    process.stdout.write('no underspend: no window is about to reset with quota left that the weekly window could absorb\n');
    return 0;
  }
  const rows = found.map((entry) => [
    entry.provider,
    entry.account,
    entry.window,
    formatPercent(entry.unusedRatio),
    formatCountdown(now, entry.resetsAt),
    entry.weeklyRemainingRatio === null ? 'no weekly limit' : formatPercent(entry.weeklyRemainingRatio),
  ]);
  process.stdout.write(`${formatTable(['provider', 'account', 'window', 'unused', 'resets in', 'weekly left'], rows, new Set([3]))}\n`);
  return 0;
}
