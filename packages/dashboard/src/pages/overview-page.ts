import { usageBreakdown, type UsageBreakdownRow } from '@utt/postgres';
import { type BudgetStatus, readBudgetStatus } from '@utt/tracker';
import type { DataTable } from '../data-table';
import { DIMENSION_LABELS, usageFilter } from '../filters';
import { addDecimals, formatCount, formatUsd, formatUsdPrecise } from '../format';
import { html, type SafeHtml } from '../html';
import { tableWithExports } from '../layout';
import type { Page, PageContext } from '../page';
import { seriesTable, toDailySeries } from '../series';
import { judgeSources } from '../source-health';
import { renderStackedBarChart } from '../stacked-bar-chart';
import { sumRows } from '../row-sums';
import { addDays, daysInMonth, firstOfMonth, formatLocalDate, formatLocalTimestamp, localDatesBetween, startOfLocalDay } from '../zoned-time';

const DAY_MS = 86_400_000;

/** The anomaly rule, stated on the page as well as applied. */
export const ANOMALY_RULE =
  "a model's spend on the last complete day is above the mean plus two standard deviations of its previous 7 days, and at least $1 above that mean";

export type Anomaly = { provider: string; model: string; day: string; spendUsd: number; meanUsd: number; stdDevUsd: number };

/** Applies ANOMALY_RULE to per-day spend of (provider, model) over the 8 days ending with `lastDay`. */
export function findAnomalies(rows: readonly UsageBreakdownRow[], days: readonly string[]): Anomaly[] {
  const lastDay = days[days.length - 1];
  const previous = days.slice(0, -1);
  const spend = new Map<string, Map<string, number>>();
  for (const row of rows) {
    const key = JSON.stringify(row.groups);
    let perDay = spend.get(key);
    if (perDay === undefined) spend.set(key, (perDay = new Map()));
    if (row.period !== null) perDay.set(row.period, Number(row.meteredUsd ?? 0));
  }
  const anomalies: Anomaly[] = [];
  for (const [key, perDay] of spend) {
    const last = perDay.get(lastDay ?? '') ?? 0;
    const values = previous.map((day) => perDay.get(day) ?? 0);
    const mean = values.reduce((sum, value) => sum + value, 0) / Math.max(1, values.length);
    const stdDev = Math.sqrt(values.reduce((sum, value) => sum + (value - mean) ** 2, 0) / Math.max(1, values.length));
    if (last > mean + 2 * stdDev && last - mean >= 1) {
      const [provider = '', model = ''] = JSON.parse(key) as string[];
      anomalies.push({ provider, model, day: lastDay ?? '', spendUsd: last, meanUsd: mean, stdDevUsd: stdDev });
    }
  }
  return anomalies.sort((a, b) => b.spendUsd - b.meanUsd - (a.spendUsd - a.meanUsd));
}

function total(rows: readonly UsageBreakdownRow[], pick: (row: UsageBreakdownRow) => string | null): string | null {
  return addDecimals(rows.map(pick));
}

