import type { DataTable } from '../data-table';
import { html } from '../html';
import { tableWithExports } from '../layout';
import type { Page } from '../page';
import { addDays } from '../zoned-time';

/** Within this share of the billed amount, computed and billed agree. */
const ALIGNED_PERCENT = 1;

export const reconciliationPage: Page = {
  path: '/reconciliation',
  title: 'Reconciliation',
  form: ['range'],
  defaultDays: 30,
  async render(context) {
    const { store } = context.options;
    const { filters } = context;
    // Providers bill per UTC day, so this page uses UTC days whatever the reporting zone.
    const since = new Date(Date.UTC(filters.from.year, filters.from.month - 1, filters.from.day));
    const end = addDays(filters.to, 1);
    const until = new Date(Date.UTC(end.year, end.month - 1, end.day));
    const rows = await store.reconcile({ since, until });
    const verdict = (billed: string | null, computed: string | null, gap: string | null): string => {
      if (billed === null) return 'computed, not billed';
      if (computed === null) return 'billed, not computed';
      if (gap === null) return 'billed $0';
      return Math.abs(Number(gap)) <= ALIGNED_PERCENT ? 'aligned' : 'drift';
    };
    const table: DataTable = {
      id: 'reconciliation',
      caption: 'Billed vs computed per UTC day and provider',
      columns: [
        { key: 'day', label: 'Day (UTC)', kind: 'text' },
        { key: 'system', label: 'Source system', kind: 'text' },
        { key: 'provider', label: 'Provider', kind: 'text' },
        { key: 'billed', label: 'Billed', kind: 'usd', nullText: 'nothing billed' },
        { key: 'computed', label: 'Computed', kind: 'usd', nullText: 'nothing priced' },
        { key: 'gap', label: 'Gap %', kind: 'number' },
        { key: 'verdict', label: 'Verdict', kind: 'text' },
        { key: 'unpriced', label: 'Unpriced rows', kind: 'count' },
      ],
      rows: rows.map((row) => ({
        day: row.day.toISOString().slice(0, 10),
        system: row.sourceSystem,
        provider: row.provider,
        billed: row.billedUsd,
        computed: row.computedUsd,
        gap: row.gapPercent,
        verdict: verdict(row.billedUsd, row.computedUsd, row.gapPercent),
        unpriced: row.unpricedRows,
      })),
      empty:
        'No billing data in this range. Cloud adapters that read the provider’s cost API (OpenAI, Anthropic) fill provider_cost, and so does a manual-import source’s costFiles (an invoice or a cost export); sources without billing never appear here.',
    };
    const content = html`<p class="note">What each provider says it billed (provider_cost) beside what utt computed from token counts and prices. Gap = (computed − billed) / billed. Within ${ALIGNED_PERCENT} % is “aligned”. Unpriced rows on a day mean computed spend is missing a price, not that the provider overcharges. Days here are UTC days, as providers bill them.</p>
${tableWithExports(context, table)}`;
    return { title: 'Reconciliation', content, tables: [table] };
  },
};
