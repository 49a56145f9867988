import type { UsageAdapterV1State } from '@utt/core';

/**
 * A source's state the way utt's worker handles it (apps/worker/src/cycle/staged-state.ts
 * and @utt/postgres' source-state.ts): stored as one JSON text per key, every key loaded
 * and JSON-parsed before collect(), changes staged on top and serialised for the write.
 */
export class WorkerLikeStore {
  private readonly rows = new Map<string, string>();

  /** Loads every key (as the worker does each cycle) and returns a staged state over it. */
  load(): { state: UsageAdapterV1State; save: () => { keysWritten: number; bytesWritten: number } } {
    const stored = new Map<string, unknown>();
    for (const [key, text] of this.rows) stored.set(key, JSON.parse(text));
    const set = new Map<string, unknown>();
    const deleted = new Set<string>();
    const state: UsageAdapterV1State = {
      get: (key) => (deleted.has(key) ? undefined : set.has(key) ? set.get(key) : stored.get(key)),
      keys: (prefix = '') => {
        const keys = new Set<string>();
        for (const key of stored.keys()) if (!deleted.has(key)) keys.add(key);
        for (const key of set.keys()) keys.add(key);
        return [...keys].filter((key) => key.startsWith(prefix)).sort();
      },
      set: (key, value) => {
        deleted.delete(key);
        set.set(key, value);
      },
      delete: (key) => {
        set.delete(key);
        if (stored.has(key)) deleted.add(key);
      },
    };
    const save = () => {
      let bytesWritten = 0;
      for (const key of deleted) this.rows.delete(key);
      for (const [key, value] of set) {
        const text = JSON.stringify(value);
        bytesWritten += text.length;
        this.rows.set(key, text);
      }
      return { keysWritten: set.size + deleted.size, bytesWritten };
    };
    return { state, save };
  }

  get keyCount(): number {
    return this.rows.size;
  }

  get bytes(): number {
    let total = 0;
    for (const [key, text] of this.rows) total += key.length + text.length;
    return total;
  }
}