export const overviewPage: Page = {
  path: '/',
  title: 'Overview',
  form: ['range', 'stack', 'source', 'provider', 'model'],
  defaultDays: 30,
  async render(context: PageContext) {
    const { store, timeZone } = context.options;
    const { today, now, filters } = context;
    const monthStart = firstOfMonth(today);
    const lastMonthStart = firstOfMonth(today, -1);
    const nextMonthStart = firstOfMonth(today, 1);
    const at = (date: typeof today) => startOfLocalDay(date, timeZone);
    const sameDayLastMonth = addDays(lastMonthStart, Math.min(today.day, daysInMonth(lastMonthStart)));
    const scope = { ...usageFilter(filters, timeZone), since: undefined, until: undefined };
    // Two reads: this month and last month per day, provider and model (every
    // figure of the month, the forecast and the anomaly rule come from it), and
    // the chart's range.
    const [twoMonths, chartRows, statuses, watermarks, budgets] = await Promise.all([
      usageBreakdown(store, { ...scope, by: ['provider', 'model'], period: 'day', since: at(lastMonthStart), until: at(nextMonthStart), timeZone }),
      usageBreakdown(store, { ...usageFilter(filters, timeZone), by: [filters.stack], period: 'day', timeZone }),
      store.listStatus(),
      store.listWatermarks(),
      context.options.budgets.length === 0 ? Promise.resolve([]) : readBudgetStatus(store, context.options.budgets, { now, timeZone }),
    ]);
    const between = (from: typeof today, to: typeof today) => {
      const [low, high] = [formatLocalDate(from), formatLocalDate(to)];
      return twoMonths.filter((row) => row.period !== null && row.period >= low && row.period < high);
    };
    const monthRows = sumRows(between(monthStart, nextMonthStart), (row) => ({ period: null, groups: [row.groups[0] ?? ''] }));
    const lastMonthRows = between(lastMonthStart, monthStart);
    const lastMonthToDateRows = between(lastMonthStart, sameDayLastMonth);
    const recentRows = between(addDays(today, -7), today);
    const anomalyRows = between(addDays(today, -8), today);

    const monthSpend = total(monthRows, (row) => row.spendUsd);
    const monthFlatFees = total(monthRows, (row) => row.flatFeeUsd);
    const monthCovered = total(monthRows, (row) => row.coveredUsd);
    const monthUnpricedTokens = monthRows.reduce((sum, row) => sum + row.unpricedTokens, 0);
    const lastMonthSpend = total(lastMonthRows, (row) => row.spendUsd);
    const lastMonthToDate = total(lastMonthToDateRows, (row) => row.spendUsd);
    const recentMetered = Number(total(recentRows, (row) => row.meteredUsd) ?? 0);
    const remainingDays = Math.max(0, (at(nextMonthStart).getTime() - now.getTime()) / DAY_MS);
    const dailyRate = recentMetered / 7;
    const forecast = monthSpend === null && recentMetered === 0 ? null : (Number(monthSpend ?? 0) + dailyRate * remainingDays).toFixed(2);
    const change =
      monthSpend !== null && lastMonthToDate !== null && Number(lastMonthToDate) > 0
        ? ((Number(monthSpend) - Number(lastMonthToDate)) / Number(lastMonthToDate)) * 100
        : null;

    const health = judgeSources(statuses, watermarks, context.options, now);
    const unhealthy = health.filter((source) => source.state === 'stale' || source.state === 'failing' || source.state === 'never');
    const anomalyDays = localDatesBetween(addDays(today, -8), addDays(today, -1)).map(formatLocalDate);
    const anomalies = findAnomalies(anomalyRows, anomalyDays);

    const summary: DataTable = {
      id: 'summary',
      caption: 'This month at a glance',
      columns: [
        { key: 'measure', label: 'Measure', kind: 'text' },
        { key: 'value', label: 'Value', kind: 'text' },
        { key: 'detail', label: 'How it is computed', kind: 'text' },
      ],
      rows: [
        { measure: 'Spend, month to date', value: monthSpend, detail: 'metered usage plus flat fees; usage a subscription covers is not added again' },
        { measure: 'Forecast to month end', value: forecast, detail: 'month to date + average metered spend per day over the last 7 complete days × days left' },
        { measure: 'Last month, same days', value: lastMonthToDate, detail: `${formatLocalDate(lastMonthStart)} up to ${formatLocalDate(sameDayLastMonth)} (exclusive)` },
        { measure: 'Last month, whole', value: lastMonthSpend, detail: formatLocalDate(lastMonthStart).slice(0, 7) },
        { measure: 'Flat fees this month', value: monthFlatFees, detail: 'subscriptions, as paid' },
        { measure: 'Covered usage, API-equivalent', value: monthCovered, detail: 'what usage under subscriptions would cost at API prices; not spend' },
        { measure: 'Unpriced tokens this month', value: String(monthUnpricedTokens), detail: 'tokens of rows without a cost (a model without a price, or tracked hours with calls whose usage never arrived): not counted in spend, never $0' },
      ],
      empty: '',
    };

    const series = toDailySeries(chartRows, filters.from, filters.to, (row) => row.spendUsd);
    const label = DIMENSION_LABELS[filters.stack];
    const chartTotal = addDecimals(series.series.flatMap((item) => item.values));
    const dailyTable = seriesTable(
      'daily-spend',
      `Spend per day by ${label.toLowerCase()}`,
      'Day',
      series,
      'usd',
      'No priced usage in this range. Run `utt run` (or `pnpm start`) to collect, or widen the range.',
    );
    const subscriptions: DataTable = {
      id: 'subscriptions',
      caption: 'Subscriptions this month: paid vs API-equivalent value',
      columns: [
        { key: 'provider', label: 'Provider', kind: 'text' },
        { key: 'paid', label: 'Paid (flat fees)', kind: 'usd', nullText: 'no plan recorded' },
        { key: 'value', label: 'API-equivalent value of covered usage', kind: 'usd', nullText: 'no covered usage' },
      ],
      rows: monthRows
        .filter((row) => row.flatFeeUsd !== null || row.coveredUsd !== null)
        .map((row) => ({ provider: row.groups[0] ?? '', paid: row.flatFeeUsd, value: row.coveredUsd })),
      empty: 'No flat-fee subscriptions or subscription-covered usage this month (see @utt/adapter-subscription, and billing: subscription on coding-agent sources).',
    };

    const budgetTable = budgetStatusTable(budgets, timeZone);
    const overBudget = budgets.filter((line) => line.state === 'OVER' || line.state === 'forecast over');
    const card = (title: string, value: string, note: SafeHtml | string) =>
      html`<li class="card"><h2>${title}</h2><p class="value">${value}</p><p>${note}</p></li>`;
    const content = html`
${anomalies.length > 0
    ? html`<div class="banner warn" role="status"><strong>Spend anomaly:</strong> ${anomalies.map(
        (anomaly, index) =>
          html`${index > 0 ? '; ' : ''}${anomaly.provider}/${anomaly.model} spent ${formatUsd(anomaly.spendUsd.toFixed(2))} on ${anomaly.day} (7-day mean ${formatUsd(anomaly.meanUsd.toFixed(2))})`,
      )}. <span class="note">Rule: ${ANOMALY_RULE}.</span></div>`
    : html`<p class="note">No spend anomaly. Rule: ${ANOMALY_RULE}.</p>`}
${unhealthy.length > 0
    ? html`<div class="banner bad" role="status"><strong>Freshness:</strong> ${unhealthy.length} of ${health.length} sources need attention: ${unhealthy.map(
        (source, index) => html`${index > 0 ? ', ' : ''}${source.source} (${source.state})`,
      )}. <a href="${context.href('/sources')}">See Sources</a>.</div>`
    : health.length > 0
      ? html`<p class="banner ok">Freshness: all ${health.length} sources are fresh or paused. <a href="${context.href('/sources')}">Sources</a></p>`
      : html`<p class="banner warn">No source has run yet: run <code>utt run</code> to collect.</p>`}
${monthUnpricedTokens > 0
    ? html`<div class="banner warn" role="status"><strong>Unpriced usage:</strong> ${formatCount(monthUnpricedTokens)} tokens this month have no cost: a model without a price, or hours of tracked calls whose usage never arrived. They are not counted in spend (not as $0). <a href="${context.href('/quality')}">Data quality</a> says which.</div>`
    : ''}
<ul class="cards" aria-label="This month">
${card('Spend, month to date', formatUsd(monthSpend, 'no priced spend'), html`metered ${formatUsd(total(monthRows, (row) => row.meteredUsd), '$0.00')} + flat fees ${formatUsd(monthFlatFees, '$0.00')}`)}
${card('Forecast to month end', formatUsd(forecast, 'not enough data'), `at ${formatUsd(dailyRate.toFixed(2))} a day (last 7 complete days)`)}
${card(
  'Against last month',
  change === null ? '–' : `${change >= 0 ? '+' : ''}${change.toFixed(1)} %`,
  html`same days last month ${formatUsd(lastMonthToDate, 'no spend')}; whole month ${formatUsd(lastMonthSpend, 'no spend')}`,
)}
${card('Covered by subscriptions', formatUsd(monthCovered, 'none'), 'API-equivalent value of usage flat fees already pay for; not added to spend')}
</ul>
${renderStackedBarChart({
  id: 'chart-daily-spend',
  title: `Spend per day by ${label.toLowerCase()}, ${formatLocalDate(filters.from)} to ${formatLocalDate(filters.to)} (${timeZone})`,
  description: `Stacked bars, one per day, one colour per ${label.toLowerCase()}. Total ${formatUsd(chartTotal, 'none priced')} over ${series.days.length} days.`,
  categories: series.days,
  series: series.series.map((item) => ({ name: item.name, values: item.values.map((value) => Number(value ?? 0)) })),
  formatValue: (value) => formatUsd(value.toFixed(2)),
})}
${tableWithExports(context, summary)}
${overBudget.length > 0
    ? html`<div class="banner bad" role="status"><strong>Budgets:</strong> ${overBudget.map(
        (line, index) => html`${index > 0 ? '; ' : ''}${budgetLabel(line)} ${line.state === 'OVER' ? 'is over its limit' : 'is forecast over its limit'} (${formatUsdPrecise(budgetUsd(line.spentUsd))} of ${formatUsdPrecise(budgetUsd(line.limitUsd))})`,
      )}.</div>`
    : ''}
${tableWithExports(context, budgetTable)}
<p class="note">Budgets: ${BUDGET_RULE}</p>
${tableWithExports(context, subscriptions)}
${tableWithExports(context, dailyTable)}`;
    return { title: 'Overview', content, tables: [summary, budgetTable, subscriptions, dailyTable] };
  },
};

