import { usageBreakdown } from '@utt/postgres';
import type { DataTable } from '../data-table';
import { usageFilter } from '../filters';
import { addDecimals, formatCount, formatUsd } from '../format';
import { html } from '../html';
import { tableWithExports } from '../layout';
import type { Page } from '../page';
import { seriesTable, toDailySeries } from '../series';
import { renderStackedBarChart } from '../stacked-bar-chart';
import { sumRows } from '../row-sums';
import { formatLocalDate } from '../zoned-time';
import { TOKEN_COLUMNS, tokenCells } from './usage-page';

/** The source systems the coding-agent adapters write (Claude Code, Codex CLI, Gemini CLI). */
export const AGENT_SOURCE_SYSTEMS = ['claude_code', 'codex_cli', 'gemini_cli'] as const;

export const agentsPage: Page = {
  path: '/agents',
  title: 'Coding agents',
  form: ['range', 'model'],
  defaultDays: 30,
  async render(context) {
    const { store, timeZone } = context.options;
    const { filters } = context;
    const filter = { ...usageFilter(filters, timeZone), providers: undefined, sourceSystems: [...AGENT_SOURCE_SYSTEMS] };
    // One read per day at the finest grouping shown; the table and the chart are summed from it.
    const finest = await usageBreakdown(store, { ...filter, by: ['source_system', 'machine', 'project', 'model'], period: 'day', timeZone });
    const rows = sumRows(finest, (row) => ({ period: null, groups: row.groups }));
    const dailyRows = sumRows(finest, (row) => ({ period: row.period, groups: [row.groups[1] ?? ''] }));
    const sorted = [...rows].sort(
      (a, b) => Number(b.spendUsd ?? 0) + Number(b.coveredUsd ?? 0) - Number(a.spendUsd ?? 0) - Number(a.coveredUsd ?? 0),
    );
    const table: DataTable = {
      id: 'agents',
      caption: `By machine, project and model, ${formatLocalDate(filters.from)} to ${formatLocalDate(filters.to)}`,
      columns: [
        { key: 'machine', label: 'Machine', kind: 'text' },
        { key: 'agent', label: 'Agent', kind: 'text' },
        { key: 'project', label: 'Project', kind: 'text' },
        { key: 'model', label: 'Model', kind: 'text' },
        ...TOKEN_COLUMNS.filter((column) => column.key !== 'requests'),
        { key: 'spend', label: 'Spend (API-billed)', kind: 'usd' },
        { key: 'covered', label: 'Covered by subscription (API-equivalent)', kind: 'usd' },
        { key: 'unpriced', label: 'Unpriced tokens', kind: 'count' },
      ],
      rows: sorted.map((row) => {
        const [agent = '', machine = '', project = '', model = ''] = row.groups;
        return {
          machine: machine || '(unknown)',
          agent,
          project: project || '(none)',
          model,
          ...tokenCells(row),
          spend: row.spendUsd,
          covered: row.coveredUsd,
          unpriced: row.unpricedTokens,
        };
      }),
      empty: 'No coding-agent usage in this range. Enable @utt/adapter-claude-code, @utt/adapter-codex or @utt/adapter-gemini-cli on each machine (see examples/utt.config.yaml).',
    };
    const tokens = (row: (typeof dailyRows)[number]) =>
      String((row.inputTokens ?? 0) + (row.cachedReadTokens ?? 0) + (row.cachedWriteTokens ?? 0) + (row.outputTokens ?? 0));
    const series = toDailySeries(dailyRows, filters.from, filters.to, tokens);
    const daily = seriesTable('daily-tokens', 'Tokens per day by machine', 'Day', series, 'count', 'No coding-agent usage in this range.');
    const totalTokens = addDecimals(series.series.flatMap((item) => item.values));
    const content = html`<p class="note">Usage from local coding-agent logs, one machine per source instance. Usage a subscription covers (billing: subscription) is shown at its API-equivalent value and is not spend.</p>
${renderStackedBarChart({
  id: 'chart-agents',
  title: `Coding-agent tokens per day by machine (${timeZone})`,
  description: `Stacked bars per day; ${formatCount(Number(totalTokens ?? 0))} tokens in total.`,
  categories: series.days,
  series: series.series.map((item) => ({ name: item.name, values: item.values.map((value) => Number(value ?? 0)) })),
  formatValue: (value) => formatCount(Math.round(value)),
})}
<p>Spend ${formatUsd(addDecimals(rows.map((row) => row.spendUsd)), 'none priced')} · covered by subscriptions ${formatUsd(addDecimals(rows.map((row) => row.coveredUsd)), 'none')}</p>
${tableWithExports(context, table)}
${tableWithExports(context, daily)}`;
    return { title: 'Coding agents', content, tables: [table, daily] };
  },
};
