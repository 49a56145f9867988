import { formatCountdown, latestQuotaReadings, quotaResets, type QuotaStatusRow, quotaStatusRows, rotateQuotaAccounts, worstQuotaSeverity } from '@utt/core';
import type { DataTable } from '../data-table';
import type { ResolvedOptions } from '../dashboard-options';
import { FilterError } from '../filters';
import { formatPercent } from '../format';
import { html } from '../html';
import { tableWithExports } from '../layout';
import type { Page, PageContext } from '../page';
import { formatLocalTimestamp } from '../zoned-time';

const DAY_MS = 86_400_000;
/** As `utt quota`: eight weeks of history feed the historical pace. */
const HISTORY_MS = 56 * DAY_MS;
/** The reset schedule looks a week ahead: every weekly window resets within it. */
export const RESET_SCHEDULE_MS = 7 * DAY_MS;

/** The pace rule, stated on the page and in the API. */
export const PACE_RULE =
  'expected = time elapsed in the window ÷ the window’s length; pace = used − expected (positive: ahead of an even spread, negative: in reserve); ' +
  'burn rate = used ÷ time elapsed, or the slope of this window’s own readings over the last 6 hours when they span at least 30 minutes; ' +
  'runs out at now + (1 − used) ÷ burn rate, flagged when that comes before the reset. For windows of a day or more, P(run out) comes from the past weeks of the same account (at least 5 complete weeks).';

export type QuotaView = {
  readonly rows: QuotaStatusRow[];
  readonly resets: ReturnType<typeof quotaResets>;
  readonly rotation: ReturnType<typeof rotateQuotaAccounts>;
  readonly overall: ReturnType<typeof worstQuotaSeverity> | 'UNKNOWN';
  readonly providers: string[];
  readonly accounts: string[];
};

/** What `utt quota`, `utt quota resets` and `utt quota rotate` compute, from the stored readings (no source is asked). */
export async function quotaView(options: ResolvedOptions, now: Date, filter: { provider?: string; account?: string }): Promise<QuotaView> {
  const all = await options.store.listQuotaReadings({ since: new Date(now.getTime() - HISTORY_MS), until: now });
  const history = all.filter((reading) => (!filter.provider || reading.provider === filter.provider) && (!filter.account || reading.account === filter.account));
  const latest = latestQuotaReadings(history);
  const rows = quotaStatusRows(latest, history, { now, thresholds: options.quota.thresholds, staleAfterMs: options.quota.staleAfterMs });
  const sorted = (values: Iterable<string>) => [...new Set(values)].sort();
  return {
    rows,
    resets: quotaResets(latest, now, RESET_SCHEDULE_MS),
    rotation: rotateQuotaAccounts(latest, now),
    overall: rows.length === 0 ? 'UNKNOWN' : worstQuotaSeverity(rows.map((row) => row.severity)),
    providers: sorted(all.map((reading) => reading.provider)),
    accounts: sorted(all.filter((reading) => !filter.provider || reading.provider === filter.provider).map((reading) => reading.account)),
  };
}

const views = new WeakMap<PageContext, Promise<QuotaView>>();

/** Read once per request: the form's choices and the tables share it. */
function pageView(context: PageContext): Promise<QuotaView> {
  let view = views.get(context);
  if (view === undefined) views.set(context, (view = quotaView(context.options, context.now, parseQuotaFilter(context.url.searchParams))));
  return view;
}

function parseQuotaFilter(params: URLSearchParams): { provider?: string; account?: string } {
  const text = (field: string) => {
    const value = params.get(field) ?? '';
    if (value.length > 200) throw new FilterError(field, 'is too long');
    return value || undefined;
  };
  return { provider: text('provider'), account: text('account') };
}

