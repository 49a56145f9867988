import { dimensionTextProblem, type Granularity, type MeasurementBasis } from '@utt/core';
import type { ImportEvent } from './import-usage-file';
import { bucketStart, COST_DECIMALS, EARLIEST_MS, LATEST_END_MS, NO_LABELS } from './parse-import-row';
import { parseUtcTimestampAt } from './parse-import-timestamp';

/**
 * Reads one CSV line without quotes straight into an import row, by column
 * index: no array of fields, no object of column names, no string per counter
 * or timestamp. Returns undefined whenever the line is anything but the plain
 * common case — a cell with spaces around it, a number written `5.0` or
 * `1e3`, another timestamp form, labels, a value out of range, a broken rule —
 * and the caller reads it the general way (parseImportRow), which accepts or
 * refuses it with its usual message. So this decides nothing on its own: it
 * only skips work for lines the general way would read to the same row.
 */
export type CsvLineParser = (text: string, start: number, end: number, line: number) => ImportEvent | undefined;

const COMMA = 44;
const ZERO = 48;
const NINE = 57;
const POINT = 46;
/** Counters of at most 15 digits are safe integers. */
const MAX_COUNT_DIGITS = 15;

type Column =
  | 'bucket_start'
  | 'granularity'
  | 'provider'
  | 'model'
  | 'account'
  | 'api_key'
  | 'user_id'
  | 'labels'
  | 'input_tokens'
  | 'output_tokens'
  | 'cached_read_tokens'
  | 'cached_write_tokens'
  | 'cached_write_1h_tokens'
  | 'reasoning_tokens'
  | 'requests'
  | 'cost_usd'
  | 'measurement_basis';

const COLUMN_CODES: Readonly<Record<Column, number>> = {
  bucket_start: 0,
  granularity: 1,
  provider: 2,
  model: 3,
  account: 4,
  api_key: 5,
  user_id: 6,
  labels: 7,
  input_tokens: 8,
  output_tokens: 9,
  cached_read_tokens: 10,
  cached_write_tokens: 11,
  cached_write_1h_tokens: 12,
  reasoning_tokens: 13,
  requests: 14,
  cost_usd: 15,
  measurement_basis: 16,
};
const TEXT_COLUMNS = 5; // provider … user_id: codes 2–6

