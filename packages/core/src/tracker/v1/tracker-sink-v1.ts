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
};

/**
 * Where a tracker writes its calls. `@utt/postgres` implements it over the
 * store; a test or another store can implement it too. write() must be
 * idempotent per eventId and per (provider, responseId): the tracker retries
 * a failed batch with the same events.
 */
export type TrackerSinkV1 = {
  readonly specificationVersion: 'v1';
  write(calls: readonly TrackedCallV1[]): Promise<void>;
  /** Spend already in the ledger (every source), for budgets; absent when the sink cannot answer. */
  readSpend?(queries: readonly SpendQueryV1[]): Promise<readonly string[]>;
};
