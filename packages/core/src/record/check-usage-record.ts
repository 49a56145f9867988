import { isAlignedToBucket } from '../time/bucket';
import { DIMENSION_LIMITS, dimensionTextProblem, EARLIEST_BUCKET, LATEST_BUCKET_END, labelsProblem } from './dimension-text';
import type { UsageRecord, UsageRow } from './usage-record';

const KNOWN_FIELDS = new Set([
  'source_instance',
  'granularity',
  'bucket_start',
  'provider',
  'model',
  'account',
  'api_key',
  'user_id',
  'labels',
  'input_tokens',
  'output_tokens',
  'cached_read_tokens',
  'cached_write_tokens',
  'cached_write_1h_tokens',
  'reasoning_tokens',
  'requests',
  'cost_usd',
  'cost_source',
  'price_ref',
  'unpriced_reason',
  'measurement_basis',
]);
const DECIMAL = /^\d+(\.\d+)?$/;
const EARLIEST = EARLIEST_BUCKET.getTime();
const LATEST_END = LATEST_BUCKET_END.getTime();

/** Marks a value the check is not sure of: the schema then decides, and names the problem. */
const UNSURE = Symbol('unsure');

/**
 * What the records of one batch share while they are checked: the order of
 * their fields and of their labels' keys. Records an adapter builds with one
 * literal list their fields in one order, and field names are interned, so
 * the same order as the record before costs a pointer comparison per field,
 * where looking each name up costs a hash. Only names found valid are kept,
 * so a memo never makes the check looser.
 */
export type UsageCheckMemo = {
  /** The record fields, all known, in the order the last record listed them. */
  readonly fields: string[];
  /** The label keys, all clean, in the order the last labels listed them. */
  readonly labelKeys: string[];
};

export function createUsageCheckMemo(): UsageCheckMemo {
  return { fields: [], labelKeys: [] };
}

/**
 * usageRecordSchema's rules written out by hand, for the worker's hot path: a
 * cycle validates every record an adapter returns, and a generic schema walk
 * of 16,000 records costs far more than the records' own work. Returns the
 * record exactly as `usageRecordSchema.parse` would (defaults filled, a
 * numeric cost as its decimal string), or undefined when the input breaks a
 * rule or takes a form this check does not handle (a bucket_start given as
 * text, a class instance): the caller then runs the schema, which accepts
 * what it accepts and names every bad field. So this check may only ever be
 * stricter than the schema, never looser; a property test holds it to that.
 */
export function checkUsageRecord(input: unknown, memo?: UsageCheckMemo): UsageRecord | undefined {
  return checkFields(input, memo, undefined, '') as UsageRecord | undefined;
}

/**
 * checkUsageRecord and the stamping of toUsageRow in one step: the row as
 * toUsageRow returns it (source_system set, an empty source_instance replaced
 * by `defaultInstance`), built as one object, or undefined as checkUsageRecord.
 */
export function checkUsageRow(input: unknown, sourceSystem: string, defaultInstance: string, memo?: UsageCheckMemo): UsageRow | undefined {
  return checkFields(input, memo, sourceSystem, defaultInstance) as UsageRow | undefined;
}

