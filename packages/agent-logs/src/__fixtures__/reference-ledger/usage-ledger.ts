import type { UsageAdapterV1State } from '@utt/core';
import { addTokenVector, emptyTokenVector, formatTokenVector, TOKEN_VECTOR_LENGTH, type TokenVector, tokenTotal } from '../../token-vector';
import { hashKey } from '../../hash-key';
import { IndexShard } from './index-shard';
import type { UsageEvent } from '../../usage-event';

const HOUR_MS = 3_600_000;
// Enough shards that an incremental cycle copies only small ones (a few dozen keys each on a busy machine).
const INDEX_SHARDS = 4096;

/** One hourly cell after de-duplication: what becomes a token_usage row. */
export type LedgerCell = {
  readonly bucketStart: Date;
  readonly model: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly tokens: TokenVector;
};

export type LedgerAddResult = 'added' | 'replaced' | 'duplicate' | 'sealed';

// `counters`: the tokens as stored (formatTokenVector), when known already (read from the state, or formatted on a worker thread).
type Entry = { variant: string; loose: boolean; rank: number; cell: number; tokens: TokenVector; counters?: string };
// The copies an hour counts of one response: nearly always one (kept bare,
// not in an array: a cold scan keeps a hundred thousand), several when copies
// differ in variant.
type Copies = Entry | Entry[];
// `lostCopies`: a copy left the hour (replaced or moved) since it was opened,
// so a cell may have none left; until then every cell has a copy or was returned.
type Hour = { cells: string[]; emitted: boolean[]; cellIndex: Map<string, number>; entries: Map<string, Copies>; lostCopies: boolean };

// Persisted shapes. The state of a busy machine holds every response of the
// retention period, and the worker loads (JSON-parses) all of it every cycle:
// entries and index shards are kept as flat strings, which JSON.parse copies
// without building an object per response, and are decoded only for the
// hours and shards a cycle touches. Response keys and variants are stored as
// 64-bit hashes (11 characters of [0-9A-Za-z_-], so they need no escaping).
// Hour entries: `key,variant,loose,rank,cell,t0,…,t6` joined by `;` (a null token is empty;
// so is the rank when it equals the token total, as it does for Claude Code).
// Index shard: `key:hour.hour;key:hour`.
type StoredHour = { c: Array<[cell: string, emitted: 0 | 1]>; e: string };
// `hours`: every hour kept in the state, ascending, so pruning finds the old
// ones without listing (or loading) the state's hour keys.
type StoredMeta = { sealedBeforeHour: number | null; hours: number[] };

/**
 * Per-hour usage with de-duplication, kept in a source's durable state so an
 * incremental cycle can recompute any hour exactly without re-reading old
 * files: each hour keeps the copy it counts of every response, and a sharded
 * index maps a response key to the hours holding it, so a copy arriving in a
 * later cycle (or another hour) is compared with the one already counted.
 *
 * `cells()` returns the complete, recomputed cells of every hour touched since
 * the ledger was opened (cells of one model and labels share one labels
 * object: treat it as read-only); `commit()` stages the changed state.
 */
export class UsageLedger {
  private readonly hours = new Map<number, Hour>();
  private readonly touched = new Set<number>();
  private readonly shards = new Map<number, IndexShard>();
  private readonly touchedShards = new Set<number>();
  private metaChanged = false;

  private constructor(
    private readonly state: UsageAdapterV1State,
    private readonly namespace: string,
    private meta: StoredMeta,
  ) {}

