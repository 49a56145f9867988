import { USAGE_DIMENSIONS, type UsageDimension, type UsageFilter } from '@utt/postgres';
import { addDays, compareLocalDates, formatLocalDate, type LocalDate, parseLocalDate, startOfLocalDay } from './zoned-time';

/** A filter value the dashboard cannot use: answered with 400 and the field's name. */
export class FilterError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
    this.name = 'FilterError';
  }
}

export const STACK_DIMENSIONS = ['provider', 'model', 'source'] as const satisfies readonly UsageDimension[];
export const BREAKDOWN_DIMENSIONS = ['provider', 'model', 'source', 'account', 'api_key', 'user'] as const satisfies readonly UsageDimension[];

export const DIMENSION_LABELS: Record<UsageDimension, string> = {
  source: 'Source',
  source_system: 'Source system',
  provider: 'Provider',
  model: 'Model',
  account: 'Account',
  api_key: 'API key',
  user: 'User',
  machine: 'Machine',
  project: 'Project',
};

/** Everything a page's GET form can set; the URL is the whole state. */
export type Filters = {
  readonly from: LocalDate;
  readonly to: LocalDate;
  readonly provider: string;
  readonly model: string;
  readonly source: string;
  readonly stack: (typeof STACK_DIMENSIONS)[number];
  readonly by: (typeof BREAKDOWN_DIMENSIONS)[number];
};

const MAX_DAYS = 731;

export function parseFilters(params: URLSearchParams, today: LocalDate, defaultDays = 30): Filters {
  const date = (field: string, fallback: LocalDate): LocalDate => {
    const value = params.get(field);
    if (value === null || value === '') return fallback;
    const parsed = parseLocalDate(value);
    if (parsed === null) throw new FilterError(field, 'must be a date written YYYY-MM-DD');
    return parsed;
  };
  const to = date('to', today);
  const from = date('from', addDays(to, -(defaultDays - 1)));
  if (compareLocalDates(from, to) > 0) throw new FilterError('from', 'must not be after to');
  if (compareLocalDates(addDays(from, MAX_DAYS), to) < 0) throw new FilterError('from', `the range may cover at most ${MAX_DAYS} days`);
  const choice = <T extends string>(field: string, allowed: readonly T[], fallback: T): T => {
    const value = params.get(field);
    if (value === null || value === '') return fallback;
    if (!(allowed as readonly string[]).includes(value)) throw new FilterError(field, `must be one of ${allowed.join(', ')}`);
    return value as T;
  };
  const text = (field: string): string => {
    const value = params.get(field) ?? '';
    if (value.length > 200) throw new FilterError(field, 'is too long');
    return value;
  };
  return {
    from,
    to,
    provider: text('provider'),
    model: text('model'),
    source: text('source'),
    stack: choice('stack', STACK_DIMENSIONS, 'provider'),
    by: choice('by', BREAKDOWN_DIMENSIONS, 'provider'),
  };
}

/** The store filter for [from, to] in the reporting zone. */
export function usageFilter(filters: Filters, timeZone: string): UsageFilter {
  return {
    since: startOfLocalDay(filters.from, timeZone),
    until: startOfLocalDay(addDays(filters.to, 1), timeZone),
    providers: filters.provider ? [filters.provider] : undefined,
    models: filters.model ? [filters.model] : undefined,
    sourceSystems: filters.source ? [filters.source] : undefined,
  };
}

export function isDimension(value: string): value is UsageDimension {
  return (USAGE_DIMENSIONS as readonly string[]).includes(value);
}

/** The query string of the filters that differ from the defaults (shareable, short). */
export function filterParams(filters: Filters, keys: readonly (keyof Filters)[]): URLSearchParams {
  const params = new URLSearchParams();
  for (const key of keys) {
    const value = filters[key];
    if (typeof value === 'object') params.set(key, formatLocalDate(value));
    else if (value !== '') params.set(key, value);
  }
  return params;
}