/** A record (no sourceSystem) or a row: one body of rules for both, so they cannot drift apart. */
function checkFields(input: unknown, memo: UsageCheckMemo | undefined, sourceSystem: string | undefined, defaultInstance: string): UsageRecord | UsageRow | undefined {
  if (typeof input !== 'object' || input === null || Object.getPrototypeOf(input) !== Object.prototype) return undefined;
  const fields = input as Record<string, unknown>;
  if (memo === undefined) {
    for (const key in fields) if (!KNOWN_FIELDS.has(key)) return undefined;
  } else {
    const known = memo.fields;
    let index = 0;
    for (const key in fields) {
      if (key !== known[index]) {
        if (!KNOWN_FIELDS.has(key)) return undefined;
        known[index] = key;
      }
      index += 1;
    }
  }

  const granularity = fields.granularity;
  if (granularity !== 'hour' && granularity !== 'day' && granularity !== 'month') return undefined;
  const bucketStart = fields.bucket_start;
  if (!(bucketStart instanceof Date) || Object.getPrototypeOf(bucketStart) !== Date.prototype) return undefined;
  const time = bucketStart.getTime();
  // NaN fails both comparisons.
  if (!(time >= EARLIEST && time < LATEST_END)) return undefined;
  // Hours and days are whole multiples since the epoch in UTC (no leap seconds in JavaScript time).
  if (granularity === 'hour' ? time % 3_600_000 !== 0 : granularity === 'day' ? time % 86_400_000 !== 0 : !isAlignedToBucket(bucketStart, 'month')) return undefined;
  const provider = fields.provider;
  if (typeof provider !== 'string' || provider.length === 0 || !cleanText(provider, DIMENSION_LIMITS.textBytes)) return undefined;
  const model = fields.model;
  if (typeof model !== 'string' || !cleanText(model, DIMENSION_LIMITS.textBytes)) return undefined;
  const sourceInstance = dimension(fields.source_instance);
  const account = dimension(fields.account);
  const apiKey = dimension(fields.api_key);
  const userId = dimension(fields.user_id);
  if (sourceInstance === UNSURE || account === UNSURE || apiKey === UNSURE || userId === UNSURE) return undefined;
  const labels = checkLabels(fields.labels, memo);
  if (labels === UNSURE) return undefined;

  const input_tokens = count(fields.input_tokens);
  const output_tokens = count(fields.output_tokens);
  const cached_read_tokens = count(fields.cached_read_tokens);
  const cached_write_tokens = count(fields.cached_write_tokens);
  const cached_write_1h_tokens = count(fields.cached_write_1h_tokens);
  const reasoning_tokens = count(fields.reasoning_tokens);
  const requests = count(fields.requests);
  if (
    input_tokens === UNSURE ||
    output_tokens === UNSURE ||
    cached_read_tokens === UNSURE ||
    cached_write_tokens === UNSURE ||
    cached_write_1h_tokens === UNSURE ||
    reasoning_tokens === UNSURE ||
    requests === UNSURE
  ) {
    return undefined;
  }
  if (cached_write_1h_tokens !== null && (cached_write_tokens === null || cached_write_1h_tokens > cached_write_tokens)) return undefined;
  if (reasoning_tokens !== null && output_tokens !== null && reasoning_tokens > output_tokens) return undefined;

  const cost = fields.cost_usd;
  let cost_usd: string | null;
  if (cost === undefined || cost === null) cost_usd = null;
  else if (typeof cost === 'string' && DECIMAL.test(cost)) cost_usd = cost;
  else if (typeof cost === 'number' && Number.isFinite(cost) && cost >= 0) cost_usd = numberToDecimalString(cost);
  else return undefined;
  const costSource = fields.cost_source;
  if (costSource !== undefined && costSource !== null && costSource !== 'provider' && costSource !== 'computed' && costSource !== 'fixed') return undefined;
  const cost_source = (costSource ?? null) as UsageRecord['cost_source'];
  if ((cost_usd === null) !== (cost_source === null)) return undefined;
  const basis = fields.measurement_basis;
  if (basis !== 'exact' && basis !== 'provider_aggregate' && basis !== 'derived_estimate') return undefined;
  // Optional texts: present in the result only when present in the input, as the schema does.
  const hasPriceRef = 'price_ref' in fields;
  const priceRef = fields.price_ref;
  if (hasPriceRef && !optionalText(priceRef)) return undefined;
  const hasUnpricedReason = 'unpriced_reason' in fields;
  const unpricedReason = fields.unpriced_reason;
  if (hasUnpricedReason && !optionalText(unpricedReason)) return undefined;

  let record: UsageRecord | UsageRow;
  if (sourceSystem === undefined) {
    record = {
      source_instance: sourceInstance,
      granularity,
      bucket_start: bucketStart,
      provider,
      model,
      account,
      api_key: apiKey,
      user_id: userId,
      labels,
      input_tokens,
      output_tokens,
      cached_read_tokens,
      cached_write_tokens,
      cached_write_1h_tokens,
      reasoning_tokens,
      requests,
      cost_usd,
      cost_source,
      measurement_basis: basis,
    };
  } else {
    // Every column named, in one literal: one object shape for every row of a cycle.
    record = {
      source_instance: sourceInstance === '' ? defaultInstance : sourceInstance,
      granularity,
      bucket_start: bucketStart,
      provider,
      model,
      account,
      api_key: apiKey,
      user_id: userId,
      labels,
      input_tokens,
      output_tokens,
      cached_read_tokens,
      cached_write_tokens,
      cached_write_1h_tokens,
      reasoning_tokens,
      requests,
      cost_usd,
      cost_source,
      measurement_basis: basis,
      source_system: sourceSystem,
    };
  }
  if (hasPriceRef) record.price_ref = priceRef as string | null | undefined;
  if (hasUnpricedReason) record.unpriced_reason = unpricedReason as string | null | undefined;
  return record;
}

