import type { UsageAdapterV1State } from '@utt/core';
import type { SourceStateChanges } from '@utt/postgres';

/**
 * A source's stored state with changes staged on top: reads see the staged
 * values, and nothing reaches the database until the window is written (so a
 * failed collect leaves the stored state as it was).
 */
export function createStagedState(stored: ReadonlyMap<string, unknown>): { state: UsageAdapterV1State; changes(): SourceStateChanges } {
  const set = new Map<string, unknown>();
  const deleted = new Set<string>();
  const state: UsageAdapterV1State = {
    get(key) {
      if (deleted.has(key)) return undefined;
      return set.has(key) ? set.get(key) : stored.get(key);
    },
    keys(prefix = '') {
      const keys = new Set<string>();
      for (const key of stored.keys()) if (!deleted.has(key)) keys.add(key);
      for (const key of set.keys()) keys.add(key);
      return [...keys].filter((key) => key.startsWith(prefix)).sort();
    },
    set(key, value) {
      if (value === undefined) throw new TypeError(`state value for "${key}" must be JSON, not undefined (use delete)`);
      deleted.delete(key);
      set.set(key, value);
    },
    delete(key) {
      set.delete(key);
      if (stored.has(key)) deleted.add(key);
    },
  };
  return { state, changes: () => ({ set, deleted: [...deleted] }) };
}
