import {
  bucketRangeProblem,
  dimensionTextProblem,
  EARLIEST_BUCKET,
  LATEST_BUCKET_END,
  floorToBucket,
  labelsProblem,
  type Granularity,
  isGranularity,
  MEASUREMENT_BASES,
  type MeasurementBasis,
  type TokenColumn,
} from '@utt/core';
import { parseImportTimestampMs } from './parse-import-timestamp';

export const EARLIEST_MS = EARLIEST_BUCKET.getTime();
export const LATEST_END_MS = LATEST_BUCKET_END.getTime();
const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;

/**
 * Bucket starts already made, by granularity and time: a file of a million
 * requests falls in a few thousand buckets, so their rows share one Date each
 * instead of allocating two per row. Cleared when full, to stay bounded.
 */
const hourDates = new Map<number, Date>();
const dayDates = new Map<number, Date>();
const MAX_BUCKET_DATES = 16_384;

export function bucketStart(instant: number, granularity: Granularity): Date {
  if (granularity === 'month') return floorToBucket(new Date(instant), granularity);
  const size = granularity === 'hour' ? HOUR_MS : DAY_MS;
  const dates = granularity === 'hour' ? hourDates : dayDates;
  // Keyed by the bucket's index (hours or days since 1970), a small integer that a Map hashes cheaply.
  const index = Math.floor(instant / size);
  let date = dates.get(index);
  if (date === undefined) {
    if (dates.size >= MAX_BUCKET_DATES) dates.clear();
    date = new Date(index * size);
    dates.set(index, date);
  }
  return date;
}

/**
 * One valid row of an import file, its timestamp already floored to the start
 * of its bucket (rows of the same bucket may share the Date: do not mutate it). Counters are null where the row leaves them empty (unknown),
 * and 0 where it says 0.
 */
export type ImportRow = {
  readonly granularity: Granularity;
  readonly bucket_start: Date;
  readonly provider: string;
  readonly model: string;
  readonly account: string;
  readonly api_key: string;
  readonly user_id: string;
  /** Sorted by key, so equal label sets compare equal. */
  readonly labels: Readonly<Record<string, string>>;
  /** A non-negative decimal string (`0.0125`, `5.`, `.5`; at most COST_DECIMALS places that matter), or null. */
  readonly cost_usd: string | null;
  readonly measurement_basis: MeasurementBasis;
} & { readonly [column in TokenColumn]: number | null };

export type ParseImportRowResult =
  | { readonly ok: true; readonly row: ImportRow }
  | { readonly ok: false; readonly field: string; readonly message: string };

/** Decimal places kept for cost_usd (NUMERIC keeps them all; sums stay exact). */
export const COST_DECIMALS = 18;

const NUMBER_TEXT = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
const DECIMAL_TEXT = /^(\d+\.?\d*|\.\d+)$/;

/**
 * Validates one row, given as column → value. CSV cells are strings (an empty
 * cell is NULL); JSON values may be strings, numbers, null or missing, and
 * `labels` an object. Returns the first problem found (bucket_start,
 * granularity and measurement_basis are checked first), naming the column.
 * Unknown columns are the caller's concern.
 */
export function parseImportRow(values: unknown): ParseImportRowResult {
  if (typeof values !== 'object' || values === null || Array.isArray(values)) {
    return { ok: false, field: 'row', message: 'expected an object of column names and values' };
  }
  try {
    return { ok: true, row: readRow(values as Readonly<Record<string, unknown>>) };
  } catch (error) {
    if (error instanceof RowProblem) return { ok: false, field: error.field, message: error.message };
    throw error;
  }
}

class RowProblem {
  constructor(
    readonly field: string,
    readonly message: string,
  ) {}
}

function fail(field: string, message: string): never {
  throw new RowProblem(field, message);
}

