import type { ReconcileRow, ReportRow, UsageStore } from '@utt/postgres';
import { formatCount, formatTable, formatUsd } from '../output/format-table';
import { openConfiguredStore, type Runtime } from '../runtime';
import { parseTimeFlag, UsageError } from './parse-time-flag';

type ReportOptions = { period: 'day' | 'month'; by: 'source' | 'provider' | 'model' | 'label'; label?: string; since?: Date; until?: Date; json?: boolean };

/** `utt report`: spend and tokens by day or month × source, provider or model. */
export async function reportCommand(
  runtime: Runtime,
  flags: { since?: string; until?: string; by?: string; period?: string; json?: boolean; reconcile?: boolean },
): Promise<number> {
  if (flags.reconcile) return reconcileCommand(runtime, flags);
  const grouping = flags.by ?? 'source';
  const period = flags.period ?? 'day';
  // `--by tag:tenant` groups by a label (the tag keys @utt/tracker makes dimensions).
  const tag = /^(?:tag|label):(.+)$/.exec(grouping)?.[1];
  const by = tag === undefined ? grouping : 'label';
  if (by !== 'source' && by !== 'provider' && by !== 'model' && by !== 'label') throw new UsageError('--by must be source, provider, model or tag:KEY');
  if (period !== 'day' && period !== 'month') throw new UsageError('--period must be day or month');
  const options: ReportOptions = {
    by,
    label: tag,
    period,
    since: parseTimeFlag('since', flags.since, undefined, 'report'),
    until: parseTimeFlag('until', flags.until, undefined, 'report'),
    json: flags.json,
  };
  const store = await openConfiguredStore(runtime);
  try {
    await printReport(store, options);
    return 0;
  } finally {
    await store.close();
  }
}

export async function printReport(store: UsageStore, options: ReportOptions): Promise<void> {
  const rows = await store.report({ period: options.period, by: options.by, label: options.label, since: options.since, until: options.until });
  if (options.json) {
    process.stdout.write(`${JSON.stringify(rows.map(toJson), null, 2)}\n`);
    return;
  }
  process.stdout.write(`${formatReport(rows, options)}\n`);
}

function toJson(row: ReportRow) {
  return { ...row, periodStart: row.periodStart.toISOString() };
}

/**
 * Priced spend and unpriced usage side by side: a bucket without a price is
 * shown as unpriced tokens, never folded into the dollars as $0. Usage a
 * flat-fee plan covers is shown at its API-equivalent value in its own column
 * and left out of the cost, which counts the plan's fee instead.
 */
export function formatReport(rows: readonly ReportRow[], options: Pick<ReportOptions, 'period' | 'by' | 'label'>): string {
  if (rows.length === 0) return 'no usage recorded for this range';
  const formatPeriod = (date: Date) => date.toISOString().slice(0, options.period === 'month' ? 7 : 10);
  const table = formatTable(
    [
      options.period,
      options.by === 'label' ? (options.label ?? 'label') : options.by,
      'input',
      'output',
      'cache read',
      'cache write',
      'requests',
      'cost',
      'covered (API-equiv.)',
      'unpriced tokens',
    ],
    rows.map((row) => [
      formatPeriod(row.periodStart),
      // A row without the tag: a blank cell read as a value of ''.
      options.by === 'label' && row.key === '' ? `(no ${options.label ?? 'label'})` : row.key,
      formatCount(row.inputTokens),
      formatCount(row.outputTokens),
      formatCount(row.cachedReadTokens),
      formatCount(row.cachedWriteTokens),
      formatCount(row.requests),
      formatUsd(row.costUsd),
      row.coveredUsd === null ? '' : formatUsd(row.coveredUsd),
      row.unpricedTokens > 0 ? formatCount(row.unpricedTokens) : '',
    ]),
    new Set([2, 3, 4, 5, 6, 7, 8, 9]),
  );
  const total = rows.reduce((sum, row) => sum + Number(row.costUsd ?? 0), 0);
  const unpriced = rows.reduce((sum, row) => sum + row.unpricedTokens, 0);
  const covered = rows.some((row) => row.coveredUsd !== null) ? rows.reduce((sum, row) => sum + Number(row.coveredUsd ?? 0), 0) : null;
  // With nothing priced there is no spend to total: "$0.00" would read as "free".
  const spend = rows.some((row) => row.costUsd !== null) ? `total priced spend ${formatUsd(total.toFixed(6))}` : 'no priced spend';
  const footer = `${spend}${
    covered === null
      ? ''
      : `; usage worth ${formatUsd(covered.toFixed(6))} at API prices was covered by flat-fee subscriptions (billing: subscription): shown beside the spend, not added to it — the plans' fees are the spend`
  }${
    unpriced > 0 ? `; ${formatCount(unpriced)} tokens have no price (not counted as $0: utt prices check says why — a model to add under pricing:, or calls whose usage never arrived)` : ''
  }`;
  // Every row without the tag: most likely a tag the tracker keeps on its calls only (not a label of the hourly cells).
  const noSuchLabel =
    options.by === 'label' && rows.every((row) => row.key === '')
      ? `\nno row has a '${options.label}' label: a tracker tag is a report dimension only when createTracker's labelTags lists it (the calls keep every tag; the dashboard's Tags page reads them)`
      : '';
  return `${table}\n\n${footer}\n("–" = not reported by the source; 0 = reported as zero)${noSuchLabel}`;
}

/** `utt report --reconcile`: what providers billed beside what utt computed, per UTC day and provider. */
async function reconcileCommand(runtime: Runtime, flags: { since?: string; until?: string; by?: string; period?: string; json?: boolean }): Promise<number> {
  if (flags.by !== undefined || flags.period !== undefined) throw new UsageError('--reconcile is always per day and provider: drop --by and --period');
  const since = parseTimeFlag('since', flags.since, undefined, 'report');
  const until = parseTimeFlag('until', flags.until, undefined, 'report');
  const store = await openConfiguredStore(runtime);
  try {
    const rows = await store.reconcile({ since, until });
    process.stdout.write(flags.json ? `${JSON.stringify(rows.map((row) => ({ ...row, day: row.day.toISOString() })), null, 2)}\n` : `${formatReconcile(rows)}\n`);
    return 0;
  } finally {
    await store.close();
  }
}

/** Billed and computed side by side; a side that is missing shows "–", never $0, and then there is no gap. */
export function formatReconcile(rows: readonly ReconcileRow[]): string {
  if (rows.length === 0) return 'no billed amounts recorded for this range (sources with collectProviderCosts write them)';
  const table = formatTable(
    ['day', 'source', 'provider', 'billed', 'computed', 'gap', 'unpriced rows'],
    rows.map((row) => [
      row.day.toISOString().slice(0, 10),
      row.sourceSystem,
      row.provider,
      formatUsd(row.billedUsd),
      formatUsd(row.computedUsd),
      formatGap(row.gapPercent),
      row.unpricedRows > 0 ? formatCount(row.unpricedRows) : '',
    ]),
    new Set([3, 4, 5, 6]),
  );
  return `${table}\n\ngap = (computed − billed) / billed. "–": that side has no amount for the day. Unpriced rows are missing from computed: add their models under pricing:.`;
}

function formatGap(percent: string | null): string {
  if (percent === null) return '–';
  const value = Number(percent);
  return `${value > 0 ? '+' : ''}${value.toFixed(2)}%`;
}
