import { usageBreakdown, type UsageBreakdownRow, type UsageDimension, type UsageFilter, type UsageStore } from '@utt/postgres';
import type { Column, DataTable } from '../data-table';
import { DIMENSION_LABELS, usageFilter } from '../filters';
import { addDecimals, formatCount, formatUsd, maskKey } from '../format';
import { html } from '../html';
import { tableWithExports } from '../layout';
import type { Page } from '../page';
import { seriesTable, toDailySeries } from '../series';
import { renderStackedBarChart } from '../stacked-bar-chart';
import { sumRows } from '../row-sums';
import { formatLocalDate } from '../zoned-time';

/**
 * cached_read / (input + cached_read + cached_write) over the rows that report
 * cache reads; null when none does, so "not reported" never reads as 0 %.
 */
export function cacheHitRatio(row: Pick<UsageBreakdownRow, 'cachedReadTokens' | 'cacheReportingInputTokens'>): number | null {
  if (row.cachedReadTokens === null || !row.cacheReportingInputTokens) return null;
  return row.cachedReadTokens / row.cacheReportingInputTokens;
}

/** api_key values are masked wherever they are shown or exported. */
export function displayGroup(dimension: UsageDimension, value: string): string {
  if (value === '') return '(none)';
  return dimension === 'api_key' ? maskKey(value) : value;
}

export const TOKEN_COLUMNS: readonly Column[] = [
  { key: 'input', label: 'Input', kind: 'count' },
  { key: 'cacheRead', label: 'Cache read', kind: 'count' },
  { key: 'cacheWrite', label: 'Cache write', kind: 'count' },
  { key: 'cacheWrite1h', label: 'of which 1 h TTL', kind: 'count' },
  { key: 'output', label: 'Output', kind: 'count' },
  { key: 'reasoning', label: 'of which reasoning', kind: 'count' },
  { key: 'requests', label: 'Requests', kind: 'count' },
  { key: 'cacheHit', label: 'Cache hit ratio', kind: 'percent', nullText: 'not reported' },
];

export function tokenCells(row: UsageBreakdownRow): Record<string, number | null> {
  return {
    input: row.inputTokens,
    cacheRead: row.cachedReadTokens,
    cacheWrite: row.cachedWriteTokens,
    cacheWrite1h: row.cachedWrite1hTokens,
    output: row.outputTokens,
    reasoning: row.reasoningTokens,
    requests: row.requests,
    cacheHit: cacheHitRatio(row),
  };
}

/** Groups drawn on their own in the chart; the rest is one "other" series. */
const CHART_SERIES = 8;

const GROUP_FILTERS: Partial<Record<UsageDimension, keyof UsageFilter>> = {
  provider: 'providers',
  model: 'models',
  account: 'accounts',
  user: 'users',
  api_key: 'apiKeys',
};

/**
 * The totals per group for the table, and per day only what the chart draws:
 * the largest groups by spend and, as "other (n)", each day's total less
 * theirs. Asking per day and group for every group would make hundreds of API
 * keys × days of rows the store must sum and the page discard.
 */
async function readBreakdown(
  store: UsageStore,
  filter: UsageFilter,
  by: UsageDimension,
  timeZone: string,
): Promise<{ rows: UsageBreakdownRow[]; dailyRows: UsageBreakdownRow[]; otherName?: string }> {
  const groupFilter = GROUP_FILTERS[by];
  if (groupFilter === undefined) {
    // Few groups (sources): one read per day and group, the totals summed from it.
    const dailyRows = await usageBreakdown(store, { ...filter, by: [by], period: 'day', timeZone });
    return { rows: sumRows(dailyRows, (row) => ({ period: null, groups: row.groups })), dailyRows };
  }
  const rows = await usageBreakdown(store, { ...filter, by: [by], timeZone });
  if (rows.length <= CHART_SERIES + 1) {
    return { rows, dailyRows: await usageBreakdown(store, { ...filter, by: [by], period: 'day', timeZone }) };
  }
  // Ranked as toDailySeries ranks: spend, then name.
  const ranked = [...rows].sort((a, b) => Number(b.spendUsd ?? 0) - Number(a.spendUsd ?? 0) || (a.groups[0] ?? '').localeCompare(b.groups[0] ?? ''));
  const top = ranked.slice(0, CHART_SERIES).map((row) => row.groups[0] ?? '');
  const [topDaily, allDaily] = await Promise.all([
    usageBreakdown(store, { ...filter, [groupFilter]: top, by: [by], period: 'day', timeZone }),
    usageBreakdown(store, { ...filter, by: [], period: 'day', timeZone }),
  ]);
  const otherName = `other (${rows.length - top.length})`;
  const topByDay = new Map<string, { spend: (string | null)[]; rowCount: number }>();
  for (const row of topDaily) {
    const day = topByDay.get(row.period ?? '') ?? { spend: [], rowCount: 0 };
    day.spend.push(row.spendUsd);
    day.rowCount += row.rowCount;
    topByDay.set(row.period ?? '', day);
  }
  const other = allDaily.flatMap((day) => {
    const top = topByDay.get(day.period ?? '') ?? { spend: [], rowCount: 0 };
    // A day with rows of the largest groups only has no "other" at all, not $0.
    if (day.rowCount === top.rowCount) return [];
    const topSpend = addDecimals(top.spend);
    const spend = day.spendUsd === null ? null : addDecimals([day.spendUsd, topSpend === null ? null : negate(topSpend)]);
    return [{ ...day, groups: [otherName], spendUsd: spend }];
  });
  return { rows, dailyRows: [...topDaily, ...other], otherName };
}

