import { listTrackedCalls, trackedCallDimensionValues, trackedCallSummary } from '@utt/postgres';
import { parseCallFilters, renderCallFields, tagText, trackedCallFilter } from '../call-filters';
import type { DataTable } from '../data-table';
import { usageFilter } from '../filters';
import { formatCount, formatPercent, formatUsd } from '../format';
import { html, type SafeHtml } from '../html';
import { tableWithExports } from '../layout';
import type { Page, PageContext } from '../page';
import { formatLocalTimestamp } from '../zoned-time';

/** The Calls page's table: also what /api/v1/calls returns per call. */
export function callsTable(calls: Awaited<ReturnType<typeof listTrackedCalls>>['calls'], timeZone: string): DataTable {
  return {
    id: 'calls',
    caption: 'Calls, newest first',
    columns: [
      { key: 'time', label: `Time (${timeZone})`, kind: 'timestamp' },
      { key: 'application', label: 'Application', kind: 'text' },
      { key: 'provider', label: 'Provider', kind: 'text' },
      { key: 'model', label: 'Model', kind: 'text' },
      { key: 'operation', label: 'Operation', kind: 'text' },
      { key: 'tags', label: 'Tags', kind: 'text', nullText: '(untagged)' },
      { key: 'input', label: 'Input', kind: 'count' },
      { key: 'cachedRead', label: 'Cache read', kind: 'count' },
      { key: 'cachedWrite', label: 'Cache write', kind: 'count' },
      { key: 'output', label: 'Output', kind: 'count' },
      { key: 'reasoning', label: 'Reasoning (in output)', kind: 'count' },
      { key: 'cost', label: 'Cost', kind: 'usd', precise: true, nullText: 'unpriced' },
      { key: 'latency', label: 'Latency ms', kind: 'number', nullText: 'not measured' },
      { key: 'origin', label: 'Usage origin', kind: 'text' },
      { key: 'stream', label: 'Stream', kind: 'text' },
    ],
    rows: calls.map((call) => ({
      time: formatLocalTimestamp(call.occurredAt, timeZone, true),
      application: call.sourceInstance === '' ? call.sourceSystem : `${call.sourceSystem} (${call.sourceInstance})`,
      provider: call.provider,
      model: call.model,
      operation: call.operation,
      tags: Object.keys(call.tags).length === 0 ? null : tagText(call.tags),
      input: call.inputTokens,
      cachedRead: call.cachedReadTokens,
      cachedWrite: call.cachedWriteTokens,
      output: call.outputTokens,
      reasoning: call.reasoningTokens,
      cost: call.costUsd,
      latency: call.latencyMs === null ? null : Math.round(call.latencyMs),
      origin: call.usageOrigin === 'unknown' ? 'unknown (usage never arrived)' : call.usageOrigin,
      stream: call.streaming ? 'yes' : 'no',
    })),
    empty:
      'No tracked calls match. Calls come from @utt/tracker in your own services (createTracker with createTrackerSink(store)); `pnpm start` seeds an example application.',
  };
}

export const callsPage: Page = {
  path: '/calls',
  title: 'Calls',
  form: ['range', 'source', 'provider', 'model'],
  defaultDays: 30,
  values: (context) => trackedCallDimensionValues(context.options.store, usageFilter(context.filters, context.options.timeZone), { tagKeys: false }),
  extraFields: (context) => renderCallFields(parseCallFilters(context.url.searchParams), { pageSize: true }),
  async render(context: PageContext) {
    const { store, timeZone } = context.options;
    const calls = parseCallFilters(context.url.searchParams);
    const filter = trackedCallFilter(context.filters, calls, timeZone);
    const [page, summary] = await Promise.all([listTrackedCalls(store, { ...filter, limit: calls.limit, before: calls.before }), trackedCallSummary(store, filter)]);
    const table = callsTable(page.calls, timeZone);

    const link = (change: (params: URLSearchParams) => void) => {
      const params = new URLSearchParams(context.url.searchParams);
      params.delete('format');
      params.delete('table');
      change(params);
      return context.href('/calls', params);
    };
    const pager = (where: string) => html`<nav class="pager" aria-label="Pages of calls (${where})"><ul>
${calls.before !== undefined ? html`<li><a href="${link((params) => params.delete('before'))}">Newest calls</a></li>` : ''}
${page.nextCursor !== null ? html`<li><a href="${link((params) => params.set('before', page.nextCursor as string))}" rel="next">Older calls</a></li>` : html`<li>No older calls.</li>`}
</ul></nav>`;
    const share = (part: number, whole: number) => (whole === 0 ? '–' : formatPercent(part / whole));
    const card = (title: string, value: string, note: SafeHtml | string) =>
      html`<li class="card"><h2>${title}</h2><p class="value">${value}</p><p>${note}</p></li>`;
    const content = html`<ul class="cards" aria-label="Calls matching the filters">
${card('Calls', formatCount(summary.calls), html`${formatCount(summary.streamingCalls)} streamed`)}
${card('Cost', formatUsd(summary.costUsd, 'none priced'), summary.unpricedCalls > 0 ? `${formatCount(summary.unpricedCalls)} unpriced calls not included (never $0)` : 'every call with tokens is priced')}
${card('Tokens', formatCount(summary.tokens), 'input + cache read + cache write + output')}
${card('Untagged', share(summary.untaggedCalls, summary.calls), html`${formatCount(summary.untaggedCalls)} calls, ${formatUsd(summary.untaggedCostUsd, summary.untaggedCalls === 0 ? '$0.00' : 'unpriced')} with no tag`)}
${card(
  'Incomplete streams',
  formatCount(summary.incompleteCalls),
  html`usage origin unknown: counted as calls, no tokens. <a href="${link((params) => {
    params.set('origin', 'unknown');
    params.delete('before');
  })}">Show them</a>`,
)}
</ul>
<p class="note">Every call ${context.filters.provider || context.filters.model || context.filters.source || Object.keys(calls.tags).length > 0 || calls.origin || calls.untagged ? 'matching the filters ' : ''}from ${formatLocalTimestamp(filter.since as Date, timeZone)} to ${formatLocalTimestamp(filter.until as Date, timeZone)} (${timeZone}), ${calls.limit} per page, newest first. Exports hold exactly this page.</p>
${pager('above the table')}
${tableWithExports(context, table)}
${page.calls.length > 0 ? pager('below the table') : ''}`;
    return { title: 'Calls', content, tables: [table] };
  },
};
