import { z } from 'zod';
import { isAlignedToBucket } from '../time/bucket';
import { GRANULARITIES } from '../time/granularity';
import { numberToDecimalString } from './check-usage-record';
import { bucketRangeProblem, dimensionTextProblem, labelsProblem } from './dimension-text';

/** Token and request counters of a token_usage row, in column order. */
export const TOKEN_COLUMNS = [
  'input_tokens',
  'output_tokens',
  'cached_read_tokens',
  'cached_write_tokens',
  'cached_write_1h_tokens',
  'reasoning_tokens',
  'requests',
] as const;

export type TokenColumn = (typeof TOKEN_COLUMNS)[number];

/** The columns that, with source_system, form the conflict key of token_usage. */
export const KEY_COLUMNS = [
  'source_system',
  'source_instance',
  'granularity',
  'bucket_start',
  'provider',
  'model',
  'account',
  'api_key',
  'user_id',
  'labels',
] as const;

export const MEASUREMENT_BASES = ['exact', 'provider_aggregate', 'derived_estimate'] as const;
export type MeasurementBasis = (typeof MEASUREMENT_BASES)[number];

export const COST_SOURCES = ['provider', 'computed', 'fixed'] as const;
export type CostSource = (typeof COST_SOURCES)[number];

/**
 * A count the source reported, or null when it did not report it (invariant 2:
 * unknown is NULL, never 0).
 */
const countSchema = z
  .number({ error: (issue) => (issue.input === undefined ? 'required' : 'expected a whole number or null') })
  .int('expected a whole number')
  .nonnegative('must not be negative')
  .max(Number.MAX_SAFE_INTEGER, 'too large')
  .nullable()
  .default(null);

/** Text of the conflict key: bounded in length, no NUL, valid Unicode. */
const dimensionTextSchema = z.string().superRefine((text, context) => {
  const problem = dimensionTextProblem(text);
  if (problem) context.addIssue({ code: 'custom', message: problem });
});

/** A dimension: '' means "not applicable", so the conflict key treats it as equal (invariant 5). */
const dimensionSchema = dimensionTextSchema.default('');

const decimalPattern = /^\d+(\.\d+)?$/;

const costSchema = z
  .union([z.number().nonnegative().finite(), z.string().regex(decimalPattern, 'expected a non-negative decimal')])
  .nullable()
  .default(null)
  .transform((value) => (value === null ? null : typeof value === 'number' ? numberToDecimalString(value) : value));


const bucketStartSchema = z.union([z.date(), z.iso.datetime({ offset: true }).transform((text) => new Date(text))]);

/**
 * One token_usage row as an adapter returns it (source_system is stamped by the
 * worker from the adapter's definition).
 *
 * Token semantics (the buckets never overlap):
 * - `input_tokens`: input NOT counted as a cache read or a cache write; total
 *   input = input_tokens + cached_read_tokens + cached_write_tokens.
 * - `output_tokens`: all output, reasoning included.
 * - `reasoning_tokens`: the part of output that was reasoning (null if unknown).
 * - `cached_write_tokens`: all cache writes; `cached_write_1h_tokens` is the
 *   part of them made with a 1-hour TTL (null if unknown).
 * - `requests`: calls counted in the bucket (null if unknown).
 *
 * Any counter the source does not report stays null; 0 means it reported zero.
 */