function readRow(values: Readonly<Record<string, unknown>>): ImportRow {
  const timestampText = required(values, 'bucket_start');
  const instant = parseImportTimestampMs(timestampText);
  if (Number.isNaN(instant)) {
    fail('bucket_start', `expected an ISO 8601 date (2026-10-01) or timestamp (2026-10-01T13:05:00Z), got ${show(timestampText)}`);
  }
  if (instant < EARLIEST_MS || instant >= LATEST_END_MS) fail('bucket_start', bucketRangeProblem(new Date(instant)) ?? 'out of range');
  const granularityText = text(values.granularity, 'granularity')?.toLowerCase() ?? 'day';
  if (!isGranularity(granularityText)) fail('granularity', `expected hour, day or month, got ${show(granularityText)}`);
  const granularity: Granularity = granularityText;

  const basisText = text(values.measurement_basis, 'measurement_basis')?.toLowerCase() ?? 'derived_estimate';
  if (!(MEASUREMENT_BASES as readonly string[]).includes(basisText)) {
    fail('measurement_basis', `expected ${MEASUREMENT_BASES.join(', ')}, got ${show(basisText)}`);
  }

  // Every value is read, in column order (the first problem wins), before the row object is made. When a
  // check threw halfway through the object literal, V8 spent about 10 µs per bad row updating the literal's
  // maps (perf: MapUpdater, CreateObjectLiteral), 4× a good row; bench/import/README.md, 2026-12-07.
  const provider = required(values, 'provider');
  const model = required(values, 'model');
  const account = text(values.account, 'account') ?? '';
  const api_key = text(values.api_key, 'api_key') ?? '';
  const user_id = text(values.user_id, 'user_id') ?? '';
  const rowLabels = labels(values.labels);
  const input_tokens = count(values.input_tokens, 'input_tokens');
  const output_tokens = count(values.output_tokens, 'output_tokens');
  const cached_read_tokens = count(values.cached_read_tokens, 'cached_read_tokens');
  const cached_write_tokens = count(values.cached_write_tokens, 'cached_write_tokens');
  const cached_write_1h_tokens = count(values.cached_write_1h_tokens, 'cached_write_1h_tokens');
  const reasoning_tokens = count(values.reasoning_tokens, 'reasoning_tokens');
  const requests = count(values.requests, 'requests');
  const cost_usd = cost(values.cost_usd);
  const row: ImportRow = {
    granularity,
    bucket_start: bucketStart(instant, granularity),
    provider,
    model,
    account,
    api_key,
    user_id,
    labels: rowLabels,
    input_tokens,
    output_tokens,
    cached_read_tokens,
    cached_write_tokens,
    cached_write_1h_tokens,
    reasoning_tokens,
    requests,
    cost_usd,
    measurement_basis: basisText as MeasurementBasis,
  };

  // The cross-column invariants of a usage record, checked on each row so the
  // line is known (the rolled-up cells go through core's parseUsageRecord too;
  // running the full schema on every row would double the import time).
  const { cached_write_tokens: cacheWrites, cached_write_1h_tokens: hourWrites } = row;
  if (hourWrites !== null && cacheWrites === null) fail('cached_write_tokens', 'must be known when cached_write_1h_tokens is');
  if (hourWrites !== null && cacheWrites !== null && hourWrites > cacheWrites) {
    fail('cached_write_1h_tokens', 'is part of cached_write_tokens and cannot exceed it');
  }
  if (row.reasoning_tokens !== null && row.output_tokens !== null && row.reasoning_tokens > row.output_tokens) {
    fail('reasoning_tokens', 'is part of output_tokens and cannot exceed it');
  }
  return row;
}

function required(values: Readonly<Record<string, unknown>>, column: 'bucket_start' | 'provider' | 'model'): string {
  return text(values[column], column) ?? fail(column, 'required, but empty');
}

