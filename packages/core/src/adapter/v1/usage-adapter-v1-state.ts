/**
 * Small durable state a source keeps between cycles (an incremental reader's
 * byte offsets, per-hour partial sums), as JSON values under string keys.
 *
 * The worker loads the source's state before collect() and persists the
 * changes in the same transaction as the records: if collect() throws or the
 * write fails, the changes are dropped with the records, so state and data
 * never disagree. Keys are namespaced by the adapter (include the machine or
 * instance in them when several machines share one source name).
 */
export type UsageAdapterV1State = {
  get(key: string): unknown;
  /** Keys that start with `prefix`, sorted. */
  keys(prefix?: string): string[];
  /** Staged until the window is written. The value must be JSON-serialisable. */
  set(key: string, value: unknown): void;
  delete(key: string): void;
};