function negate(value: string): string {
  return value.startsWith('-') ? value.slice(1) : `-${value}`;
}

export const usagePage: Page = {
  path: '/usage',
  title: 'Spend & tokens',
  form: ['range', 'by', 'source', 'provider', 'model'],
  defaultDays: 30,
  async render(context) {
    const { store, timeZone } = context.options;
    const { filters } = context;
    const filter = usageFilter(filters, timeZone);
    const { rows, dailyRows, otherName } = await readBreakdown(store, filter, filters.by, timeZone);
    const label = DIMENSION_LABELS[filters.by];
    const sorted = [...rows].sort((a, b) => Number(b.spendUsd ?? 0) - Number(a.spendUsd ?? 0) || b.unpricedTokens - a.unpricedTokens);
    const table: DataTable = {
      id: 'breakdown',
      caption: `By ${label.toLowerCase()}, ${formatLocalDate(filters.from)} to ${formatLocalDate(filters.to)}`,
      columns: [
        { key: 'group', label, kind: 'text' },
        ...TOKEN_COLUMNS,
        { key: 'spend', label: 'Spend', kind: 'usd', nullText: 'unpriced' },
        { key: 'flatFee', label: 'of which flat fees', kind: 'usd' },
        { key: 'covered', label: 'Covered usage (API-equivalent, not spend)', kind: 'usd' },
        { key: 'unpriced', label: 'Unpriced tokens', kind: 'count' },
      ],
      rows: sorted.map((row) => ({
        group: displayGroup(filters.by, row.groups[0] ?? ''),
        ...tokenCells(row),
        spend: row.spendUsd,
        flatFee: row.flatFeeUsd,
        covered: row.coveredUsd,
        unpriced: row.unpricedTokens,
      })),
      empty: 'No usage in this range and filter. Widen the range or clear a filter.',
    };
    const masked = dailyRows.map((row) => (row.groups[0] === otherName ? row : { ...row, groups: [displayGroup(filters.by, row.groups[0] ?? '')] }));
    const drawn = toDailySeries(masked, filters.from, filters.to, (row) => row.spendUsd, CHART_SERIES + (otherName === undefined ? 0 : 1));
    // "other" last, as toDailySeries puts it when it folds the rest itself.
    const series = { ...drawn, series: [...drawn.series.filter((item) => item.name !== otherName), ...drawn.series.filter((item) => item.name === otherName)] };
    const daily = seriesTable('daily', `Spend per day by ${label.toLowerCase()}`, 'Day', series, 'usd', 'No priced usage in this range.');
    const totalSpend = addDecimals(rows.map((row) => row.spendUsd));
    const unpriced = rows.reduce((sum, row) => sum + row.unpricedTokens, 0);
    const content = html`<p>Total spend ${formatUsd(totalSpend, 'none priced')}${unpriced > 0 ? html`; <strong>${formatCount(unpriced)} tokens unpriced</strong> (not counted, never $0)` : ''}. Token buckets never overlap: input excludes cache reads and writes; output includes reasoning. “–” = not reported by the source, 0 = reported as zero.</p>
${renderStackedBarChart({
  id: 'chart-usage',
  title: `Spend per day by ${label.toLowerCase()} (${timeZone})`,
  description: `Stacked bars per day from ${formatLocalDate(filters.from)} to ${formatLocalDate(filters.to)}; total ${formatUsd(totalSpend, 'none priced')}.`,
  categories: series.days,
  series: series.series.map((item) => ({ name: item.name, values: item.values.map((value) => Number(value ?? 0)) })),
  formatValue: (value) => formatUsd(value.toFixed(2)),
})}
${tableWithExports(context, table)}
${tableWithExports(context, daily)}`;
    return { title: 'Spend & tokens', content, tables: [table, daily] };
  },
};
