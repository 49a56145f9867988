import type { TrackedCallV1 } from './tracked-call-v1';

/** Which spend a budget counts: every field narrows; absent means any. */
export type SpendScopeV1 = {
  readonly provider?: string;
  readonly model?: string;
  /** token_usage.source_system: one application, or any source when absent. */
  readonly sourceSystem?: string;
  /** label key → value (tags that are token_usage dimensions). */
  readonly labels?: Readonly<Record<string, string>>;
};

/** Spend between two instants (half-open), in USD, for one scope. */
export type SpendQueryV1 = {
  readonly start: Date;
  readonly end: Date;
  readonly scope: SpendScopeV1;
  /**
   * The calendar period [start, end) is, in its reporting time zone. With it,
   * hourly rows count by their bucket_start, and day and month rows (UTC
   * buckets) by their calendar date: the row of 2026-11-15 counts on the local
   * 15th and in the local November, whatever the offset; a month row never
   * counts toward a day. Without it, every row counts by its bucket_start.
   */
  readonly calendar?: { readonly period: 'day' | 'month'; readonly timeZone: string };
  /**
   * Only flat fees (rows with cost_source `fixed`: a subscription, a seat, a
   * commitment), which arrive once per period rather than with usage: a
   * forecast extrapolates the rest of the spend and adds these as they are.
   */
  readonly flatFeesOnly?: boolean;
};

/**
 * What a write left out because the sink holds it already; the tracker adds
 * it to its stats and logs it, so a skip is never silent. A sink that skips
 * nothing may return nothing.
 */
export type TrackerSinkWriteResultV1 = {
  /** Calls whose eventId was stored: a batch written again after a write whose answer was lost. */
  readonly alreadyStored?: number;
  /** Calls taken for one already stored under another eventId: the same provider response recorded again. */
  readonly sameResponse?: number;
  /**
   * Calls not stored on purpose (not an error): calls of hours already
   * pruned, which a retry could count twice. The tracker counts them as
   * dropped and does not retry them.
   */
  readonly refused?: number;
};

/**
 * Where a tracker writes its calls. `@utt/postgres` implements it over the
 * store; a test or another store can implement it too. write() must be
 * idempotent per eventId: the tracker retries a failed batch with the same
 * events. It may also skip a call that is the same provider response recorded
 * again, but then only on evidence that it is (a response id alone is not:
 * some servers reuse them), and it reports every skip in its result.
 */
export type TrackerSinkV1 = {
  readonly specificationVersion: 'v1';
  /** Resolves once the calls are durable, saying what it skipped or refused (see TrackerSinkWriteResultV1). */
  write(calls: readonly TrackedCallV1[]): Promise<TrackerSinkWriteResultV1 | undefined | void>;
  /** Spend already in the ledger (every source), for budgets; absent when the sink cannot answer. */
  readSpend?(queries: readonly SpendQueryV1[]): Promise<readonly string[]>;
};