  /**
   * Opens the ledger kept in `state` under `namespace`. With an on-demand
   * state, call load() with a cycle's events before adding them.
   */
  static async open(state: UsageAdapterV1State, namespace: string): Promise<UsageLedger> {
    const metaKey = `${namespace}/meta`;
    await state.load?.({ keys: [metaKey] });
    const stored = state.get(metaKey) as Partial<StoredMeta> | undefined;
    let hours = stored?.hours;
    if (stored !== undefined && !Array.isArray(hours)) {
      // Written before the meta listed its hours: list them once from the keys.
      const prefix = `${namespace}/hour/`;
      await state.load?.({ prefixes: [prefix] });
      hours = state.keys(prefix).map((key) => Number(key.slice(prefix.length))).filter(Number.isInteger).sort((a, b) => a - b);
    }
    const ledger = new UsageLedger(state, namespace, { sealedBeforeHour: stored?.sealedBeforeHour ?? null, hours: hours ?? [] });
    ledger.metaChanged = stored !== undefined && !Array.isArray(stored.hours);
    return ledger;
  }

  /**
   * Reads what adding these events needs from an on-demand state: the index
   * shards of their keys, then every hour holding a copy of one of them and
   * the hours they fall in. Keys are hashed (hashKey), as addHashed() takes them.
   */
  async load(events: Iterable<{ readonly key: string; readonly timestampMs: number }>): Promise<void> {
    if (!this.state.load) return;
    const shardKeys = new Set<string>();
    const wanted: Array<{ key: string; hour: number }> = [];
    const sealed = this.meta.sealedBeforeHour;
    for (const event of events) {
      const hour = Math.floor(event.timestampMs / HOUR_MS);
      if (sealed !== null && hour < sealed) continue;
      wanted.push({ key: event.key, hour });
      const shard = shardOf(event.key);
      if (!this.shards.has(shard)) shardKeys.add(this.shardKey(shard));
    }
    await this.state.load({ keys: [...shardKeys] });
    const hourKeys = new Set<string>();
    const want = (hour: number) => {
      if (!this.hours.has(hour)) hourKeys.add(this.hourKey(hour));
    };
    for (const { key, hour } of wanted) {
      want(hour);
      for (const other of this.shard(shardOf(key)).get(key) ?? []) want(other);
    }
    await this.state.load({ keys: [...hourKeys] });
  }

  add(event: UsageEvent): LedgerAddResult {
    return this.addHashed(event, hashKey(event.key), event.variant ? hashKey(event.variant) : '');
  }

  /**
   * add() for an event whose key and variant were hashed already (with
   * hashKey; no variant: ''), e.g. on a worker thread, which may have
   * formatted its counters for the state too (formatTokenVector).
   */
  addHashed(event: UsageEvent, key: string, variant: string, counters?: string): LedgerAddResult {
    const hourNumber = Math.floor(event.timestampMs / HOUR_MS);
    if (this.meta.sealedBeforeHour !== null && hourNumber < this.meta.sealedBeforeHour) return 'sealed';
    const loose = event.loose === true;
    const shardNumber = shardOf(key);
    const index = this.shard(shardNumber);
    const storedHours = index.get(key);
    let hoursOfKey = storedHours;
    let result: LedgerAddResult = 'added';
    if (hoursOfKey) {
      for (const otherHour of hoursOfKey) {
        const other = this.hour(otherHour);
        const copies = other.entries.get(key);
        if (copies === undefined) continue;
        const list = Array.isArray(copies) ? copies : [copies];
        const position = list.findIndex((entry) => entry.variant === variant || entry.loose || loose);
        if (position < 0) continue;
        const existing = list[position] as Entry;
        const better = existing.loose !== loose ? existing.loose : event.rank > existing.rank;
        if (!better) return 'duplicate';
        this.touched.add(otherHour);
        if (otherHour === hourNumber) {
          // The usual case (a response's later line with the full output count): replace in place, the index stays as it is.
          const replacement = this.entryOf(other, event, variant, loose, counters);
          if (replacement.cell !== existing.cell) other.lostCopies = true;
          if (Array.isArray(copies)) copies[position] = replacement;
          else other.entries.set(key, replacement);
          return 'replaced';
        }
        other.lostCopies = true;
        if (Array.isArray(copies) && copies.length > 1) copies.splice(position, 1);
        else {
          other.entries.delete(key);
          hoursOfKey = hoursOfKey.filter((value) => value !== otherHour);
        }
        result = 'replaced';
        break;
      }
    }
    const hour = this.hour(hourNumber);
    addCopy(hour, key, this.entryOf(hour, event, variant, loose, counters));
    if (!hoursOfKey) index.set(key, this.onlyHour(hourNumber));
    else if (!hoursOfKey.includes(hourNumber)) index.set(key, [...hoursOfKey, hourNumber]);
    else if (hoursOfKey !== storedHours) index.set(key, hoursOfKey);
    this.touchedShards.add(shardNumber);
    this.touched.add(hourNumber);
    return result;
  }

