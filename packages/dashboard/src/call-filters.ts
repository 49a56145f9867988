import { TRACKED_CALL_PAGE_LIMIT, type TrackedCallFilter, USAGE_ORIGINS, type UsageOrigin } from '@utt/postgres';
import { FilterError, type Filters, usageFilter } from './filters';
import { html, type SafeHtml } from './html';

/** The call ledger's own filters, on top of range, provider, model and source: all plain GET parameters. */
export type CallFilters = {
  /** `tag=key=value`, repeatable: every pair must match. */
  readonly tags: Readonly<Record<string, string>>;
  readonly origin: UsageOrigin | '';
  readonly untagged: boolean;
  readonly limit: number;
  readonly before: string | undefined;
  /** The tag key the Tags page breaks down by. */
  readonly key: string;
};

export const PAGE_SIZES = [25, 50, 100, 200] as const;

export function parseCallFilters(params: URLSearchParams): CallFilters {
  const tags: Record<string, string> = {};
  for (const pair of params.getAll('tag')) {
    const text = pair.trim();
    if (text === '') continue;
    const split = text.indexOf('=');
    if (split <= 0) throw new FilterError('tag', `"${text}" must be written key=value`);
    if (text.length > 300) throw new FilterError('tag', 'is too long');
    tags[text.slice(0, split).trim()] = text.slice(split + 1).trim();
  }
  const origin = params.get('origin') ?? '';
  if (origin !== '' && !(USAGE_ORIGINS as readonly string[]).includes(origin)) throw new FilterError('origin', `must be one of ${USAGE_ORIGINS.join(', ')}`);
  const limitText = params.get('limit') ?? '';
  const limit = limitText === '' ? TRACKED_CALL_PAGE_LIMIT.default : Number(limitText);
  if (!Number.isInteger(limit) || limit < 1 || limit > TRACKED_CALL_PAGE_LIMIT.max) {
    throw new FilterError('limit', `must be a whole number from 1 to ${TRACKED_CALL_PAGE_LIMIT.max}`);
  }
  const before = params.get('before') || undefined;
  const key = params.get('key') ?? '';
  if (key.length > 200) throw new FilterError('key', 'is too long');
  return { tags, origin: origin as UsageOrigin | '', untagged: params.get('untagged') === '1', limit, before, key };
}

/** The store filter of the page's form: range and dimensions as every page reads them, plus the call filters. */
export function trackedCallFilter(filters: Filters, calls: CallFilters, timeZone: string): TrackedCallFilter {
  const usage = usageFilter(filters, timeZone);
  return {
    since: usage.since,
    until: usage.until,
    providers: usage.providers,
    models: usage.models,
    sourceSystems: usage.sourceSystems,
    tags: calls.tags,
    usageOrigins: calls.origin === '' ? undefined : [calls.origin],
    untaggedOnly: calls.untagged,
  };
}

export function tagText(tags: Readonly<Record<string, string>>): string {
  return Object.keys(tags)
    .sort()
    .map((key) => `${key}=${tags[key]}`)
    .join(', ');
}

/** The tag, usage-origin and untagged fields (and, for the Calls page, the page size). */
export function renderCallFields(calls: CallFilters, options: { pageSize: boolean }): SafeHtml {
  const tag = Object.entries(calls.tags)
    .map(([key, value]) => `${key}=${value}`)
    .join(' ');
  const extraTags = Object.entries(calls.tags).slice(1);
  return html`<p><label for="f-tag">Tag (key=value)</label><input id="f-tag" name="tag" type="text" value="${Object.entries(calls.tags)[0] ? `${Object.entries(calls.tags)[0]?.[0]}=${Object.entries(calls.tags)[0]?.[1]}` : ''}" placeholder="feature=chat" aria-describedby="f-tag-note"></p>
${extraTags.map(([key, value]) => html`<input type="hidden" name="tag" value="${key}=${value}">`)}
<p><label for="f-origin">Usage origin</label><select id="f-origin" name="origin"><option value="">Any</option>${USAGE_ORIGINS.map(
    (origin) => html`<option value="${origin}"${calls.origin === origin ? html` selected` : ''}>${origin === 'unknown' ? 'unknown (incomplete stream)' : origin}</option>`,
  )}</select></p>
<p class="check"><label for="f-untagged"><input id="f-untagged" name="untagged" type="checkbox" value="1"${calls.untagged ? html` checked` : ''}> Untagged only</label></p>
${options.pageSize
    ? html`<p><label for="f-limit">Per page</label><select id="f-limit" name="limit">${PAGE_SIZES.map(
        (size) => html`<option value="${size}"${calls.limit === size ? html` selected` : ''}>${size}</option>`,
      )}${(PAGE_SIZES as readonly number[]).includes(calls.limit) ? '' : html`<option value="${calls.limit}" selected>${calls.limit}</option>`}</select></p>`
    : ''}
<p class="note" id="f-tag-note">${tag === '' ? 'Tags: every key=value given must match.' : `Matching tags: ${tag}`}</p>`;
}