function optionalText(value: unknown): boolean {
  return value === undefined || value === null || (typeof value === 'string' && value.length <= 500);
}

/**
 * Whether `text` is a clean dimension value of at most `maxBytes`. (dimensionTextProblem is cheap on the
 * common one-byte text: its searches for U+FFFD and surrogates give up at once on a string that holds none.)
 */
function cleanText(text: string, maxBytes: number): boolean {
  return dimensionTextProblem(text, maxBytes) === undefined;
}

function dimension(value: unknown): string | typeof UNSURE {
  if (value === undefined) return '';
  return typeof value === 'string' && cleanText(value, DIMENSION_LIMITS.textBytes) ? value : UNSURE;
}

function count(value: unknown): number | null | typeof UNSURE {
  if (value === undefined || value === null) return null;
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 ? value : UNSURE;
}

function checkLabels(value: unknown, memo: UsageCheckMemo | undefined): Record<string, string> | typeof UNSURE {
  if (value === undefined) return {};
  if (typeof value !== 'object' || value === null || Object.getPrototypeOf(value) !== Object.prototype) return UNSURE;
  // The schema's record reads the enumerable own keys and refuses symbol keys; `__proto__` it drops, this check leaves to it.
  if (Object.getOwnPropertySymbols(value).length > 0) return UNSURE;
  const fields = value as Record<string, unknown>;
  const labels: Record<string, string> = {};
  let count = 0;
  let units = 0;
  for (const key in fields) {
    const text = fields[key];
    if (key === '__proto__' || typeof text !== 'string') return UNSURE;
    if (memo === undefined || key !== memo.labelKeys[count]) {
      if (!cleanText(key, DIMENSION_LIMITS.labelKeyBytes)) return UNSURE;
      if (memo !== undefined) memo.labelKeys[count] = key;
    }
    if (!cleanText(text, DIMENSION_LIMITS.labelValueBytes)) return UNSURE;
    labels[key] = text;
    count += 1;
    units += key.length + text.length;
  }
  if (count > DIMENSION_LIMITS.labelCount) return UNSURE;
  // As JSON in UTF-8 a UTF-16 unit takes at most 6 bytes (an escape such as \u001f), a label 6 more (quotes,
  // colon, comma), the braces 2: labels whose bound is under the limit need not be serialised to be measured.
  if (2 + 6 * units + 6 * count <= DIMENSION_LIMITS.labelsBytes) return labels;
  return labelsProblem(labels) === undefined ? labels : UNSURE;
}

/** As usageRecordSchema turns a numeric cost into its decimal text. */
export function numberToDecimalString(value: number): string {
  const fixed = value.toFixed(12);
  return fixed.includes('.') ? fixed.replace(/0+$/, '').replace(/\.$/, '') : fixed;
}
