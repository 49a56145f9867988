import { lacksOnlyUsage, pricingCoverage, trackedCallSummary, unpricedModels } from '@utt/postgres';
import type { DataTable } from '../data-table';
import { usageFilter } from '../filters';
import { html } from '../html';
import { tableWithExports } from '../layout';
import type { Page } from '../page';
import { judgeSources } from '../source-health';
import { formatLocalDate, formatLocalTimestamp } from '../zoned-time';

/** The explanation of an unpriced row that only lacks the usage of some calls, not a price. */
export const USAGE_UNKNOWN_NOTE = 'no price to add: calls of these hours never reported usage (see Incomplete streams below)';

export const qualityPage: Page = {
  path: '/quality',
  title: 'Data quality',
  form: ['range'],
  defaultDays: 30,
  async render(context) {
    const { store, timeZone, sources, explainPrice } = context.options;
    const { since, until } = usageFilter(context.filters, timeZone);
    const [unpriced, coverage, statuses, watermarks, checks, calls] = await Promise.all([
      unpricedModels(store, { since, until, timeZone }),
      pricingCoverage(store, { since, until, timeZone }),
      store.listStatus(),
      store.listWatermarks(),
      sources
        ? store.verify({
            sources: sources.map((source) => ({
              name: source.name,
              sourceSystem: source.sourceSystem,
              cacheTokens: source.cacheTokens ?? 'read_write',
              enabled: source.enabled ?? true,
              paused: source.paused ?? false,
            })),
          })
        : Promise.resolve(null),
      trackedCallSummary(store, { since, until }),
    ]);
    const explanations = await Promise.all(
      unpriced.map(async (row) => {
        if (lacksOnlyUsage(row.reason)) return USAGE_UNKNOWN_NOTE;
        if (!explainPrice) return `run: utt prices explain --provider ${row.provider} --model ${row.model}`;
        try {
          return await explainPrice(row.provider, row.model);
        } catch (error) {
          return `prices explain failed: ${error instanceof Error ? error.message : String(error)}`;
        }
      }),
    );
    const unpricedTable: DataTable = {
      id: 'unpriced',
      caption: 'Unpriced models',
      columns: [
        { key: 'provider', label: 'Provider', kind: 'text' },
        { key: 'model', label: 'Model', kind: 'text' },
        { key: 'tokens', label: 'Tokens', kind: 'count' },
        { key: 'rows', label: 'Rows', kind: 'count' },
        { key: 'last', label: 'Latest bucket', kind: 'timestamp' },
        { key: 'reason', label: 'Reason stored', kind: 'text', nullText: '(not recorded)' },
        { key: 'explain', label: 'utt prices explain', kind: 'text' },
      ],
      rows: unpriced.map((row, index) => ({
        provider: row.provider,
        model: row.model || '(none)',
        tokens: row.tokens,
        rows: row.rows,
        last: formatLocalTimestamp(row.lastBucketStart, timeZone),
        reason: row.reason,
        explain: explanations[index] ?? '',
      })),
      empty: 'Every row with tokens in this range has a price.',
    };
    const problems = judgeSources(statuses, watermarks, context.options, context.now).filter((source) => source.state !== 'fresh' && source.state !== 'paused');
    const problemTable: DataTable = {
      id: 'source-problems',
      caption: 'Stale or failing sources',
      columns: [
        { key: 'source', label: 'Source', kind: 'text' },
        { key: 'state', label: 'State', kind: 'text' },
        { key: 'why', label: 'Why', kind: 'text' },
      ],
      rows: problems.map((source) => ({ source: source.source, state: source.state, why: source.reason })),
      empty: 'Every source is fresh or paused.',
    };
    const checkTable: DataTable = {
      id: 'checks',
      caption: 'Invariant checks (utt verify)',
      columns: [
        { key: 'check', label: 'Check', kind: 'text' },
        { key: 'result', label: 'Result', kind: 'text' },
        { key: 'detail', label: 'Detail', kind: 'text' },
      ],
      rows: (checks ?? []).map((check) => ({ check: check.name, result: check.ok ? 'pass' : 'FAIL', detail: check.detail })),
      empty:
        'The configured sources are needed to judge cache columns (0 where a source reports no cache) and missing rows: `utt serve` passes them; a mounted dashboard takes them as the `sources` option.',
    };
    const coverageTable: DataTable = {
      id: 'price-sources',
      caption: 'Price sources and measurement bases in use',
      columns: [
        { key: 'costSource', label: 'Cost source', kind: 'text', nullText: 'unpriced' },
        { key: 'priceSource', label: 'Price source', kind: 'text' },
        { key: 'basis', label: 'Measurement basis', kind: 'text' },
        { key: 'rows', label: 'Rows', kind: 'count' },
        { key: 'tokens', label: 'Tokens', kind: 'count' },
        { key: 'cost', label: 'Cost', kind: 'usd', nullText: '—' },
      ],
      rows: coverage.map((row) => ({
        costSource: row.costSource,
        priceSource:
          row.priceSource ||
          (row.costSource === 'provider' ? 'provider-reported' : row.costSource === 'fixed' ? 'flat fee' : row.costSource === null ? '' : '(not recorded)'),
        basis: row.measurementBasis,
        rows: row.rows,
        tokens: row.tokens,
        cost: row.costUsd,
      })),
      empty: 'No usage in this range.',
    };
    const callLink = (params: Record<string, string>) => {
      const query = new URLSearchParams({ from: formatLocalDate(context.filters.from), to: formatLocalDate(context.filters.to), ...params });
      return context.href('/calls', query);
    };
    const share = (part: number) => (calls.calls === 0 ? null : part / calls.calls);
    const callTable: DataTable = {
      id: 'tracked-calls',
      caption: 'Tracked calls (the in-process ledger of @utt/tracker)',
      columns: [
        { key: 'check', label: 'Check', kind: 'text' },
        { key: 'calls', label: 'Calls', kind: 'count' },
        { key: 'share', label: 'Share of calls', kind: 'percent' },
        { key: 'cost', label: 'Their cost', kind: 'usd', precise: true, nullText: '—' },
        { key: 'meaning', label: 'What it means', kind: 'text' },
      ],
      rows:
        calls.calls === 0
          ? []
          : [
              { check: 'All tracked calls', calls: calls.calls, share: 1, cost: calls.costUsd, meaning: 'every call the tracker recorded in this range' },
              { check: 'Untagged calls', calls: calls.untaggedCalls, share: share(calls.untaggedCalls), cost: calls.untaggedCostUsd, meaning: 'no tag at all: spend nobody can be attributed (set tags in createTracker or withTags)' },
              { check: 'Incomplete streams', calls: calls.incompleteCalls, share: share(calls.incompleteCalls), cost: null, meaning: 'usage origin unknown: the stream or response ended before its usage arrived; recorded with no tokens, and its hour shows unpriced (no price can fill it)' },
              { check: 'Unpriced calls', calls: calls.unpricedCalls, share: share(calls.unpricedCalls), cost: null, meaning: 'tokens without a price: not in spend, never $0' },
              { check: 'Missing latency', calls: calls.missingLatencyCalls, share: share(calls.missingLatencyCalls), cost: null, meaning: 'no latency measured (recorded by hand, or cut short)' },
            ],
      empty: 'No tracked calls in this range (they come from @utt/tracker in your services).',
    };
    const content = html`<p class="note">Unpriced usage is never counted as $0: add a price under <code>pricing.overrides</code> or refresh prices with <code>utt prices update</code>, then <code>utt reprice</code>.</p>
${tableWithExports(context, unpricedTable)}
${tableWithExports(context, problemTable)}
${tableWithExports(context, checkTable)}
${tableWithExports(context, coverageTable)}
${tableWithExports(context, callTable)}
${calls.calls > 0
  ? html`<p class="note">See them: <a href="${callLink({ untagged: '1' })}">untagged calls</a> · <a href="${callLink({ origin: 'unknown' })}">incomplete streams</a> · <a href="${context.href('/tags', new URLSearchParams({ from: formatLocalDate(context.filters.from), to: formatLocalDate(context.filters.to) }))}">tag breakdown</a></p>`
  : ''}`;
    return { title: 'Data quality', content, tables: [unpricedTable, problemTable, checkTable, coverageTable, callTable] };
  },
};