  // Most responses are held by one hour: its index entry is shared rather
  // than an array per response (a cold scan keeps a hundred thousand of them).
  private readonly onlyHours = new Map<number, readonly number[]>();

  private onlyHour(hourNumber: number): readonly number[] {
    let hours = this.onlyHours.get(hourNumber);
    if (hours === undefined) {
      hours = Object.freeze([hourNumber]);
      this.onlyHours.set(hourNumber, hours);
    }
    return hours;
  }

  private entryOf(hour: Hour, event: UsageEvent, variant: string, loose: boolean, counters: string | undefined): Entry {
    const cellKey = this.cellKeyOf(event);
    let cell = hour.cellIndex.get(cellKey);
    if (cell === undefined) {
      cell = hour.cells.length;
      hour.cells.push(cellKey);
      hour.emitted.push(false);
      hour.cellIndex.set(cellKey, cell);
    }
    return { variant, loose, rank: event.rank, cell, tokens: event.tokens, counters };
  }

  /** Hours changed since the ledger was opened, oldest first. */
  touchedHours(): Date[] {
    return [...this.touched].sort((a, b) => a - b).map((hour) => new Date(hour * HOUR_MS));
  }

  /**
   * Every cell of every touched hour, recomputed from all the copies the hour
   * counts. A cell that was returned before and has lost all its copies (a
   * better copy turned up elsewhere) comes back with zero counts, so the
   * replacing upsert clears it instead of leaving a stale row.
   */
  cells(): LedgerCell[] {
    const out: LedgerCell[] = [];
    for (const hourNumber of [...this.touched].sort((a, b) => a - b)) {
      const hour = this.hour(hourNumber);
      const sums: Array<TokenVector | undefined> = [];
      const count = (entry: Entry) => {
        let sum = sums[entry.cell];
        if (!sum) {
          sum = emptyTokenVector();
          sums[entry.cell] = sum;
        }
        addTokenVector(sum, entry.tokens);
      };
      for (const copies of hour.entries.values()) {
        if (Array.isArray(copies)) for (const entry of copies) count(entry);
        else count(copies);
      }
      const bucketStart = new Date(hourNumber * HOUR_MS);
      hour.cells.forEach((cellKey, cell) => {
        let tokens = sums[cell];
        if (!tokens) {
          if (!hour.emitted[cell]) return;
          tokens = [0, 0, 0, 0, null, null, 0];
        }
        hour.emitted[cell] = true;
        const [model, labels] = this.cellParts(cellKey);
        out.push({ bucketStart, model, labels, tokens });
      });
    }
    return out;
  }