/** How budget status is computed, stated under the table. */
export const BUDGET_RULE =
  "each day or month budget of the config's `budgets:` against all spend in its scope for the current calendar period in the reporting time zone (every source, not only tracked calls; the page's filters do not apply); forecast = flat fees paid this period + the rest of the spend so far × period length ÷ time elapsed (none before a tenth of the period has passed); state OVER past the limit, \u2018forecast over\u2019 when the forecast passes it, soft past the soft threshold";

function budgetLabel(line: BudgetStatus): string {
  const values = Object.entries(line.scopeValues).map(([key, value]) => `${key}=${value}`);
  return values.length === 0 ? line.budget : `${line.budget} (${values.join(', ')})`;
}

/** A budget amount as decimal text, to the millionth of a dollar (a forecast's float noise cut off). */
export function budgetUsd(value: number): string {
  return String(Math.round(value * 1e6) / 1e6);
}

/** The Overview's budget table; /api/v1/budgets returns the same lines. */
export function budgetStatusTable(lines: readonly BudgetStatus[], timeZone: string): DataTable {
  return {
    id: 'budgets',
    caption: 'Budget status, current periods',
    columns: [
      { key: 'budget', label: 'Budget', kind: 'text' },
      { key: 'period', label: `Period (${timeZone})`, kind: 'text' },
      // Precise: a $0.015 budget is not shown as "$0.02", nor its $0.0127 spend as "$0.01".
      { key: 'spent', label: 'Spent', kind: 'usd', precise: true },
      { key: 'limit', label: 'Limit', kind: 'usd', precise: true },
      { key: 'percent', label: 'Used', kind: 'percent' },
      // None until a tenth of the period has passed (readBudgetStatus's forecastBasis 'too_early'): a few minutes' rate
      // stretched over a day read as hundreds of times the spend.
      { key: 'forecast', label: 'Forecast at period end', kind: 'usd', precise: true, nullText: 'too early' },
      { key: 'state', label: 'State', kind: 'text' },
      // Spent counts priced usage only: with unpriced rows in scope it is a lower bound, never the whole.
      { key: 'unpriced', label: 'Unpriced usage rows', kind: 'count' },
    ],
    rows: lines.map((line) => ({
      budget: budgetLabel(line),
      period: `${line.period}: ${formatLocalTimestamp(new Date(line.periodStart), timeZone)} to ${formatLocalTimestamp(new Date(line.periodEnd), timeZone)}`,
      spent: budgetUsd(line.spentUsd),
      limit: budgetUsd(line.limitUsd),
      percent: line.percent / 100,
      forecast: line.forecastBasis === 'too_early' ? null : budgetUsd(line.forecastUsd),
      state: line.state,
      unpriced: line.unpricedRows,
    })),
    empty: 'No day or month budgets configured: add `budgets:` to the config (utt serve passes them) or the `budgets` option when mounting.',
  };
}
