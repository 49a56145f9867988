import type { UsageAdapterV1State } from '@utt/core';
import { AsciiWriter } from './ascii-writer';
import { CopyTable } from './copy-table';
import {
  EVENT_FLAGS,
  EVENT_HAS_VARIANT,
  EVENT_KEY,
  EVENT_LABELS,
  EVENT_LOOSE,
  EVENT_MODEL,
  EVENT_RANK,
  EVENT_TIMESTAMP,
  EVENT_TOKENS,
  EVENT_VARIANT,
  type EncodedEvents,
  SLOTS,
} from './encoded-events';
import { hashKeyInto, parseKeyText } from './hash-key';
import { findIndexEntry, serializeIndexShard, storedIndexHours } from './index-shard';
import { KeyTable } from './key-table';
import { emptyTokenVector, TOKEN_VECTOR_LENGTH, type TokenVector, tokenTotal } from './token-vector';
import type { UsageEvent } from './usage-event';

const HOUR_MS = 3_600_000;
// Enough shards that an incremental cycle copies only small ones (a few dozen keys each on a busy machine).
const INDEX_SHARDS = 4096;
// Index changes above which the shards are written as bytes (a large read; a cold scan has a hundred thousand).
const BYTES_ABOVE_CHANGES = 4096;

/** One hourly cell after de-duplication: what becomes a token_usage row. */
export type LedgerCell = {
  readonly bucketStart: Date;
  readonly model: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly tokens: TokenVector;
};

export type LedgerAddResult = 'added' | 'replaced' | 'duplicate' | 'sealed';

// The copies an hour counts of one response (rows of the ledger's CopyTable),
// by the response's key number (its KeyTable row):
// nearly always one (kept bare, not in an array: a cold scan keeps a hundred
// thousand), several when copies differ in variant.
type Copies = number | number[];
// `lostCopies`: a copy left the hour (replaced or moved) since it was opened,
// so a cell may have none left; until then every cell has a copy or was returned.
// `lastCellKey`/`lastCell`: the cell found last (a file's responses mostly share one).
type Hour = {
  cells: string[];
  emitted: boolean[];
  cellIndex: Map<string, number>;
  entries: Map<number, Copies>;
  lostCopies: boolean;
  lastCellKey: string | undefined;
  lastCell: number;
  /** Read from the state with copies: written back as strings (its copies' counters are strings already). */
  stored: boolean;
};

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
 *
 * In memory a response key is a number (KeyTable: its 64-bit hash, looked up
 * in an open-addressed table) and a copy a row of typed arrays (CopyTable):
 * a cold scan meets a hundred thousand of each, and as strings in maps and
 * objects they kept the collector busy. The state is written as before.
 */
