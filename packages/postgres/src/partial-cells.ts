import type { MeasurementBasis, UsageAdapterV1PlanUsage, UsageAdapterV1PricePlan } from '@utt/core';
import { copyNumber, copyText } from './copy-text';
import type { UsageEvent } from './import-usage-events';
import { StoreArgumentError } from './store-argument-error';

const TRUST: Readonly<Record<MeasurementBasis, number>> = { derived_estimate: 0, provider_aggregate: 1, exact: 2 };

/** Beyond it a sum is refused as "too large" anyway; the clamp keeps a JavaScript sum that lost precision out of the text. */
const SAFE_INTEGER = Number.MAX_SAFE_INTEGER;
const TOO_LARGE = '9007199254740992';

function isDigit(text: string, index: number): boolean {
  const code = text.charCodeAt(index);
  return code >= 48 && code <= 57;
}

const POWERS_OF_TEN: bigint[] = [1n];
function powerOfTen(exponent: number): bigint {
  for (let next = POWERS_OF_TEN.length; next <= exponent; next++) POWERS_OF_TEN.push((POWERS_OF_TEN[next - 1] as bigint) * 10n);
  return POWERS_OF_TEN[exponent] as bigint;
}

/**
 * An exact sum of non-negative decimal strings (costs), as an integer of
 * 10^-scale units; the scale grows with the longest fraction seen, so no digit
 * is ever dropped whatever the number of decimals.
 */
class DecimalSum {
  units = 0n;
  scale = 0;

  add(text: string, line: number, field: string): void {
    const point = text.indexOf('.');
    let digits = text;
    let fraction = 0;
    if (point !== -1) {
      // Most costs are below a dollar ("0.0153"): one slice instead of two and a concatenation.
      digits = point === 1 && text.charCodeAt(0) === 48 ? text.slice(2) : text.slice(0, point) + text.slice(point + 1);
      fraction = text.length - point - 1;
    }
    let value: bigint;
    try {
      // BigInt('') is 0n and BigInt accepts signs, surrounding spaces and 0x/0o/0b: a cost reaching here is already a
      // plain decimal, so checking the first, second and last characters guards the contract without a pattern per row.
      if (!isDigit(digits, 0) || !isDigit(digits, digits.length - 1) || (digits.length > 1 && !isDigit(digits, 1))) throw new SyntaxError();
      value = BigInt(digits);
    } catch {
      throw new StoreArgumentError({ argument: 'events', message: `line ${line}: ${field} ${JSON.stringify(text.slice(0, 40))} is not a non-negative decimal number` });
    }
    if (fraction > this.scale) {
      this.units *= powerOfTen(fraction - this.scale);
      this.scale = fraction;
    } else if (fraction < this.scale) {
      value *= powerOfTen(this.scale - fraction);
    }
    this.units += value;
  }

  /** Adds an integer of 10^-scale units. */
  addUnits(units: bigint, scale: number): void {
    if (scale > this.scale) {
      this.units *= powerOfTen(scale - this.scale);
      this.scale = scale;
    }
    this.units += scale < this.scale ? units * powerOfTen(this.scale - scale) : units;
  }

  toString(): string {
    if (this.scale === 0) return this.units.toString();
    const digits = this.units.toString().padStart(this.scale + 1, '0');
    return `${digits.slice(0, digits.length - this.scale)}.${digits.slice(digits.length - this.scale)}`;
  }
}

/**
 * The buckets of the events of one cell quoted one price plan, summed (NULL as
 * 0): the plan prices the sum once, to exactly the sum of the events' costs.
 * Sums stay exact below 2^53; a plan's sum beyond it means one of the cell's
 * counters is beyond it too, and the cell is refused as too large.
 */
class PlanUsage implements UsageAdapterV1PlanUsage {
  input_tokens = 0;
  output_tokens = 0;
  cached_read_tokens = 0;
  cached_write_5m_tokens = 0;
  cached_write_1h_tokens = 0;
  requests = 0;
  readonly web_searches = 0;

