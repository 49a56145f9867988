import type { UsageAdapterV1StateSelection } from './usage-adapter-v1-state-selection';

/**
 * Small durable state a source keeps between cycles (an incremental reader's
 * byte offsets, per-hour partial sums), as JSON values under string keys.
 *
 * The worker persists the changes in the same transaction as the records: if
 * collect() throws or the write fails, the changes are dropped with the
 * records, so state and data never disagree. Keys are namespaced by the
 * adapter (include the machine or instance in them when several machines
 * share one source name).
 *
 * By default the worker loads every stored value before collect(). An adapter
 * whose state grows large (one value per file and per hour of a coding agent)
 * declares `capabilities.stateLoading: 'on-demand'` and reads what a cycle
 * needs with `load()` first: then get() and keys() throw for what was not
 * loaded, rather than answer "absent" for a value that is stored.
 */
export type UsageAdapterV1State = {
  /** The value, or undefined when none is stored or staged. */
  get(key: string): unknown;
  /** Keys that start with `prefix`, sorted. */
  keys(prefix?: string): string[];
  /** Staged until the window is written. The value must be JSON-serialisable. */
  set(key: string, value: unknown): void;
  /**
   * Stages the value whose JSON text is `json` (a string, or its UTF-8 bytes),
   * as set(key, JSON.parse(json)) would, for a value the adapter builds as
   * text anyway: the worker's store sends the text as it is instead of
   * serialising the value again, and get() returns the value parsed. `json`
   * must be exactly one JSON value (a store does not parse it again before
   * sending it; the database refuses a write whose text is not JSON). Absent on
   * a state that does not keep text: fall back to set().
   */
  setJson?(key: string, json: string | Uint8Array): void;
  delete(key: string): void;
  /**
   * Reads stored values so that get() and keys() can answer for them: the
   * selected keys (stored or not) and every key under the selected prefixes.
   * Selecting what is already loaded or staged costs nothing. Absent on a state
   * that holds everything in memory.
   */
  load?(selection: UsageAdapterV1StateSelection): Promise<void>;
};