  /**
   * Forgets hours that started before `beforeMs`: their rows stay in the
   * database as written, and copies that turn up for them later are ignored
   * ('sealed') instead of starting those hours again from nothing.
   */
  async prune(beforeMs: number): Promise<number> {
    const limit = Math.floor(beforeMs / HOUR_MS);
    const old = new Set<number>();
    for (const hourNumber of this.meta.hours) {
      if (hourNumber >= limit) break;
      old.add(hourNumber);
    }
    for (const hourNumber of this.hours.keys()) if (hourNumber < limit) old.add(hourNumber);
    if (old.size === 0) return 0;
    const ordered = [...old].sort((a, b) => a - b);
    await this.state.load?.({ keys: ordered.map((hourNumber) => this.hourKey(hourNumber)) });
    const shardKeys = new Set<string>();
    for (const hourNumber of ordered) {
      for (const responseKey of this.hour(hourNumber).entries.keys()) {
        const shard = shardOf(responseKey);
        if (!this.shards.has(shard)) shardKeys.add(this.shardKey(shard));
      }
    }
    await this.state.load?.({ keys: [...shardKeys] });
    for (const hourNumber of ordered) {
      const hour = this.hour(hourNumber);
      for (const responseKey of hour.entries.keys()) {
        const shard = shardOf(responseKey);
        const index = this.shard(shard);
        const remaining = (index.get(responseKey) ?? []).filter((value) => value !== hourNumber);
        if (remaining.length === 0) index.delete(responseKey);
        else index.set(responseKey, remaining);
        this.touchedShards.add(shard);
      }
      this.hours.delete(hourNumber);
      this.touched.delete(hourNumber);
      this.state.delete(this.hourKey(hourNumber));
    }
    this.meta = {
      sealedBeforeHour: Math.max(this.meta.sealedBeforeHour ?? 0, (ordered[ordered.length - 1] as number) + 1),
      hours: this.meta.hours.filter((hourNumber) => !old.has(hourNumber)),
    };
    this.metaChanged = true;
    return ordered.length;
  }

  /** Stages every changed hour and index shard in the state. */
  commit(): void {
    const listed = new Set(this.meta.hours);
    const added = [...this.touched].filter((hourNumber) => !listed.has(hourNumber));
    if (added.length > 0) {
      this.meta = { ...this.meta, hours: [...this.meta.hours, ...added].sort((a, b) => a - b) };
      this.metaChanged = true;
    }
    if (this.metaChanged) this.state.set(`${this.namespace}/meta`, this.meta);
    this.metaChanged = false;
    for (const hourNumber of this.touched) {
      const hour = this.hour(hourNumber);
      // Renumber cells: drop those with no copies that were never returned.
      // Only an hour that lost a copy can have such a cell (a cold scan's never do).
      let used: Uint8Array | undefined;
      if (hour.lostCopies) {
        used = new Uint8Array(hour.cells.length);
        for (const copies of hour.entries.values()) {
          if (Array.isArray(copies)) for (const entry of copies) used[entry.cell] = 1;
          else used[copies.cell] = 1;
        }
      }
      const renumber: number[] = [];
      const c: StoredHour['c'] = [];
      hour.cells.forEach((cellKey, cell) => {
        if (used !== undefined && used[cell] === 0 && !hour.emitted[cell]) return;
        renumber[cell] = c.length;
        c.push([cellKey, hour.emitted[cell] ? 1 : 0]);
      });
      const parts: string[] = [];
      for (const [key, copies] of hour.entries) {
        if (Array.isArray(copies)) for (const entry of copies) parts.push(storedEntry(key, entry, renumber));
        else parts.push(storedEntry(key, copies, renumber));
      }
      this.state.set(this.hourKey(hourNumber), { c, e: parts.join(';') } satisfies StoredHour);
    }
    for (const shard of this.touchedShards) {
      const index = this.shard(shard);
      if (!index.changed) continue;
      const text = index.serialize();
      const stateKey = this.shardKey(shard);
      if (text !== '') this.state.set(stateKey, text);
      else this.state.delete(stateKey);
    }
    this.touchedShards.clear();
  }

  // Parsers reuse one labels object per project and session: key cells by it
  // instead of serialising the labels of every event.
  private readonly cellKeys = new WeakMap<object, Map<string, string>>();
  // And back: a cell key's model and labels, so that cells() parses a key at
  // most once, and the cells of one key (a session's hours) share one labels
  // object, which later steps can take as a whole instead of label by label.
  private readonly cellKeyParts = new Map<string, readonly [model: string, labels: Readonly<Record<string, string>>]>();

  private cellParts(cellKey: string): readonly [model: string, labels: Readonly<Record<string, string>>] {
    let parts = this.cellKeyParts.get(cellKey);
    if (parts === undefined) {
      parts = JSON.parse(cellKey) as [string, Record<string, string>];
      this.cellKeyParts.set(cellKey, parts);
    }
    return parts;
  }