  add(event: UsageEvent): void {
    const { input_tokens: input, output_tokens: output, cached_read_tokens: cacheRead, cached_write_tokens: cacheWrite, cached_write_1h_tokens: hourWrites, requests } = event;
    if (input !== null) this.input_tokens += input;
    if (output !== null) this.output_tokens += output;
    if (cacheRead !== null) this.cached_read_tokens += cacheRead;
    // The same split as the pricer's: the 5-minute writes are the writes that are not 1-hour writes.
    if (cacheWrite !== null) this.cached_write_5m_tokens += cacheWrite - (hourWrites ?? 0);
    if (hourWrites !== null) this.cached_write_1h_tokens += hourWrites;
    if (requests !== null) this.requests += requests;
  }
}

/**
 * The events of one cell seen since the last spill, summed: a counter stays
 * null while no event knew it, so a NULL-only cell stays NULL after the
 * database sums the partial sums (SQL's sum skips NULLs).
 */
class PartialCell {
  firstLine: number;
  events = 0;
  input_tokens: number | null = null;
  output_tokens: number | null = null;
  cached_read_tokens: number | null = null;
  cached_write_tokens: number | null = null;
  cached_write_1h_tokens: number | null = null;
  reasoning_tokens: number | null = null;
  requests: number | null = null;
  eventsWithGivenCost = 0;
  givenCost: DecimalSum | null = null;
  eventsComputed = 0;
  computedCost: DecimalSum | null = null;
  /** Events quoted a plan rather than priced: their buckets per plan (a Map only once a second plan appears). */
  plan: UsageAdapterV1PricePlan | null = null;
  planUsage: PlanUsage | null = null;
  otherPlans: Map<UsageAdapterV1PricePlan, PlanUsage> | null = null;
  /** The distinct prices used; a Set only once a second one appears (rare). */
  priceRef: string | null = null;
  priceRefs: Set<string> | null = null;
  firstUnpricedLine = 0;
  firstUnpricedReason: string | null = null;
  trust: number;

  // The cell's dimensions, copied rather than the event kept: a cell held until
  // the next spill would otherwise keep its whole first event alive (and
  // promoted to the old generation), which in a file of distinct cells is
  // every event.
  readonly granularity: UsageEvent['granularity'];
  readonly bucketStart: Date;
  readonly provider: string;
  readonly model: string;
  readonly account: string;
  readonly apiKey: string;
  readonly userId: string;

  constructor(
    event: UsageEvent,
    readonly labels: string,
  ) {
    this.firstLine = event.line;
    this.trust = TRUST[event.measurement_basis];
    this.granularity = event.granularity;
    this.bucketStart = event.bucket_start;
    this.provider = event.provider;
    this.model = event.model;
    this.account = event.account;
    this.apiKey = event.api_key;
    this.userId = event.user_id;
  }

  /** Whether `event` falls in this cell (its bucket_start already known to be in the same minute). */
  holds(event: UsageEvent, labels: string): boolean {
    return (
      event.bucket_start.getTime() === this.bucketStart.getTime() &&
      event.model === this.model &&
      event.provider === this.provider &&
      event.granularity === this.granularity &&
      event.user_id === this.userId &&
      event.account === this.account &&
      event.api_key === this.apiKey &&
      labels === this.labels
    );
  }

