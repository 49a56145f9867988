import type { DataTable } from '../data-table';
import { html } from '../html';
import { tableWithExports } from '../layout';
import type { Page } from '../page';
import { describeDuration, judgeSources } from '../source-health';
import { formatLocalTimestamp } from '../zoned-time';

export const sourcesPage: Page = {
  path: '/sources',
  title: 'Sources',
  form: [],
  defaultDays: 30,
  async render(context) {
    const { store, timeZone } = context.options;
    const [statuses, watermarks] = await Promise.all([store.listStatus(), store.listWatermarks()]);
    const health = judgeSources(statuses, watermarks, context.options, context.now);
    const at = (date: Date | null) => (date === null ? null : formatLocalTimestamp(date, timeZone));
    const table: DataTable = {
      id: 'sources',
      caption: 'Every source the worker knows',
      columns: [
        { key: 'source', label: 'Source', kind: 'text' },
        { key: 'system', label: 'Source system', kind: 'text' },
        { key: 'state', label: 'State', kind: 'text' },
        { key: 'lastSuccess', label: 'Last success', kind: 'timestamp', nullText: 'never' },
        { key: 'lastRun', label: 'Last run', kind: 'timestamp', nullText: 'never' },
        { key: 'watermark', label: 'Watermark (complete up to)', kind: 'timestamp', nullText: 'none yet' },
        { key: 'rows', label: 'Rows last written', kind: 'count' },
        { key: 'limit', label: 'Stale after', kind: 'text' },
        { key: 'why', label: 'Why not fresh / last error', kind: 'text' },
      ],
      rows: health.map((source) => ({
        source: source.source,
        system: source.sourceSystem,
        state: source.state,
        lastSuccess: at(source.lastSuccessAt),
        lastRun: at(source.lastRunAt),
        watermark: at(source.watermark),
        rows: source.rowsWritten,
        limit: source.state === 'paused' ? 'not judged' : describeDuration(source.staleAfterMs),
        why: source.reason || (source.lastError ?? ''),
      })),
      empty: 'No source has run against this database yet. Run `utt run` (or `pnpm start`) and reload.',
    };
    const counts = new Map<string, number>();
    for (const source of health) counts.set(source.state, (counts.get(source.state) ?? 0) + 1);
    const content = html`<p class="note">Fresh = a successful write within the source's limit, judged on the status row's update times (never on row creation times). Paused sources are reported and never called stale. Errors are shown as the worker stored them, with secrets already removed.</p>
<p>${[...counts.entries()].map(([state, count], index) => html`${index > 0 ? ' · ' : ''}<strong>${count}</strong> ${state}`)}</p>
${tableWithExports(context, table)}`;
    return { title: 'Sources', content, tables: [table] };
  },
};
