import type { UsageAdapterV1State } from '../adapter/v1/usage-adapter-v1-state';
import type { UsageAdapterV1StateSelection } from '../adapter/v1/usage-adapter-v1-state-selection';
import { StateNotLoadedError } from '../errors/state-not-loaded-error';
import { StateJsonText } from './state-json-text';

/** Reads stored values: each selected key that is stored, and every stored key under the selected prefixes. */
export type StateLoader = (selection: UsageAdapterV1StateSelection) => Promise<ReadonlyMap<string, unknown>>;

/**
 * What a cycle changed in a source's state: written with its records, or
 * dropped with them. A value staged with setJson() is a StateJsonText: store
 * its `json` as it is (or serialise it: its toJSON() gives the value).
 */
export type StagedStateChanges = {
  readonly set: ReadonlyMap<string, unknown>;
  readonly deleted: readonly string[];
};

export type StagedState = {
  readonly state: UsageAdapterV1State;
  changes(): StagedStateChanges;
};

/**
 * A source's stored state with a cycle's changes staged on top: reads see the
 * staged values, and nothing is written until the caller takes `changes()`.
 *
 * Given the stored values, everything is loaded up front. Given a loader, the
 * state starts empty and `load()` reads what the adapter selects; get() and
 * keys() throw `StateNotLoadedError` for anything not loaded, since an
 * unloaded key may be stored.
 */
export function createStagedState(source: ReadonlyMap<string, unknown> | StateLoader): StagedState {
  const loader = typeof source === 'function' ? source : undefined;
  const stored = new Map<string, unknown>(typeof source === 'function' ? undefined : source);
  // Keys loaded one by one (whether or not they were stored), and prefixes loaded whole.
  const knownKeys = new Set<string>();
  const loadedPrefixes: string[] = loader ? [] : [''];
  const set = new Map<string, unknown>();
  const deleted = new Set<string>();

  const covered = (key: string) => loadedPrefixes.some((prefix) => key.startsWith(prefix));
  const known = (key: string) => stored.has(key) || set.has(key) || deleted.has(key) || knownKeys.has(key) || covered(key);

  const state: UsageAdapterV1State = {
    get(key) {
      if (deleted.has(key)) return undefined;
      if (set.has(key)) {
        const value = set.get(key);
        return StateJsonText.isInstance(value) ? value.value() : value;
      }
      if (stored.has(key)) return stored.get(key);
      if (knownKeys.has(key) || covered(key)) return undefined;
      throw new StateNotLoadedError({ key });
    },
    keys(prefix = '') {
      if (!covered(prefix)) throw new StateNotLoadedError({ key: prefix, prefix: true });
      const keys = new Set<string>();
      for (const key of stored.keys()) if (key.startsWith(prefix) && !deleted.has(key)) keys.add(key);
      for (const key of set.keys()) if (key.startsWith(prefix)) keys.add(key);
      return [...keys].sort();
    },
    set(key, value) {
      if (value === undefined) throw new TypeError(`state value for "${key}" must be JSON, not undefined (use delete)`);
      deleted.delete(key);
      set.set(key, value);
    },
    setJson(key, json) {
      if (typeof json !== 'string' && !(json instanceof Uint8Array)) throw new TypeError(`state JSON text for "${key}" must be a string or UTF-8 bytes`);
      deleted.delete(key);
      set.set(key, new StateJsonText(json));
    },
    delete(key) {
      // A key never loaded may be stored: its deletion is staged all the same.
      const stage = stored.has(key) || !known(key);
      set.delete(key);
      if (stage) deleted.add(key);
    },
    async load(selection) {
      if (!loader) return;
      const keys = (selection.keys ?? []).filter((key) => !known(key));
      const prefixes = (selection.prefixes ?? []).filter((prefix) => !covered(prefix));
      if (keys.length === 0 && prefixes.length === 0) return;
      const values = await loader({ keys, prefixes });
      for (const [key, value] of values) if (!stored.has(key)) stored.set(key, value);
      for (const key of keys) knownKeys.add(key);
      for (const prefix of prefixes) loadedPrefixes.push(prefix);
    },
  };
  return { state, changes: () => ({ set, deleted: [...deleted] }) };
}