  add(event: UsageEvent): void {
    const { line } = event;
    if (line < this.firstLine) this.firstLine = line;
    this.events++;
    let value = event.input_tokens;
    if (value !== null) this.input_tokens = (this.input_tokens ?? 0) + value;
    value = event.output_tokens;
    if (value !== null) this.output_tokens = (this.output_tokens ?? 0) + value;
    value = event.cached_read_tokens;
    if (value !== null) this.cached_read_tokens = (this.cached_read_tokens ?? 0) + value;
    value = event.cached_write_tokens;
    if (value !== null) this.cached_write_tokens = (this.cached_write_tokens ?? 0) + value;
    value = event.cached_write_1h_tokens;
    if (value !== null) this.cached_write_1h_tokens = (this.cached_write_1h_tokens ?? 0) + value;
    value = event.reasoning_tokens;
    if (value !== null) this.reasoning_tokens = (this.reasoning_tokens ?? 0) + value;
    value = event.requests;
    if (value !== null) this.requests = (this.requests ?? 0) + value;
    if (event.cost_usd !== null) {
      this.eventsWithGivenCost++;
      (this.givenCost ??= new DecimalSum()).add(event.cost_usd, line, 'cost_usd');
    }
    const computed = event.computed_cost_usd;
    if (computed !== null && computed !== undefined) {
      this.eventsComputed++;
      (this.computedCost ??= new DecimalSum()).add(computed, line, 'computed_cost_usd');
    }
    const plan = event.price_plan;
    let priceRef = event.price_ref;
    if (plan !== null && plan !== undefined) {
      if (computed !== null && computed !== undefined) {
        throw new StoreArgumentError({ argument: 'events', message: `line ${line}: an event has either computed_cost_usd or price_plan, not both` });
      }
      this.eventsComputed++;
      priceRef = plan.priceRef;
      if (plan === this.plan) {
        (this.planUsage as PlanUsage).add(event);
      } else if (this.plan === null) {
        this.plan = plan;
        (this.planUsage = new PlanUsage()).add(event);
      } else {
        this.otherPlans ??= new Map();
        let usage = this.otherPlans.get(plan);
        if (usage === undefined) this.otherPlans.set(plan, (usage = new PlanUsage()));
        usage.add(event);
      }
    }
    if (priceRef !== null && priceRef !== undefined && priceRef !== this.priceRef) {
      if (this.priceRef === null) this.priceRef = priceRef;
      else (this.priceRefs ??= new Set([this.priceRef])).add(priceRef);
    }
    const reason = event.unpriced_reason;
    if (reason !== null && reason !== undefined && (this.firstUnpricedReason === null || line < this.firstUnpricedLine)) {
      this.firstUnpricedLine = line;
      this.firstUnpricedReason = reason;
    }
    const trust = TRUST[event.measurement_basis];
    if (trust < this.trust) this.trust = trust;
  }

  /** The computed cost: the costs given per event plus each plan's price of its summed buckets. */
  computedCostText(): string {
    if (this.plan === null) return this.computedCost === null ? '\\N' : this.computedCost.toString();
    const sum = this.computedCost ?? new DecimalSum();
    sum.addUnits(this.plan.costUnits(this.planUsage as PlanUsage), this.plan.costDecimals);
    if (this.otherPlans !== null) for (const [plan, usage] of this.otherPlans) sum.addUnits(plan.costUnits(usage), plan.costDecimals);
    return sum.toString();
  }

  /** One line of COPY text for the partial-cell table (columns in PARTIAL_COLUMNS order). */
  copyLine(): string {
    const priceRefs = this.priceRefs === null ? this.priceRef : [...this.priceRefs].sort().join('|');
    return `${this.firstLine}\t${this.events}\t${this.granularity}\t${this.bucketStart.toISOString()}\t${copyText(this.provider)}\t${copyText(this.model)}\t${copyText(this.account)}\t${copyText(this.apiKey)}\t${copyText(this.userId)}\t${copyText(this.labels)}\t${counter(this.input_tokens)}\t${counter(this.output_tokens)}\t${counter(this.cached_read_tokens)}\t${counter(this.cached_write_tokens)}\t${counter(this.cached_write_1h_tokens)}\t${counter(this.reasoning_tokens)}\t${counter(this.requests)}\t${this.eventsWithGivenCost}\t${this.givenCost === null ? '\\N' : this.givenCost.toString()}\t${this.eventsComputed}\t${this.computedCostText()}\t${copyText(priceRefs)}\t${this.firstUnpricedReason === null ? '\\N' : this.firstUnpricedLine}\t${copyText(this.firstUnpricedReason)}\t${this.trust}\n`;
  }
}

function counter(value: number | null): string {
  return value !== null && value > SAFE_INTEGER ? TOO_LARGE : copyNumber(value);
}