export const quotasPage: Page = {
  path: '/quotas',
  title: 'Quotas',
  form: ['provider'],
  defaultDays: 1,
  async values(context) {
    const view = await pageView(context);
    return { sourceSystems: [], providers: view.providers, models: [], accounts: view.accounts };
  },
  extraFields(context, values) {
    const account = context.url.searchParams.get('account') ?? '';
    const accounts = (values?.accounts as string[] | undefined) ?? [];
    return html`<p><label for="f-account">Account</label><select id="f-account" name="account"><option value="">All</option>${accounts.map(
      (option) => html`<option value="${option}"${account === option ? html` selected` : ''}>${option}</option>`,
    )}${account !== '' && !accounts.includes(account) ? html`<option value="${account}" selected>${account}</option>` : ''}</select></p>`;
  },
  async render(context: PageContext) {
    const { timeZone, quota } = context.options;
    const { now } = context;
    const view = await pageView(context);
    const at = (instant: Date | null) => (instant === null ? null : formatLocalTimestamp(instant, timeZone));
    const windows: DataTable = {
      id: 'windows',
      caption: 'Windows: latest reading of each account and window',
      columns: [
        { key: 'window', label: 'Provider · account · window', kind: 'text' },
        { key: 'used', label: 'Used now', kind: 'percent', nullText: 'unknown' },
        { key: 'severity', label: 'Severity', kind: 'text' },
        { key: 'expected', label: 'Even pace would be', kind: 'percent', nullText: 'no pace' },
        { key: 'pace', label: 'Pace (used − expected)', kind: 'percent', nullText: 'no pace' },
        { key: 'outlook', label: 'At this rate', kind: 'text' },
        { key: 'runOut', label: 'P(run out), past weeks', kind: 'percent', nullText: '–' },
        { key: 'resetsAt', label: 'Resets at', kind: 'timestamp', nullText: 'no window running' },
        { key: 'resetsIn', label: 'Resets in', kind: 'text' },
        { key: 'confirmed', label: 'Last confirmed', kind: 'timestamp' },
        { key: 'fresh', label: 'Freshness', kind: 'text' },
        { key: 'status', label: 'Provider status', kind: 'text' },
        { key: 'via', label: 'Read via', kind: 'text' },
      ],
      rows: view.rows.map((row) => {
        const pace = row.pace;
        const outlook =
          pace === null
            ? ''
            : pace.runsOutBeforeReset && pace.exhaustsAt
              ? pace.exhaustsAt.getTime() <= now.getTime()
                ? 'exhausted'
                : `runs out ${formatLocalTimestamp(pace.exhaustsAt, timeZone)}, before the reset`
              : 'lasts to the reset';
        return {
          window: `${row.reading.provider} · ${row.reading.account} · ${row.reading.window}`,
          used: row.usedRatio,
          severity: row.severity,
          expected: pace?.expectedRatio ?? null,
          pace: pace?.deltaRatio ?? null,
          outlook,
          runOut: row.historicalPace?.runOutProbability ?? null,
          resetsAt: at(row.reading.resetsAt),
          resetsIn: formatCountdown(now, row.reading.resetsAt),
          confirmed: at(row.reading.confirmedAt),
          fresh: row.stale ? `stale: not confirmed for ${formatCountdown(row.reading.confirmedAt, now)}` : 'fresh',
          status: row.reading.status,
          via: row.reading.obtainedVia,
        };
      }),
      empty: 'No quota readings yet: enable a quota source (`quota:` in a claude-code or codex source), or let @utt/tracker piggyback the rate-limit headers of your own calls; `pnpm start` seeds an example.',
    };
    const resets: DataTable = {
      id: 'resets',
      caption: 'Reset schedule, next 7 days',
      columns: [
        { key: 'at', label: `At (${timeZone})`, kind: 'timestamp' },
        { key: 'in', label: 'In', kind: 'text' },
        { key: 'provider', label: 'Provider', kind: 'text' },
        { key: 'account', label: 'Account', kind: 'text' },
        { key: 'window', label: 'Window', kind: 'text' },
        { key: 'used', label: 'Used now', kind: 'percent', nullText: 'unknown' },
      ],
      rows: view.resets.map((reading) => ({
        at: at(reading.resetsAt),
        in: formatCountdown(now, reading.resetsAt),
        provider: reading.provider,
        account: reading.account,
        window: reading.window,
        used: reading.usedRatio,
      })),
      empty: 'No window resets in the next 7 days (or the sources do not say when).',
    };
    const rotation: DataTable = {
      id: 'rotation',
      caption: 'Rotation: which account to use next',
      columns: [
        { key: 'rank', label: 'Rank', kind: 'number' },
        { key: 'account', label: 'Provider · account', kind: 'text' },
        { key: 'group', label: 'Group', kind: 'text' },
        { key: 'headroom', label: 'Headroom', kind: 'percent', nullText: 'unknown' },
        { key: 'binding', label: 'Binding window', kind: 'text', nullText: '' },
        { key: 'resetsAt', label: 'Binding window resets', kind: 'timestamp', nullText: '' },
        { key: 'why', label: 'Why', kind: 'text' },
      ],
      rows: view.rotation.map((entry) => ({
        rank: entry.rank,
        account: `${entry.provider} · ${entry.account}`,
        group: entry.group,
        headroom: entry.headroomRatio === null ? null : Math.max(0, entry.headroomRatio),
        binding: entry.bindingWindow,
        resetsAt: at(entry.resetsAt),
        why: entry.why,
      })),
      empty: 'No accounts to rank yet.',
    };
    const best = view.rotation[0];
    const avoid = view.rotation.filter((entry) => entry.group !== 'available' && entry.group !== 'unknown');
    const stale = view.rows.filter((row) => row.stale).length;
    const content = html`${view.rows.length > 0
      ? html`<ul class="cards" aria-label="Quota at a glance">
<li class="card"><h2>Overall</h2><p class="value">${view.overall}</p><p>${view.rows.length} windows; warning at ${formatPercent(quota.thresholds.warning, 0)}, critical at ${formatPercent(quota.thresholds.critical, 0)}</p></li>
<li class="card"><h2>Use next</h2><p class="value">${best?.group === 'available' ? best.account : 'none'}</p><p>${best?.group === 'available' ? `${best.provider}, ${formatPercent(Math.max(0, best.headroomRatio ?? 0), 0)} headroom${avoid.length > 0 ? `; avoid ${avoid.map((entry) => entry.account).join(', ')}` : ''}` : 'no account has known headroom now'}</p></li>
<li class="card"><h2>Stale readings</h2><p class="value">${stale}</p><p>not confirmed within ${Math.round(quota.staleAfterMs / 60_000)} minutes: the number may have moved since</p></li>
</ul>`
      : ''}
<p class="note">Pace: ${PACE_RULE} Used now is 0 once a window’s reset has passed. Readings are what the quota sources stored; this page asks no provider.</p>
${tableWithExports(context, windows)}
${tableWithExports(context, resets)}
${tableWithExports(context, rotation)}`;
    return { title: 'Quotas', content, tables: [windows, resets, rotation] };
  },
};
