import { createStagedState, type Logger, StateJsonText, type UsageAdapterV1Context, type UsageAdapterV1State, type UsageAdapterV1StateSelection } from '@utt/core';

/**
 * A source's state the way utt's worker handles it for an adapter with
 * `stateLoading: 'on-demand'` (apps/worker/src/cycle/collect-source.ts over
 * @utt/postgres' source-state.ts): stored as one JSON text per key, read and
 * JSON-parsed only when the adapter loads it, changes staged on top with core's
 * createStagedState (the worker's own) and serialised for the write.
 */
export class WorkerLikeStore {
  private readonly rows = new Map<string, string>();

  /** A staged state over the stored rows; `loadMs` is the time spent reading and parsing what the adapter loaded. */
  open(): { state: UsageAdapterV1State; loaded: () => { loadMs: number; keysLoaded: number }; save: () => { keysWritten: number; bytesWritten: number } } {
    let loadMs = 0;
    let keysLoaded = 0;
    const staged = createStagedState(async (selection: UsageAdapterV1StateSelection) => {
      const started = performance.now();
      const values = new Map<string, unknown>();
      const take = (key: string) => {
        const text = this.rows.get(key);
        if (text !== undefined) values.set(key, JSON.parse(text));
      };
      for (const key of selection.keys ?? []) take(key);
      // The database finds a prefix's keys through its index: a sorted list of the keys stands in for it here.
      for (const prefix of selection.prefixes ?? []) {
        const keys = this.sortedKeys();
        for (let index = lowerBound(keys, prefix); index < keys.length && (keys[index] as string).startsWith(prefix); index += 1) take(keys[index] as string);
      }
      keysLoaded += values.size;
      loadMs += performance.now() - started;
      return values;
    });
    const save = () => {
      const { set, deleted } = staged.changes();
      let bytesWritten = 0;
      const keys = this.sortedKeys();
      for (const key of deleted) {
        if (this.rows.delete(key)) keys.splice(lowerBound(keys, key), 1);
      }
      for (const [key, value] of set) {
        // A value staged as JSON text is written as that text (made now if it was deferred), as the store does.
        const text = StateJsonText.isInstance(value) ? (typeof value.json === 'string' ? value.json : Buffer.from(value.json).toString('utf8')) : JSON.stringify(value);
        bytesWritten += text.length;
        if (!this.rows.has(key)) keys.splice(lowerBound(keys, key), 0, key);
        this.rows.set(key, text);
      }
      return { keysWritten: set.size + deleted.length, bytesWritten };
    };
    return { state: staged.state, loaded: () => ({ loadMs, keysLoaded }), save };
  }

  private sorted: string[] | undefined;

  private sortedKeys(): string[] {
    this.sorted ??= [...this.rows.keys()].sort();
    return this.sorted;
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

/** The index of the first key not below `prefix`. */
function lowerBound(keys: readonly string[], prefix: string): number {
  let low = 0;
  let high = keys.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if ((keys[middle] as string) < prefix) low = middle + 1;
    else high = middle;
  }
  return low;
}

/**
 * What the worker hands the Claude Code adapter's collect() (but the config
 * and the state) for a bench run over `configDir`, at the bench's fixed clock.
 */
export function benchCollectContext(configDir: string, logger: Logger): Omit<UsageAdapterV1Context<unknown>, 'config' | 'state'> {
  return {
    env: { CLAUDE_CONFIG_DIR: configDir },
    logger,
    signal: new AbortController().signal,
    now: () => new Date('2026-11-15T12:00:00Z'),
    sourceName: 'bench',
    // The adapter reads files only: it never calls the worker's HTTP client.
    http: undefined as never,
    fetch: globalThis.fetch,
  };
}

/** A window wide enough for every generated transcript: a cold backfill of all of them. */
export const BENCH_WINDOW = { start: new Date(0), end: new Date('2027-01-01T00:00:00Z'), granularity: 'hour' as const };