/** The columns of the partial-cell table, in the order of PartialCell.copyLine. */
export const PARTIAL_COLUMNS = `first_line bigint NOT NULL,
  events bigint NOT NULL,
  granularity text NOT NULL,
  bucket_start timestamptz NOT NULL,
  provider text NOT NULL,
  model text NOT NULL,
  account text NOT NULL,
  api_key text NOT NULL,
  user_id text NOT NULL,
  labels text NOT NULL,
  input_tokens bigint, output_tokens bigint, cached_read_tokens bigint, cached_write_tokens bigint,
  cached_write_1h_tokens bigint, reasoning_tokens bigint, requests bigint,
  events_with_given_cost bigint NOT NULL,
  given_cost numeric,
  events_computed bigint NOT NULL,
  computed_cost numeric,
  price_refs text COLLATE "C",
  first_unpriced_line bigint,
  first_unpriced_reason text,
  trust smallint NOT NULL`;

/** COPY text per chunk: large enough to amortise a round trip, small enough to stream. */
const CHUNK_CHARACTERS = 256 * 1024;

/**
 * Cells held in memory before a spill. Each costs a few hundred bytes (its
 * key, its sums, the first event of the cell), so 10,000 stay within a few
 * megabytes, and a file that rolls up into fewer cells is summed in
 * JavaScript and sends only its cells to the database.
 */
export const DEFAULT_PARTIAL_CELL_LIMIT = 10_000;

/**
 * Streams usage events as COPY text of partial cells: events of the same cell
 * are summed in memory, and whenever more than `limit` cells are held the
 * partial sums are written out and the map cleared. The database sums the
 * partial sums of a cell (a cell may appear once per spill), so memory stays
 * bounded whatever the number of cells, and a file of few cells sends few rows.
 */
export async function* partialCellChunks(
  events: AsyncIterable<UsageEvent | readonly UsageEvent[]>,
  limit: number,
  counted: (events: number) => void,
  /**
   * Called (once) when a cell may have several partial sums: a cell met again after its partial sum was spilled.
   * Never called, every partial sum is a whole cell, as in a file of fewer cells than `limit` or one whose cells
   * each sit in one stretch of it (an export sorted by time, every request its own cell).
   */
  cellsMayRepeat: () => void = () => {},
): AsyncGenerator<string> {
  const cells = new Map<string, PartialCell>();
  // The keys spilled so far, once there was a spill, until a cell may repeat (then nothing more to learn).
  let spilled: SpilledKeys | undefined;
  let mayRepeat = false;
  // The last cell of each bucket: most files hold one cell per bucket (one model, one key), found by number alone.
  const lastInBucket = new Map<number, PartialCell>();
  const single: UsageEvent[] = [];
  // Rows of a file mostly share one frozen labels object (the reader's "no labels"): its text is found once for
  // them. Only a frozen object: an event's labels may be a caller's object it changes between events.
  let lastLabels: Readonly<Record<string, string>> | undefined;
  let lastLabelsText = '{}';
  for await (const item of events) {
    let batch: readonly UsageEvent[];
    if (isBatch(item)) {
      batch = item;
    } else {
      single[0] = item;
      batch = single;
    }
    counted(batch.length);
    for (const event of batch) {
      if (event.labels !== lastLabels) {
        lastLabels = Object.isFrozen(event.labels) ? event.labels : undefined;
        lastLabelsText = isEmpty(event.labels) ? '{}' : labelsText(event.labels);
      }
      const labels = lastLabelsText;
      const bucket = event.bucket_start.getTime();
      // Minutes since 1970: buckets start on whole hours, so this is an integer small enough for a fast Map key.
      const minute = Math.floor(bucket / 60_000);
      let cell = lastInBucket.get(minute);
      if (cell === undefined || !cell.holds(event, labels)) {
        // NUL cannot be stored in PostgreSQL text (writers refuse it), so it separates the members unambiguously.
        const key = `${event.granularity}\0${bucket}\0${event.provider}\0${event.model}\0${event.account}\0${event.api_key}\0${event.user_id}\0${labels}`;
        cell = cells.get(key);
        if (cell === undefined) {
          if (cells.size >= limit) {
            if (!mayRepeat) {
              spilled ??= new SpilledKeys();
              for (const spilledKey of cells.keys()) spilled.add(spilledKey);
            }
            yield* spill(cells);
            cells.clear();
            lastInBucket.clear();
          }
          if (spilled !== undefined && spilled.mayHold(key)) {
            mayRepeat = true;
            spilled = undefined;
            cellsMayRepeat();
          }
          cell = new PartialCell(event, labels);
          cells.set(key, cell);
        }
        lastInBucket.set(minute, cell);
      }
      cell.add(event);
    }
  }
  yield* spill(cells);
  cells.clear();
  lastInBucket.clear();
}

