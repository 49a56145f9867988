import { trackedCallDimensionValues, trackedTagBreakdown } from '@utt/postgres';
import { parseCallFilters, renderCallFields, trackedCallFilter } from '../call-filters';
import type { DataTable } from '../data-table';
import { usageFilter } from '../filters';
import { formatCount, formatPercent, formatUsd } from '../format';
import { html } from '../html';
import { tableWithExports } from '../layout';
import type { Page, PageContext } from '../page';

const ratio = (part: number, whole: number) => (whole === 0 ? null : part / whole);
const costRatio = (part: string | null, whole: string | null) => (part === null || whole === null || Number(whole) === 0 ? null : Number(part) / Number(whole));

const breakdowns = new WeakMap<PageContext, ReturnType<typeof readTagBreakdown>>();

/** The tag keys and the values of one key, read once per request: the form's key choices and the tables share it. */
function tagBreakdown(context: PageContext): ReturnType<typeof readTagBreakdown> {
  let breakdown = breakdowns.get(context);
  if (breakdown === undefined) breakdowns.set(context, (breakdown = readTagBreakdown(context)));
  return breakdown;
}

async function readTagBreakdown(context: PageContext) {
  const { store, timeZone } = context.options;
  const calls = parseCallFilters(context.url.searchParams);
  const filter = trackedCallFilter(context.filters, calls, timeZone);
  // Without a key, the costliest: the page opens on the split that matters most.
  const { summary, keys, key, values } = await trackedTagBreakdown(store, filter, { key: calls.key || undefined });
  return { calls, summary, keys, key, values };
}

export const tagsPage: Page = {
  path: '/tags',
  title: 'Tags',
  form: ['range', 'source', 'provider', 'model'],
  defaultDays: 30,
  async values(context) {
    const [values, breakdown] = await Promise.all([
      trackedCallDimensionValues(context.options.store, usageFilter(context.filters, context.options.timeZone), { tagKeys: false }),
      tagBreakdown(context),
    ]);
    return { ...values, tagKeys: breakdown.keys.map((key) => key.key).sort() };
  },
  extraFields(context, values) {
    const calls = parseCallFilters(context.url.searchParams);
    const keys = (values?.tagKeys as string[] | undefined) ?? [];
    return html`<p><label for="f-key">Break down by tag</label><select id="f-key" name="key"><option value="">Costliest key</option>${keys.map(
      (key) => html`<option value="${key}"${calls.key === key ? html` selected` : ''}>${key}</option>`,
    )}${calls.key !== '' && !keys.includes(calls.key) ? html`<option value="${calls.key}" selected>${calls.key}</option>` : ''}</select></p>
${renderCallFields(calls, { pageSize: false })}`;
  },
  async render(context: PageContext) {
    const { summary, keys, key, values } = await tagBreakdown(context);
    const keyTable: DataTable = {
      id: 'tag-keys',
      caption: 'Tag keys',
      columns: [
        { key: 'key', label: 'Tag key', kind: 'text' },
        { key: 'calls', label: 'Calls with it', kind: 'count' },
        { key: 'callShare', label: 'Share of calls', kind: 'percent' },
        { key: 'values', label: 'Distinct values', kind: 'count' },
        { key: 'tokens', label: 'Tokens', kind: 'count' },
        { key: 'cost', label: 'Cost', kind: 'usd', precise: true, nullText: 'unpriced' },
        { key: 'costShare', label: 'Share of cost', kind: 'percent' },
        { key: 'unpriced', label: 'Unpriced calls', kind: 'count' },
      ],
      rows: keys.map((row) => ({
        key: row.key,
        calls: row.calls,
        callShare: ratio(row.calls, summary.calls),
        values: row.values,
        tokens: row.tokens,
        cost: row.costUsd,
        costShare: costRatio(row.costUsd, summary.costUsd),
        unpriced: row.unpricedCalls,
      })),
      empty: 'No tagged calls match. Tags come from the tracker: createTracker({ tags }) or tracker.withTags({ feature: "chat" }, …).',
    };
    const valueTable: DataTable = {
      id: 'tag-values',
      caption: key === '' ? 'Values of a tag key' : `Values of "${key}"`,
      columns: [
        { key: 'value', label: key === '' ? 'Value' : `${key}`, kind: 'text' },
        { key: 'calls', label: 'Calls', kind: 'count' },
        { key: 'callShare', label: 'Share of calls', kind: 'percent' },
        { key: 'tokens', label: 'Tokens', kind: 'count' },
        { key: 'cost', label: 'Cost', kind: 'usd', precise: true, nullText: 'unpriced' },
        { key: 'costShare', label: 'Share of cost', kind: 'percent' },
        { key: 'unpriced', label: 'Unpriced calls', kind: 'count' },
      ],
      rows: values.map((row) => ({
        value: row.value ?? `(no ${key} tag)`,
        calls: row.calls,
        callShare: ratio(row.calls, summary.calls),
        tokens: row.tokens,
        cost: row.costUsd,
        costShare: costRatio(row.costUsd, summary.costUsd),
        unpriced: row.unpricedCalls,
      })),
      empty: 'Pick a tag key to split the calls by its values.',
    };
    const drill = (value: string | null) => {
      const params = new URLSearchParams(context.url.searchParams);
      for (const name of ['format', 'table', 'key']) params.delete(name);
      if (value === null) return null;
      params.append('tag', `${key}=${value}`);
      return context.href('/calls', params);
    };
    const linked = values.filter((row) => row.value !== null).slice(0, 12);
    const content = html`<ul class="cards" aria-label="Tag coverage">
<li class="card"><h2>Calls</h2><p class="value">${formatCount(summary.calls)}</p><p>cost ${formatUsd(summary.costUsd, 'none priced')}</p></li>
<li class="card"><h2>Untagged calls</h2><p class="value">${summary.calls === 0 ? '–' : formatPercent(summary.untaggedCalls / summary.calls)}</p><p>${formatCount(summary.untaggedCalls)} calls with no tag, ${formatUsd(summary.untaggedCostUsd, summary.untaggedCalls === 0 ? '$0.00' : 'unpriced')}</p></li>
<li class="card"><h2>Tag keys</h2><p class="value">${formatCount(keys.length)}</p><p>${key === '' ? 'none yet' : html`split below by <strong>${key}</strong>`}</p></li>
</ul>
<p class="note">Shares are of all ${formatCount(summary.calls)} calls matching the filters; a call may carry several keys, so key shares do not add up to 100 %. The values of one key do, with the calls that lack it. Cost is the sum of priced calls; unpriced calls are counted apart, never as $0.</p>
${tableWithExports(context, keyTable)}
${tableWithExports(context, valueTable)}
${linked.length > 0
    ? html`<p class="note">Calls of a value: ${linked.map((row, index) => html`${index > 0 ? ' · ' : ''}<a href="${drill(row.value) ?? ''}">${key}=${row.value}</a>`)}</p>`
    : ''}`;
    return { title: 'Tags', content, tables: [keyTable, valueTable] };
  },
};
