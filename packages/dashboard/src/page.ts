import type { UsageDimensionValues } from '@utt/postgres';
import type { DataTable } from './data-table';
import type { ResolvedOptions } from './dashboard-options';
import type { Filters } from './filters';
import type { SafeHtml } from './html';
import type { LocalDate } from './zoned-time';

/** What every page is given: the options, the request's URL and filters, and one clock reading. */
export type PageContext = {
  readonly options: ResolvedOptions;
  readonly url: URL;
  readonly filters: Filters;
  readonly now: Date;
  /** Today in the reporting time zone. */
  readonly today: LocalDate;
  /** An href inside the dashboard: `path` below the base path, with a query. */
  href(path: string, params?: URLSearchParams): string;
};

/** Which filter fields a page's form shows. */
export type FormField = 'range' | 'provider' | 'model' | 'source' | 'stack' | 'by';

/** A rendered page: its tables are what `format=csv|json` exports. */
export type PageResult = {
  readonly title: string;
  readonly content: SafeHtml;
  readonly tables: readonly DataTable[];
};

export type Page = {
  readonly path: string;
  readonly title: string;
  readonly form: readonly FormField[];
  /** Days shown when the URL sets no range. */
  readonly defaultDays: number;
  render(context: PageContext): Promise<PageResult>;
  /** The choices of the provider, model and source selects, when they come from elsewhere than token_usage (the call ledger). */
  values?(context: PageContext): Promise<UsageDimensionValues & Record<string, unknown>>;
  /** Page-specific fields of the filter form, shown before its Apply button. */
  extraFields?(context: PageContext, values: (UsageDimensionValues & Record<string, unknown>) | null): SafeHtml;
};