/** A parser for lines under `names` (a checked header), or undefined if a column is not one it knows. */
export function csvLineParser(names: readonly string[]): CsvLineParser | undefined {
  const codes = names.map((name) => COLUMN_CODES[name as Column]);
  if (codes.some((code) => code === undefined)) return undefined;
  const columns = Int32Array.from(codes as number[]);
  const count = columns.length;
  // The last distinct value of each text column: most rows repeat it, and are then neither sliced nor checked again.
  const lastText: string[] = ['', '', '', '', ''];
  // Per line, the field bounds of each column code; -1 for a column not in the file, which no line overwrites.
  const fieldStart = new Int32Array(17).fill(-1);
  const fieldEnd = new Int32Array(17).fill(-1);

  const text = (line: string, code: number): string | undefined => {
    const start = fieldStart[code] as number;
    const end = fieldEnd[code] as number;
    if (start === -1 || start === end) return '';
    const first = line.charCodeAt(start);
    const last = line.charCodeAt(end - 1);
    // Spaces (and any non-ASCII) at either end: trimming is the general path's business.
    if (first <= 32 || first >= 127 || last <= 32 || last >= 127) return undefined;
    const slot = code - 2;
    const previous = lastText[slot] as string;
    if (previous.length === end - start && line.startsWith(previous, start)) return previous;
    const value = line.slice(start, end);
    if (dimensionTextProblem(value) !== undefined) return undefined;
    lastText[slot] = value;
    return value;
  };

  /** A counter: null when empty, -1 when not plain digits (the general path decides). */
  const counter = (line: string, code: number): number | null => {
    const start = fieldStart[code] as number;
    const end = fieldEnd[code] as number;
    if (start === -1 || start === end) return null;
    if (end - start > MAX_COUNT_DIGITS) return -1;
    let value = 0;
    for (let index = start; index < end; index++) {
      const digit = line.charCodeAt(index);
      if (digit < ZERO || digit > NINE) return -1;
      value = value * 10 + (digit - ZERO);
    }
    return value;
  };

  return (line, start, end, lineNumber) => {
    let from = start;
    for (let index = 0; index < count; index++) {
      let to = line.indexOf(',', from);
      if (to === -1 || to > end) to = end;
      else if (index === count - 1) return undefined; // more fields than the header
      const code = columns[index] as number;
      fieldStart[code] = from;
      fieldEnd[code] = to;
      if (to === end && index < count - 1) return undefined; // fewer fields than the header
      from = to + 1;
    }

    const timestampStart = fieldStart[0] as number;
    const instant = parseUtcTimestampAt(line, timestampStart, fieldEnd[0] as number);
    if (Number.isNaN(instant) || instant < EARLIEST_MS || instant >= LATEST_END_MS) return undefined;
    const granularity = enumValue(line, fieldStart[1] as number, fieldEnd[1] as number, GRANULARITY_VALUES, 'day');
    if (granularity === undefined) return undefined;
    const basis = enumValue(line, fieldStart[16] as number, fieldEnd[16] as number, BASIS_VALUES, 'derived_estimate');
    if (basis === undefined) return undefined;
    if (fieldStart[7] !== -1 && fieldStart[7] !== fieldEnd[7]) return undefined; // labels
    const provider = text(line, 2);
    const model = text(line, 3);
    if (provider === undefined || provider === '' || model === undefined || model === '') return undefined;
    const account = text(line, 4);
    const apiKey = text(line, 5);
    const userId = text(line, 6);
    if (account === undefined || apiKey === undefined || userId === undefined) return undefined;

    const input = counter(line, 8);
    const output = counter(line, 9);
    const cacheRead = counter(line, 10);
    const cacheWrite = counter(line, 11);
    const hourWrites = counter(line, 12);
    const reasoning = counter(line, 13);
    const requests = counter(line, 14);
    if (input === -1 || output === -1 || cacheRead === -1 || cacheWrite === -1 || hourWrites === -1 || reasoning === -1 || requests === -1) return undefined;
    // The record rules: the general path names the column that breaks one.
    if (hourWrites !== null && (cacheWrite === null || hourWrites > cacheWrite)) return undefined;
    if (reasoning !== null && output !== null && reasoning > output) return undefined;

    let cost: string | null = null;
    const costStart = fieldStart[15] as number;
    const costEnd = fieldEnd[15] as number;
    if (costStart !== -1 && costStart !== costEnd) {
      let point = -1;
      for (let index = costStart; index < costEnd; index++) {
        const code = line.charCodeAt(index);
        if (code === POINT && point === -1) point = index;
        else if (code < ZERO || code > NINE) return undefined;
      }
      if (costEnd - costStart === 1 && point !== -1) return undefined; // "."
      if (point !== -1 && costEnd - point - 1 > COST_DECIMALS) return undefined;
      cost = line.slice(costStart, costEnd);
    }

    return {
      granularity,
      bucket_start: bucketStart(instant, granularity),
      provider,
      model,
      account,
      api_key: apiKey,
      user_id: userId,
      labels: NO_LABELS,
      input_tokens: input,
      output_tokens: output,
      cached_read_tokens: cacheRead,
      cached_write_tokens: cacheWrite,
      cached_write_1h_tokens: hourWrites,
      reasoning_tokens: reasoning,
      requests,
      cost_usd: cost,
      measurement_basis: basis,
      line: lineNumber,
      computed_cost_usd: null,
      price_ref: null,
      price_plan: null,
      unpriced_reason: null,
    };
  };
}

const GRANULARITY_VALUES: readonly Granularity[] = ['hour', 'day', 'month'];
const BASIS_VALUES: readonly MeasurementBasis[] = ['exact', 'provider_aggregate', 'derived_estimate'];

/** The value spelled exactly (lower case, no spaces), the default for an empty or absent cell, else undefined. */
function enumValue<T extends string>(line: string, start: number, end: number, values: readonly T[], empty: T): T | undefined {
  if (start === -1 || start === end) return empty;
  for (const value of values) if (value.length === end - start && line.startsWith(value, start)) return value;
  return undefined;
}