export class UsageLedger {
  private readonly hours = new Map<number, Hour>();
  private readonly keys = new KeyTable(INDEX_SHARDS);
  private readonly copies = new CopyTable();
  private readonly touched = new Set<number>();
  // The index's changes since the ledger was opened, by key number: the hours
  // holding the key, null for none, undefined for no change (the stored shard says).
  private readonly indexHours: Array<readonly number[] | null | undefined> = [];
  // Key numbers in the order first changed (a shard's entries are written in that order).
  private readonly indexChanged: number[] = [];
  // Each index shard's stored text once read ('' for none), by shard number.
  private readonly shardTexts: Array<string | undefined> = new Array<string | undefined>(INDEX_SHARDS).fill(undefined);
  // Shards whose stored text holds a changed key: rebuilt, not appended to, when written.
  private readonly rewriteShards = new Set<number>();
  // The hour added to last, found and touched already (a file's responses come in time order).
  private lastHourNumber = Number.NaN;
  private lastHour: Hour | undefined;
  private readonly hash = new Uint32Array(2);
  private readonly variant = { first: 0, second: 0 };
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
    const wanted: Array<{ id: number; hour: number }> = [];
    const sealed = this.meta.sealedBeforeHour;
    for (const event of events) {
      const hour = Math.floor(event.timestampMs / HOUR_MS);
      if (sealed !== null && hour < sealed) continue;
      const id = this.keyIdOfText(event.key);
      wanted.push({ id, hour });
      const shard = this.keys.shard(id);
      if (this.shardTexts[shard] === undefined) shardKeys.add(this.shardKey(shard));
    }
    await this.state.load({ keys: [...shardKeys] });
    const hourKeys = new Set<string>();
    const want = (hour: number) => {
      if (!this.hours.has(hour)) hourKeys.add(this.hourKey(hour));
    };
    for (const { id, hour } of wanted) {
      want(hour);
      for (const other of this.indexGet(id) ?? []) want(other);
    }
    await this.state.load({ keys: [...hourKeys] });
  }

  add(event: UsageEvent): LedgerAddResult {
    const hash = this.hash;
    hashKeyInto(event.key, hash);
    const id = this.keyId(hash[0] as number, hash[1] as number);
    let variant: { first: number; second: number } | undefined;
    if (event.variant) {
      hashKeyInto(event.variant, hash);
      variant = this.variant;
      variant.first = hash[0] as number;
      variant.second = hash[1] as number;
    }
    return this.addCandidate(event, id, variant, undefined);
  }

  /**
   * add() for an event whose key and variant were hashed already (with
   * hashKey; no variant: ''), as load() takes them; `counters`, when known,
   * is formatTokenVector(event.tokens).
   */
  addHashed(event: UsageEvent, key: string, variant: string, counters?: string): LedgerAddResult {
    const id = this.keyIdOfText(key);
    let parts: { first: number; second: number } | undefined;
    if (variant !== '') {
      if (!parseKeyText(variant, this.hash)) throw new Error(`not a hashed variant: "${variant}"`);
      parts = this.variant;
      parts.first = this.hash[0] as number;
      parts.second = this.hash[1] as number;
    }
    return this.addCandidate(event, id, parts, counters);
  }

  /**
   * Adds the events a worker thread encoded (encoded-events.ts), in order;
   * `counted` is told each one's result. No object is made per event.
   */
  addEncoded(encoded: EncodedEvents, counted: (result: LedgerAddResult) => void): void {
    const { numbers, models, labels, labelBase } = encoded;
    // The cell key of each (labels, model) pair of the file, found once.
    const cellKeys = new Map<number, string>();
    const variant = this.variant;
    const sealed = this.meta.sealedBeforeHour;
    for (let at = 0; at < numbers.length; at += SLOTS) {
      const hourNumber = Math.floor((numbers[at + EVENT_TIMESTAMP] as number) / HOUR_MS);
      if (sealed !== null && hourNumber < sealed) {
        counted('sealed');
        continue;
      }
      const flags = numbers[at + EVENT_FLAGS] as number;
      const hasVariant = (flags & EVENT_HAS_VARIANT) !== 0;
      if (hasVariant) {
        variant.first = numbers[at + EVENT_VARIANT] as number;
        variant.second = numbers[at + EVENT_VARIANT + 1] as number;
      }
      const loose = (flags & EVENT_LOOSE) !== 0;
      const candidate = this.copies.add(loose, hasVariant ? variant : undefined, numbers[at + EVENT_RANK] as number, numbers, at + EVENT_TOKENS, undefined);
      const id = this.keyId(numbers[at + EVENT_KEY] as number, numbers[at + EVENT_KEY + 1] as number);
      const model = numbers[at + EVENT_MODEL] as number;
      const label = numbers[at + EVENT_LABELS] as number;
      const pair = label * models.length + model;
      let cellKey = cellKeys.get(pair);
      if (cellKey === undefined) {
        const labelsObject = labels[label - labelBase];
        if (labelsObject === undefined) throw new Error(`encoded events: no labels numbered ${label} (take each file through a LabelTable first)`);
        cellKey = this.cellKeyOf(models[model] as string, labelsObject);
        cellKeys.set(pair, cellKey);
      }
      const result = this.place(hourNumber, id, candidate, loose, cellKey);
      if (result === 'duplicate') this.copies.drop(candidate);
      counted(result);
    }
  }

  private addCandidate(event: UsageEvent, id: number, variant: { first: number; second: number } | undefined, counters: string | undefined): LedgerAddResult {
    const hourNumber = Math.floor(event.timestampMs / HOUR_MS);
    if (this.meta.sealedBeforeHour !== null && hourNumber < this.meta.sealedBeforeHour) return 'sealed';
    const loose = event.loose === true;
    const candidate = this.copies.add(loose, variant, event.rank, event.tokens, 0, counters);
    const result = this.place(hourNumber, id, candidate, loose, this.cellKeyOf(event.model, event.labels));
    if (result === 'duplicate') this.copies.drop(candidate);
    return result;
  }

  /**
   * The de-duplication: `candidate` (the copy just added to the table, of
   * key `id`) against the copies of its key the index knows. 'duplicate':
   * the caller drops the candidate, nothing else changed.
   */
  private place(hourNumber: number, id: number, candidate: number, loose: boolean, cellKey: string): LedgerAddResult {
    const table = this.copies;
    const changed = this.indexHours[id];
    // What the index says now (undefined: no hour).
    const indexed = changed === undefined ? this.storedHours(id) : (changed ?? undefined);
    let hoursOfKey = indexed;
    let result: LedgerAddResult = 'added';
    if (hoursOfKey) {
      for (const otherHour of hoursOfKey) {
        const other = this.hour(otherHour);
        const copies = other.entries.get(id);
        if (copies === undefined) continue;
        let position = -1;
        let existing = -1;
        if (Array.isArray(copies)) {
          position = copies.findIndex((copy) => table.sameVariant(copy, candidate) || table.loose(copy) || loose);
          if (position >= 0) existing = copies[position] as number;
        } else if (table.sameVariant(copies, candidate) || table.loose(copies) || loose) {
          position = 0;
          existing = copies;
        }
        if (position < 0) continue;
        const existingLoose = table.loose(existing);
        const better = existingLoose !== loose ? existingLoose : table.rank(candidate) > table.rank(existing);
        if (!better) return 'duplicate';
        this.touched.add(otherHour);
        if (otherHour === hourNumber) {
          // The usual case (a response's later line with the full output count): replace in place, the index stays as it is.
          table.setCell(candidate, this.cellOf(other, cellKey));
          if (table.cell(candidate) !== table.cell(existing)) other.lostCopies = true;
          if (Array.isArray(copies)) copies[position] = candidate;
          else other.entries.set(id, candidate);
          return 'replaced';
        }
        other.lostCopies = true;
        if (Array.isArray(copies) && copies.length > 1) copies.splice(position, 1);
        else {
          other.entries.delete(id);
          hoursOfKey = hoursOfKey.filter((value) => value !== otherHour);
        }
        result = 'replaced';
        break;
      }
    }
    let hour = this.lastHour;
    if (hourNumber !== this.lastHourNumber || hour === undefined) {
      hour = this.hour(hourNumber);
      this.touched.add(hourNumber);
      this.lastHourNumber = hourNumber;
      this.lastHour = hour;
    }
    table.setCell(candidate, this.cellOf(hour, cellKey));
    addCopy(hour, id, candidate);
    if (!hoursOfKey) this.indexSet(id, this.onlyHour(hourNumber), changed === undefined);
    else if (!hoursOfKey.includes(hourNumber)) this.indexSet(id, [...hoursOfKey, hourNumber], changed === undefined);
    else if (hoursOfKey !== indexed) this.indexSet(id, hoursOfKey, changed === undefined);
    return result;
  }

  /** A key's number, from its halves. */
  private keyId(first: number, second: number): number {
    const id = this.keys.idOf(first, second);
    // Keeps indexHours packed: numbers are given in order.
    if (id === this.indexHours.length) this.indexHours.push(undefined);
    return id;
  }

  /** A key's number, from its text (hashKey's). */
  private keyIdOfText(key: string): number {
    if (!parseKeyText(key, this.hash)) throw new Error(`not a hashed key: "${key}"`);
    return this.keyId(this.hash[0] as number, this.hash[1] as number);
  }

  /** The hours holding the key now, or undefined. */
  private indexGet(id: number): readonly number[] | undefined {
    const changed = this.indexHours[id];
    return changed === undefined ? this.storedHours(id) : (changed ?? undefined);
  }

  /** The hours the stored index gives the key (undefined: none). */
  private storedHours(id: number): readonly number[] | undefined {
    const shard = this.keys.shard(id);
    const text = this.shardTexts[shard] ?? this.readShard(shard);
    return text === '' ? undefined : storedIndexHours(text, this.keys.text(id));
  }

  /** `first`: the key had no change yet (its stored entry, if any, is replaced rather than appended to). */
  private indexSet(id: number, hours: readonly number[] | null, first: boolean): void {
    if (first) {
      this.indexChanged.push(id);
      const shard = this.keys.shard(id);
      const text = this.shardTexts[shard] ?? this.readShard(shard);
      if (text !== '' && findIndexEntry(text, this.keys.text(id)) >= 0) this.rewriteShards.add(shard);
    }
    this.indexHours[id] = hours;
  }

  // Most responses are held by one hour: its index entry is shared rather
  // than an array per response (a cold scan keeps a hundred thousand of them).
  private readonly onlyHours = new Map<number, readonly number[]>();
  private lastOnlyHour: readonly number[] = [];

  private onlyHour(hourNumber: number): readonly number[] {
    if (this.lastOnlyHour[0] === hourNumber) return this.lastOnlyHour;
    let hours = this.onlyHours.get(hourNumber);
    if (hours === undefined) {
      hours = Object.freeze([hourNumber]);
      this.onlyHours.set(hourNumber, hours);
    }
    this.lastOnlyHour = hours;
    return hours;
  }

  /** The hour's cell of this key (cellKeyOf()), made if new. */
  private cellOf(hour: Hour, cellKey: string): number {
    if (cellKey === hour.lastCellKey) return hour.lastCell;
    let cell = hour.cellIndex.get(cellKey);
    if (cell === undefined) {
      cell = hour.cells.length;
      hour.cells.push(cellKey);
      hour.emitted.push(false);
      hour.cellIndex.set(cellKey, cell);
    }
    hour.lastCellKey = cellKey;
    hour.lastCell = cell;
    return cell;
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
    const table = this.copies;
    for (const hourNumber of [...this.touched].sort((a, b) => a - b)) {
      const hour = this.hour(hourNumber);
      const sums: Array<TokenVector | undefined> = [];
      const count = (copy: number) => {
        const cell = table.cell(copy);
        let sum = sums[cell];
        if (!sum) {
          sum = emptyTokenVector();
          sums[cell] = sum;
        }
        table.addTokensTo(sum, copy);
      };
      for (const copies of hour.entries.values()) {
        if (Array.isArray(copies)) for (const copy of copies) count(copy);
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
      for (const id of this.hour(hourNumber).entries.keys()) {
        const shard = this.keys.shard(id);
        if (this.shardTexts[shard] === undefined) shardKeys.add(this.shardKey(shard));
      }
    }
    await this.state.load?.({ keys: [...shardKeys] });
    this.lastHourNumber = Number.NaN;
    this.lastHour = undefined;
    for (const hourNumber of ordered) {
      const hour = this.hour(hourNumber);
      for (const id of hour.entries.keys()) {
        const changed = this.indexHours[id];
        const indexed = changed === undefined ? this.storedHours(id) : (changed ?? undefined);
        const remaining = (indexed ?? []).filter((value) => value !== hourNumber);
        this.indexSet(id, remaining.length === 0 ? null : remaining, changed === undefined);
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
    const table = this.copies;
    // Hours staged as the JSON text they are stored as, where the state takes text.
    const setJson = this.state.setJson?.bind(this.state);
    for (const hourNumber of this.touched) {
      const hour = this.hour(hourNumber);
      // Renumber cells: drop those with no copies that were never returned.
      // Only an hour that lost a copy can have such a cell (a cold scan's never do).
      let used: Uint8Array | undefined;
      if (hour.lostCopies) {
        used = new Uint8Array(hour.cells.length);
        for (const copies of hour.entries.values()) {
          if (Array.isArray(copies)) for (const copy of copies) used[table.cell(copy)] = 1;
          else used[table.cell(copies)] = 1;
        }
      }
      // A new hour (all of a cold scan's) as JSON text; one read back from the state (an
      // incremental cycle's, its copies' text kept) as a value, which costs less there.
      if (setJson !== undefined && !hour.stored) {
        // Made now, not while the database inserts the rows: deferred, the whole ledger
        // stays alive through validation and pricing, whose collections then cost more
        // than the overlap saved on a two-core machine (bench/agent-logs/README.md, issue-12l).
        setJson(this.hourKey(hourNumber), this.hourJson(hour, used));
        continue;
      }
      const renumber: number[] = [];
      const c: StoredHour['c'] = [];
      hour.cells.forEach((cellKey, cell) => {
        if (used !== undefined && used[cell] === 0 && !hour.emitted[cell]) return;
        renumber[cell] = c.length;
        c.push([cellKey, hour.emitted[cell] ? 1 : 0]);
      });
      this.state.set(this.hourKey(hourNumber), { c, e: this.storedCopies(hour, renumber) } satisfies StoredHour);
    }
    this.commitIndex();
  }

  // Each cell key as the start of its stored pair, `["<the key as a JSON string>",`, in UTF-8:
  // hours of one session repeat them (encoded once, copied as bytes).
  private readonly cellPairStarts = new Map<string, Uint8Array>();

  /**
   * The hour as the JSON text of its StoredHour, byte for byte what
   * JSON.stringify({ c, e }) gives, as UTF-8 bytes: staged so (setJson), the
   * store sends them as they are. A cold scan's hours are 5.6 MB of the dense
   * corpus's 7.5 MB of state, which were built as text here, then serialised
   * and encoded once more by the store. `used`: the cells that keep copies,
   * as commit() found them.
   */
  private hourJson(hour: Hour, used: Uint8Array | undefined): Uint8Array {
    const writer = (this.writer ??= new AsciiWriter());
    writer.reset();
    writer.ascii('{"c":[');
    const renumber: number[] = [];
    let kept = 0;
    hour.cells.forEach((cellKey, cell) => {
      if (used !== undefined && used[cell] === 0 && !hour.emitted[cell]) return;
      renumber[cell] = kept;
      if (kept > 0) writer.byte(44);
      kept += 1;
      let pairStart = this.cellPairStarts.get(cellKey);
      if (pairStart === undefined) {
        pairStart = Buffer.from(`[${JSON.stringify(cellKey)},`);
        this.cellPairStarts.set(cellKey, pairStart);
      }
      writer.raw(pairStart);
      writer.byte(hour.emitted[cell] ? 49 : 48);
      writer.byte(93);
    });
    writer.ascii('],"e":');
    const copiesAt = writer.position;
    if (hour.stored || !this.writeCopies(writer, hour, renumber)) {
      // Copies read back from the state keep their text, which may need escaping
      // (commit() stages such hours as values: this is the safe way all the same).
      writer.truncate(copiesAt);
      writer.utf8(JSON.stringify(this.storedCopiesAsText(hour, renumber)));
    }
    writer.byte(125);
    return writer.takeBytes();
  }

  /** A new hour's copies as a JSON string (they need no escaping) after what `writer` holds; false if a copy keeps stored text. */
  private writeCopies(writer: AsciiWriter, hour: Hour, renumber: readonly number[]): boolean {
    writer.byte(34);
    let first = true;
    for (const [id, copies] of hour.entries) {
      if (Array.isArray(copies)) {
        for (const copy of copies) {
          if (!first) writer.byte(59);
          first = false;
          writer.key(this.keys.first(id), this.keys.second(id));
          if (!this.copies.write(writer, copy, renumber[this.copies.cell(copy)] as number)) return false;
        }
      } else {
        if (!first) writer.byte(59);
        first = false;
        writer.key(this.keys.first(id), this.keys.second(id));
        if (!this.copies.write(writer, copies, renumber[this.copies.cell(copies)] as number)) return false;
      }
    }
    writer.byte(34);
    return true;
  }

  private writer: AsciiWriter | undefined;

  /**
   * The hour's copies as the state stores them (StoredHour's `e`). An hour new
   * in this cycle (all of a cold scan's) is written as bytes, no string per
   * copy; one read back from the state (an incremental cycle's: its copies'
   * counters are strings already) as strings joined, which costs less there.
   */
  private storedCopies(hour: Hour, renumber: readonly number[]): string {
    if (hour.stored) return this.storedCopiesAsText(hour, renumber);
    const writer = (this.writer ??= new AsciiWriter());
    writer.reset();
    let first = true;
    const write = (id: number, copy: number) => {
      if (!first) writer.byte(59);
      first = false;
      writer.key(this.keys.first(id), this.keys.second(id));
      return this.copies.write(writer, copy, renumber[this.copies.cell(copy)] as number);
    };
    for (const [id, copies] of hour.entries) {
      if (Array.isArray(copies)) {
        for (const copy of copies) if (!write(id, copy)) return this.storedCopiesAsText(hour, renumber);
      } else if (!write(id, copies)) return this.storedCopiesAsText(hour, renumber);
    }
    return writer.text();
  }

  /** storedCopies() as strings joined: for an hour read back from the state (whose copies keep their text). */
  private storedCopiesAsText(hour: Hour, renumber: readonly number[]): string {
    const parts: string[] = [];
    for (const [id, copies] of hour.entries) {
      if (Array.isArray(copies)) for (const copy of copies) parts.push(this.storedCopy(id, copy, renumber));
      else parts.push(this.storedCopy(id, copies, renumber));
    }
    return parts.join(';');
  }

  /** Stages every index shard with a change: its changes in the order first made, after its stored entries (or merged into them). */
  private commitIndex(): void {
    const changed = this.indexChanged;
    // A cycle that found nothing new: no shard to stage, and no need to walk all 4,096 of them.
    if (changed.length === 0) return;
    // The changed keys by shard, keeping their order (a counting sort).
    const starts = new Int32Array(INDEX_SHARDS + 1);
    for (const id of changed) {
      const after = this.keys.shard(id) + 1;
      starts[after] = (starts[after] as number) + 1;
    }
    for (let shard = 0; shard < INDEX_SHARDS; shard += 1) starts[shard + 1] = (starts[shard + 1] as number) + (starts[shard] as number);
    const next = starts.slice(0, INDEX_SHARDS);
    const order = new Int32Array(changed.length);
    for (const id of changed) {
      const shard = this.keys.shard(id);
      const at = next[shard] as number;
      order[at] = id;
      next[shard] = at + 1;
    }
    const writer = (this.writer ??= new AsciiWriter());
    const setJson = this.state.setJson?.bind(this.state);
    for (let shard = 0; shard < INDEX_SHARDS; shard += 1) {
      const start = starts[shard] as number;
      const end = starts[shard + 1] as number;
      if (start === end) continue;
      const stored = this.shardTexts[shard] ?? this.readShard(shard);
      let text: string;
      if (this.rewriteShards.has(shard)) {
        const changes: Array<readonly [string, readonly number[] | null]> = [];
        for (let at = start; at < end; at += 1) changes.push([this.keys.text(order[at] as number), this.indexHours[order[at] as number] ?? null]);
        text = serializeIndexShard(stored, changes, (key) => parseKeyText(key, this.hash) && this.indexHours[this.keys.find(this.hash[0] as number, this.hash[1] as number)] !== undefined, true);
      } else if (changed.length < BYTES_ABOVE_CHANGES) {
        // An ordinary cycle's few changes, one shard each: strings cost less than a Buffer round trip per shard.
        const parts: string[] = stored === '' ? [] : [stored];
        for (let at = start; at < end; at += 1) {
          const id = order[at] as number;
          const hours = this.indexHours[id];
          if (hours === null || hours === undefined || hours.length === 0) continue;
          parts.push(hours.length === 1 ? `${this.keys.text(id)}:${hours[0] as number}` : `${this.keys.text(id)}:${hours.join('.')}`);
        }
        // join() makes one flat string; appending with += would keep a rope of pieces in the state.
        text = parts.join(';');
      } else {
        // The usual case, responses seen for the first time: their entries go after the stored ones.
        // A new shard (all of a cold scan's) is staged as its JSON text, where the state takes text.
        const asJson = setJson !== undefined && stored === '';
        writer.reset();
        if (asJson) writer.byte(34);
        let empty = true;
        for (let at = start; at < end; at += 1) {
          const id = order[at] as number;
          const hours = this.indexHours[id];
          if (hours === null || hours === undefined || hours.length === 0) continue;
          if (!empty) writer.byte(59);
          empty = false;
          writer.key(this.keys.first(id), this.keys.second(id));
          writer.byte(58);
          for (let index = 0; index < hours.length; index += 1) {
            if (index > 0) writer.byte(46);
            writer.number(hours[index] as number);
          }
        }
        if (asJson && !empty) {
          writer.byte(34);
          setJson(this.shardKey(shard), writer.takeBytes());
          continue;
        }
        // join() makes one flat string; appending with += would keep a rope of pieces in the state.
        text = empty ? stored : stored === '' ? writer.text() : [stored, writer.text()].join(';');
      }
      const stateKey = this.shardKey(shard);
      if (text !== '') this.state.set(stateKey, text);
      else this.state.delete(stateKey);
    }
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

  private lastLabels: object | undefined;
  private lastModel = '';
  private lastCellKey = '';

  private cellKeyOf(model: string, labels: Readonly<Record<string, string>>): string {
    if (labels === this.lastLabels && model === this.lastModel) return this.lastCellKey;
    let byModel = this.cellKeys.get(labels);
    if (!byModel) {
      byModel = new Map();
      this.cellKeys.set(labels, byModel);
    }
    let key = byModel.get(model);
    if (key === undefined) {
      key = JSON.stringify([model, labels]);
      byModel.set(model, key);
      if (!this.cellKeyParts.has(key)) this.cellKeyParts.set(key, [model, labels]);
    }
    this.lastLabels = labels;
    this.lastModel = model;
    this.lastCellKey = key;
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
    hour = { cells: [], emitted: [], cellIndex: new Map(), entries: new Map(), lostCopies: false, lastCellKey: undefined, lastCell: -1, stored: false };
    if (stored) {
      stored.c.forEach(([cellKey, emitted], cell) => {
        hour?.cells.push(cellKey);
        hour?.emitted.push(emitted === 1);
        hour?.cellIndex.set(cellKey, cell);
      });
      if (typeof stored.e !== 'string') throw new Error(`state ${this.namespace}/hour/${hourNumber}: unknown format (expected the entries as a string)`);
      if (stored.e !== '') {
        hour.stored = true;
        const tokens = emptyTokenVector();
        const hash = this.hash;
        const variant = this.variant;
        for (const text of stored.e.split(';')) {
          const fields = text.split(',');
          if (fields.length !== 5 + TOKEN_VECTOR_LENGTH || !parseKeyText(fields[0] as string, hash)) throw this.malformedEntry(hourNumber, text);
          const id = this.keyId(hash[0] as number, hash[1] as number);
          const variantText = fields[1] as string;
          if (variantText !== '') {
            if (!parseKeyText(variantText, hash)) throw this.malformedEntry(hourNumber, text);
            variant.first = hash[0] as number;
            variant.second = hash[1] as number;
          }
          // Read into one array: the table copies the counters into its own columns.
          for (let index = 0; index < TOKEN_VECTOR_LENGTH; index += 1) {
            const value = fields[5 + index] as string;
            tokens[index] = value === '' ? null : Number(value);
          }
          const rank = fields[3] === '' ? tokenTotal(tokens) : Number(fields[3]);
          let cellAt = -1;
          for (let comma = 0; comma < 4; comma += 1) cellAt = text.indexOf(',', cellAt + 1);
          const countersAt = text.indexOf(',', cellAt + 1);
          const loose = fields[2] as string;
          const copy = this.copies.add(loose === '1', variantText === '' ? undefined : variant, rank, tokens, 0, text.slice(countersAt + 1));
          this.copies.setCell(copy, Number(fields[4]));
          // The text up to the cell is written back as read when writing it again would give the same (key and variant were checked above).
          const rankText = fields[3] as string;
          const total = this.copies.total(copy);
          if ((loose === '0' || loose === '1') && (rankText === '' ? rank === total : rank !== total && rankText === `${rank}`)) this.copies.setStoredHead(copy, text.slice(0, cellAt + 1));
          addCopy(hour, id, copy);
        }
      }
    }
    this.hours.set(hourNumber, hour);
    return hour;
  }

  private malformedEntry(hourNumber: number, text: string): Error {
    return new Error(`state ${this.namespace}/hour/${hourNumber}: malformed entry "${text}"`);
  }

  /** A copy as the state stores it (`key,variant,loose,rank,cell,counters`), its cell renumbered. */
  private storedCopy(id: number, copy: number, renumber: readonly number[]): string {
    const table = this.copies;
    const head = table.storedHead(copy);
    if (head !== undefined) return `${head}${renumber[table.cell(copy)] as number},${table.counters(copy)}`;
    const rank = table.rank(copy);
    return `${this.keys.text(id)},${table.variantText(copy)},${table.loose(copy) ? 1 : 0},${rank === table.total(copy) ? '' : rank},${renumber[table.cell(copy)] as number},${table.counters(copy)}`;
  }

  /** Reads an index shard's stored text ('' for none) into shardTexts. */
  private readShard(shard: number): string {
    const key = this.shardKey(shard);
    const stored = this.state.get(key);
    // State of an earlier format would read as an empty index and let old responses count twice: refuse it.
    if (stored !== undefined && typeof stored !== 'string') throw new Error(`state ${key}: unknown format (expected the index shard as a string)`);
    const text = stored ?? '';
    this.shardTexts[shard] = text;
    return text;
  }
}

function addCopy(hour: Hour, id: number, copy: number): void {
  const copies = hour.entries.get(id);
  if (copies === undefined) hour.entries.set(id, copy);
  else if (Array.isArray(copies)) copies.push(copy);
  else hour.entries.set(id, [copies, copy]);
}