/** Trimmed text; null for a missing value, null or an empty cell. */
function text(value: unknown, field: string): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value === 'string') {
    const trimmed = value.trim();
    // Every text cell, counters and dates too: bytes that were not UTF-8 decode to U+FFFD.
    const problem = dimensionTextProblem(trimmed);
    if (problem) fail(field, problem);
    return trimmed === '' ? null : trimmed;
  }
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return fail(field, `expected text, got ${describe(value)}`);
}

function count(value: unknown, field: TokenColumn): number | null {
  let number: number;
  if (value === undefined || value === null) return null;
  if (typeof value === 'number') {
    number = value;
  } else if (typeof value === 'string') {
    const trimmed = value.trim();
    if (trimmed === '') return null;
    if (!NUMBER_TEXT.test(trimmed)) fail(field, `expected a whole number, got ${show(trimmed)}`);
    number = Number(trimmed);
  } else {
    return fail(field, `expected a whole number, got ${describe(value)}`);
  }
  if (!Number.isFinite(number)) fail(field, `expected a whole number, got ${show(String(value))}`);
  if (number < 0) fail(field, `must not be negative, got ${show(String(value).trim())}`);
  if (!Number.isInteger(number)) fail(field, `expected a whole number, got ${show(String(value).trim())}`);
  if (!Number.isSafeInteger(number)) fail(field, 'too large');
  return number === 0 ? 0 : number; // no -0
}

function cost(value: unknown): string | null {
  let decimal: string;
  if (value === undefined || value === null) return null;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) fail('cost_usd', 'expected a decimal number of US dollars');
    if (value < 0) fail('cost_usd', `must not be negative, got ${value}`);
    decimal = numberToDecimal(value);
  } else if (typeof value === 'string') {
    decimal = value.trim();
    if (decimal === '') return null;
    if (!DECIMAL_TEXT.test(decimal)) {
      if (NUMBER_TEXT.test(decimal) && decimal.startsWith('-')) fail('cost_usd', `must not be negative, got ${show(decimal)}`);
      fail('cost_usd', `expected a plain decimal number of US dollars such as 0.0125, got ${show(decimal)}`);
    }
  } else {
    return fail('cost_usd', `expected a decimal number of US dollars, got ${describe(value)}`);
  }
  const point = decimal.indexOf('.');
  if (point !== -1 && decimal.length - point - 1 > COST_DECIMALS && /[1-9]/.test(decimal.slice(point + 1 + COST_DECIMALS))) {
    fail('cost_usd', `has more than ${COST_DECIMALS} decimal places`);
  }
  return decimal;
}

function numberToDecimal(value: number): string {
  const plain = String(value);
  if (!/e/i.test(plain)) return plain;
  if (value >= 1e21) fail('cost_usd', 'too large');
  return value.toFixed(COST_DECIMALS);
}

/** Shared by every row without labels: one object instead of one per row. */
export const NO_LABELS: Readonly<Record<string, string>> = Object.freeze({});

function labels(value: unknown): Readonly<Record<string, string>> {
  const expected = 'expected a JSON object of strings, such as {"team":"search"}';
  let parsed: unknown = value;
  if (value === undefined || value === null) return NO_LABELS;
  if (typeof value === 'string') {
    const trimmed = value.trim();
    if (trimmed === '') return NO_LABELS;
    try {
      parsed = JSON.parse(trimmed);
    } catch {
      fail('labels', `${expected}; the cell is not valid JSON`);
    }
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) fail('labels', expected);
  const entries = Object.entries(parsed);
  for (const [key, labelValue] of entries) {
    if (typeof labelValue !== 'string') fail('labels', `${expected}; the value of ${JSON.stringify(key)} is ${describe(labelValue)}`);
  }
  const problem = labelsProblem(parsed as Record<string, string>);
  if (problem) fail('labels', problem);
  entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return Object.fromEntries(entries) as Record<string, string>;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'string') return show(value);
  return `${typeof value} ${String(value)}`;
}

/** A value quoted for a message, cut short. Only counters, dates and enums are shown, never dimensions. */
function show(value: string): string {
  return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
}
