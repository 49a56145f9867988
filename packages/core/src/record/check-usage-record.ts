import { isAlignedToBucket } from '../time/bucket';
import { DIMENSION_LIMITS, dimensionTextProblem, EARLIEST_BUCKET, LATEST_BUCKET_END, labelsProblem } from './dimension-text';
import type { UsageRecord } from './usage-record';

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
const GRANULARITY = new Set(['hour', 'day', 'month']);
const COST_SOURCE = new Set(['provider', 'computed', 'fixed']);
const MEASUREMENT_BASIS = new Set(['exact', 'provider_aggregate', 'derived_estimate']);
const DECIMAL = /^\d+(\.\d+)?$/;
const EARLIEST = EARLIEST_BUCKET.getTime();
const LATEST_END = LATEST_BUCKET_END.getTime();

/** Marks a value the check is not sure of: the schema then decides, and names the problem. */
const UNSURE = Symbol('unsure');

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
export function checkUsageRecord(input: unknown): UsageRecord | undefined {
  if (typeof input !== 'object' || input === null || Object.getPrototypeOf(input) !== Object.prototype) return undefined;
  const fields = input as Record<string, unknown>;
  for (const key in fields) if (!KNOWN_FIELDS.has(key)) return undefined;

  const granularity = fields.granularity;
  if (typeof granularity !== 'string' || !GRANULARITY.has(granularity)) return undefined;
  const bucketStart = fields.bucket_start;
  if (!(bucketStart instanceof Date) || Object.getPrototypeOf(bucketStart) !== Date.prototype || Number.isNaN(bucketStart.getTime())) return undefined;
  const time = bucketStart.getTime();
  if (!(time >= EARLIEST && time < LATEST_END)) return undefined;
  // Hours and days are whole multiples since the epoch in UTC (no leap seconds in JavaScript time).
  if (granularity === 'hour' ? time % 3_600_000 !== 0 : granularity === 'day' ? time % 86_400_000 !== 0 : !isAlignedToBucket(bucketStart, 'month')) return undefined;
  const provider = fields.provider;
  if (typeof provider !== 'string' || provider.length === 0 || dimensionTextProblem(provider) !== undefined) return undefined;
  const model = fields.model;
  if (typeof model !== 'string' || dimensionTextProblem(model) !== undefined) return undefined;
  const sourceInstance = dimension(fields.source_instance);
  const account = dimension(fields.account);
  const apiKey = dimension(fields.api_key);
  const userId = dimension(fields.user_id);
  if (sourceInstance === UNSURE || account === UNSURE || apiKey === UNSURE || userId === UNSURE) return undefined;
  const labels = checkLabels(fields.labels);
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
  if (costSource !== undefined && costSource !== null && !(typeof costSource === 'string' && COST_SOURCE.has(costSource))) return undefined;
  const cost_source = (costSource ?? null) as UsageRecord['cost_source'];
  if ((cost_usd === null) !== (cost_source === null)) return undefined;
  const basis = fields.measurement_basis;
  if (typeof basis !== 'string' || !MEASUREMENT_BASIS.has(basis)) return undefined;

  const record: UsageRecord = {
    source_instance: sourceInstance,
    granularity: granularity as UsageRecord['granularity'],
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
    measurement_basis: basis as UsageRecord['measurement_basis'],
  };
  // Optional texts: present in the result only when present in the input, as the schema does.
  for (const key of ['price_ref', 'unpriced_reason'] as const) {
    if (!(key in fields)) continue;
    const value = fields[key];
    if (value !== undefined && value !== null && !(typeof value === 'string' && value.length <= 500)) return undefined;
    record[key] = value as string | null | undefined;
  }
  return record;
}

function dimension(value: unknown): string | typeof UNSURE {
  if (value === undefined) return '';
  return typeof value === 'string' && dimensionTextProblem(value) === undefined ? value : UNSURE;
}

function count(value: unknown): number | null | typeof UNSURE {
  if (value === undefined || value === null) return null;
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 ? value : UNSURE;
}

function checkLabels(value: unknown): Record<string, string> | typeof UNSURE {
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
    if (dimensionTextProblem(key, DIMENSION_LIMITS.labelKeyBytes) !== undefined) return UNSURE;
    if (dimensionTextProblem(text, DIMENSION_LIMITS.labelValueBytes) !== undefined) return UNSURE;
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