/**
 * The keys of the cells already spilled, as a Bloom filter of 2^26 bits (8 MB, made at the first spill) with
 * seven probes per key: whether a new cell may be one of them. Never a false "no", so a cell that repeats is
 * always caught; a false "maybe" only costs the GROUP BY the import would do anyway. Unlikely up to about a
 * million cells (one file in forty there); beyond two million the GROUP BY is the rule again, and memory stays
 * what it was.
 */
class SpilledKeys {
  readonly #bits = new Int32Array(1 << 21);

  add(key: string): void {
    hash(key);
    let index = HASH[0] as number;
    const step = HASH[1] as number;
    for (let probe = 0; probe < PROBES; probe++) {
      this.#bits[index >>> 5] = (this.#bits[index >>> 5] as number) | (1 << (index & 31));
      index = (index + step) & BIT_MASK;
    }
  }

  mayHold(key: string): boolean {
    hash(key);
    let index = HASH[0] as number;
    const step = HASH[1] as number;
    for (let probe = 0; probe < PROBES; probe++) {
      if (((this.#bits[index >>> 5] as number) & (1 << (index & 31))) === 0) return false;
      index = (index + step) & BIT_MASK;
    }
    return true;
  }
}

const PROBES = 7;
const BIT_MASK = (1 << 26) - 1;
const HASH: [number, number] = [0, 0];

/**
 * Two independent hashes of a key (FNV-1a with two primes, then MurmurHash3's finaliser), as a first bit and an
 * odd step between the probes (double hashing).
 */
function hash(key: string): void {
  let first = 0x811c9dc5;
  let second = 0x3c6ef372;
  for (let index = 0; index < key.length; index++) {
    const code = key.charCodeAt(index);
    first = Math.imul(first ^ code, 0x01000193);
    second = Math.imul(second ^ code, 0x5bd1e995);
  }
  HASH[0] = finalise(first) & BIT_MASK;
  HASH[1] = (finalise(second ^ 0x9e3779b9) & BIT_MASK) | 1;
}

function finalise(hash: number): number {
  let value = hash ^ (hash >>> 16);
  value = Math.imul(value, 0x85ebca6b);
  value ^= value >>> 13;
  value = Math.imul(value, 0xc2b2ae35);
  return (value ^ (value >>> 16)) >>> 0;
}

function isBatch(item: UsageEvent | readonly UsageEvent[]): item is readonly UsageEvent[] {
  return Array.isArray(item);
}

function isEmpty(labels: Readonly<Record<string, string>>): boolean {
  for (const _ in labels) return false;
  return true;
}

function* spill(cells: Map<string, PartialCell>): Generator<string> {
  let chunk = '';
  for (const cell of cells.values()) {
    chunk += cell.copyLine();
    if (chunk.length >= CHUNK_CHARACTERS) {
      yield chunk;
      chunk = '';
    }
  }
  if (chunk.length > 0) yield chunk;
}

/** Canonical JSON (keys sorted), so equal label sets group together as text. */
function labelsText(labels: Readonly<Record<string, string>>): string {
  const keys = Object.keys(labels);
  if (keys.length === 0) return '{}';
  if (keys.length === 1) return JSON.stringify(labels);
  keys.sort();
  const sorted: Record<string, string> = {};
  for (const key of keys) sorted[key] = labels[key] as string;
  return JSON.stringify(sorted);
}
