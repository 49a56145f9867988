import type { UsageAdapterV1State } from '@utt/core';

/**
 * An in-memory UsageAdapterV1State: what a scan uses when no store backs it
 * (a library caller, a benchmark, tests). Values are kept by reference.
 */
export type MemoryState = UsageAdapterV1State & {
  /** Every key and value, for tests and for persisting it yourself. */
  entries(): Array<[string, unknown]>;
};

export function createMemoryState(initial?: Iterable<[string, unknown]>): MemoryState {
  const values = new Map<string, unknown>(initial);
  return {
    get: (key) => values.get(key),
    keys: (prefix = '') => [...values.keys()].filter((key) => key.startsWith(prefix)).sort(),
    set: (key, value) => {
      values.set(key, value);
    },
    delete: (key) => {
      values.delete(key);
    },
    entries: () => [...values.entries()],
  };
}