  private cellKeyOf(event: UsageEvent): string {
    let byModel = this.cellKeys.get(event.labels);
    if (!byModel) {
      byModel = new Map();
      this.cellKeys.set(event.labels, byModel);
    }
    let key = byModel.get(event.model);
    if (key === undefined) {
      key = JSON.stringify([event.model, event.labels]);
      byModel.set(event.model, key);
      if (!this.cellKeyParts.has(key)) this.cellKeyParts.set(key, [event.model, event.labels]);
    }
    return key;
  }

  private hourKey(hourNumber: number): string {
    return `${this.namespace}/hour/${hourNumber}`;
  }

  private shardKey(shard: number): string {
    return `${this.namespace}/ix/${shard.toString(16).padStart(3, '0')}`;
  }

  private hour(hourNumber: number): Hour {
    let hour = this.hours.get(hourNumber);
    if (hour) return hour;
    const stored = this.state.get(this.hourKey(hourNumber)) as StoredHour | undefined;
    hour = { cells: [], emitted: [], cellIndex: new Map(), entries: new Map(), lostCopies: false };
    if (stored) {
      stored.c.forEach(([cellKey, emitted], cell) => {
        hour?.cells.push(cellKey);
        hour?.emitted.push(emitted === 1);
        hour?.cellIndex.set(cellKey, cell);
      });
      if (typeof stored.e !== 'string') throw new Error(`state ${this.namespace}/hour/${hourNumber}: unknown format (expected the entries as a string)`);
      if (stored.e !== '') {
        for (const text of stored.e.split(';')) {
          const fields = text.split(',');
          if (fields.length !== 5 + TOKEN_VECTOR_LENGTH) throw new Error(`state ${this.namespace}/hour/${hourNumber}: malformed entry "${text}"`);
          const tokens = fields.slice(5).map((value) => (value === '' ? null : Number(value))) as TokenVector;
          const key = fields[0] as string;
          const rank = fields[3] === '' ? tokenTotal(tokens) : Number(fields[3]);
          let countersAt = -1;
          for (let comma = 0; comma < 5; comma += 1) countersAt = text.indexOf(',', countersAt + 1);
          addCopy(hour, key, { variant: fields[1] as string, loose: fields[2] === '1', rank, cell: Number(fields[4]), tokens, counters: text.slice(countersAt + 1) });
        }
      }
    }
    this.hours.set(hourNumber, hour);
    return hour;
  }

  private shard(shard: number): IndexShard {
    let index = this.shards.get(shard);
    if (index) return index;
    const key = this.shardKey(shard);
    const stored = this.state.get(key);
    // State of an earlier format would read as an empty index and let old responses count twice: refuse it.
    if (stored !== undefined && typeof stored !== 'string') throw new Error(`state ${key}: unknown format (expected the index shard as a string)`);
    index = new IndexShard(stored);
    this.shards.set(shard, index);
    return index;
  }
}

/** A copy as the state stores it (`key,variant,loose,rank,cell,counters`), its cell renumbered. */
function storedEntry(key: string, entry: Entry, renumber: readonly number[]): string {
  const t = entry.tokens;
  return `${key},${entry.variant},${entry.loose ? 1 : 0},${entry.rank === tokenTotal(t) ? '' : entry.rank},${renumber[entry.cell] as number},${entry.counters ?? formatTokenVector(t)}`;
}

function addCopy(hour: Hour, key: string, entry: Entry): void {
  const copies = hour.entries.get(key);
  if (copies === undefined) hour.entries.set(key, entry);
  else if (Array.isArray(copies)) copies.push(entry);
  else hour.entries.set(key, [copies, entry]);
}

/** FNV-1a over the key, folded to a shard number. */
function shardOf(key: string): number {
  let hash = 0x811c9dc5;
  for (let index = 0; index < key.length; index += 1) {
    hash ^= key.charCodeAt(index);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0) % INDEX_SHARDS;
}