export const usageRecordSchema = z
  .strictObject({
    source_instance: dimensionSchema,
    granularity: z.enum(GRANULARITIES),
    bucket_start: bucketStartSchema,
    provider: dimensionTextSchema.min(1, 'required'),
    model: dimensionTextSchema,
    account: dimensionSchema,
    api_key: dimensionSchema,
    user_id: dimensionSchema,
    labels: z
      .record(z.string(), z.string())
      .default({})
      .superRefine((labels, context) => {
        const problem = labelsProblem(labels);
        if (problem) context.addIssue({ code: 'custom', message: problem });
      }),
    input_tokens: countSchema,
    output_tokens: countSchema,
    cached_read_tokens: countSchema,
    cached_write_tokens: countSchema,
    cached_write_1h_tokens: countSchema,
    reasoning_tokens: countSchema,
    requests: countSchema,
    cost_usd: costSchema,
    cost_source: z.enum(COST_SOURCES).nullable().default(null),
    /** Which price a computed cost used (source, key, effective date), so history stays auditable. */
    price_ref: z.string().max(500).nullable().optional(),
    /** Why a row is unpriced (cost NULL), e.g. `no_price`; unpriced is a state, never $0. */
    unpriced_reason: z.string().max(500).nullable().optional(),
    measurement_basis: z.enum(MEASUREMENT_BASES),
  })
  .superRefine((record, context) => {
    // zod runs this even when a field already failed (a negative count is not an
    // aborting issue): cross-field rules only look at fields that passed, so an
    // error names the bad field and not a neighbour it happens to be compared with.
    const failed = new Set(context.issues.map((issue) => issue.path?.[0]));
    const valid = (...fields: string[]) => fields.every((field) => !failed.has(field));
    if (!valid('bucket_start', 'granularity')) {
      // The field already has its issue.
    } else if (Number.isNaN(record.bucket_start.getTime())) {
      context.addIssue({ code: 'custom', path: ['bucket_start'], message: 'invalid date' });
    } else if (bucketRangeProblem(record.bucket_start)) {
      context.addIssue({ code: 'custom', path: ['bucket_start'], message: bucketRangeProblem(record.bucket_start) as string });
    } else if (!isAlignedToBucket(record.bucket_start, record.granularity)) {
      context.addIssue({
        code: 'custom',
        path: ['bucket_start'],
        message: `${record.bucket_start.toISOString()} is not the start of a UTC ${record.granularity}`,
      });
    }
    if (valid('cost_usd', 'cost_source') && (record.cost_usd === null) !== (record.cost_source === null)) {
      context.addIssue({
        code: 'custom',
        path: ['cost_source'],
        message: 'cost_usd and cost_source are set together or not at all',
      });
    }
    const writesValid = valid('cached_write_tokens', 'cached_write_1h_tokens');
    if (
      writesValid &&
      record.cached_write_1h_tokens !== null &&
      record.cached_write_tokens !== null &&
      record.cached_write_1h_tokens > record.cached_write_tokens
    ) {
      context.addIssue({
        code: 'custom',
        path: ['cached_write_1h_tokens'],
        message: 'is part of cached_write_tokens and cannot exceed it',
      });
    }
    if (writesValid && record.cached_write_1h_tokens !== null && record.cached_write_tokens === null) {
      context.addIssue({
        code: 'custom',
        path: ['cached_write_tokens'],
        message: 'must be known when cached_write_1h_tokens is',
      });
    }
    if (
      valid('output_tokens', 'reasoning_tokens') &&
      record.reasoning_tokens !== null &&
      record.output_tokens !== null &&
      record.reasoning_tokens > record.output_tokens
    ) {
      context.addIssue({
        code: 'custom',
        path: ['reasoning_tokens'],
        message: 'is part of output_tokens and cannot exceed it',
      });
    }
  });

/** What an adapter may return: defaults ('' dimensions, null counters) may be left out. */
export type UsageRecordInput = z.input<typeof usageRecordSchema>;

/** A validated record with every column present. */
export type UsageRecord = z.output<typeof usageRecordSchema>;

/** A record ready for the store: validated and stamped with its source_system. */
export type UsageRow = UsageRecord & { readonly source_system: string };

/** A stable string for the conflict key of a row, for de-duplication in memory. */
export function usageRowKey(row: UsageRow): string {
  const labels = Object.keys(row.labels)
    .sort()
    .map((key) => [key, row.labels[key]]);
  return JSON.stringify([
    row.source_system,
    row.source_instance,
    row.granularity,
    row.bucket_start.getTime(),
    row.provider,
    row.model,
    row.account,
    row.api_key,
    row.user_id,
    labels,
  ]);
}
