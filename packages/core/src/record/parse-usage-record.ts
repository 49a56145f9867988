import { InvalidRecordError } from '../errors/invalid-record-error';
import { formatIssues } from '../schema/format-issues';
import type { TimeWindow } from '../time/time-window';
import { checkUsageRecord, checkUsageRow, createUsageCheckMemo } from './check-usage-record';
import { type ProviderCostRow, providerCostRecordSchema } from './provider-cost-record';
import { type UsageRecord, type UsageRow, usageRecordSchema } from './usage-record';

/** Validates one adapter record; the error names each bad field. */
export function parseUsageRecord(input: unknown, where?: string): UsageRecord {
  // The same rules checked by hand first; the schema runs when they fail, to name the bad fields.
  return checkUsageRecord(input) ?? parseWithSchema(input, where);
}

function parseWithSchema(input: unknown, where: string | undefined): UsageRecord {
  const result = usageRecordSchema.safeParse(input);
  if (!result.success) {
    throw new InvalidRecordError({ issues: formatIssues(result.error.issues), where });
  }
  return result.data;
}

export type ToUsageRowOptions = {
  readonly sourceSystem: string;
  /** The source_instance of a record that names none. */
  readonly defaultInstance: string;
  /** With a window, a record whose bucket lies outside it is refused. */
  readonly window?: TimeWindow;
  /** Where the record came from, for the error: `source "openai" record 7`. */
  readonly where?: string;
};

/**
 * Validates a record and stamps it for the store: the adapter's source_system,
 * and `defaultInstance` where the record names no source_instance. With a
 * window, a record whose bucket lies outside it is refused: an adapter must not
 * write over buckets the worker did not ask for.
 */
export function toUsageRow(input: unknown, options: ToUsageRowOptions): UsageRow {
  return toUsageRowWith(input, options);
}

/**
 * toUsageRow for every record of a batch (a cycle's collect() result): the
 * same rows, and the same error for the first record refused, with `where`
 * asked for that record only. Records of one batch share a memo of what was
 * already found valid (texts, the order of fields), so that 16,000 records of
 * a handful of models and sessions do not check the same texts 16,000 times.
 */
export function toUsageRows(
  inputs: readonly unknown[],
  options: Omit<ToUsageRowOptions, 'where'> & { readonly where?: (index: number) => string },
): UsageRow[] {
  const memo = createUsageCheckMemo();
  const rowOptions: ToUsageRowOptions = { sourceSystem: options.sourceSystem, defaultInstance: options.defaultInstance, window: options.window };
  const rows: UsageRow[] = new Array(inputs.length);
  for (let index = 0; index < inputs.length; index += 1) {
    const input = inputs[index];
    const row = checkUsageRow(input, options.sourceSystem, options.defaultInstance, memo);
    rows[index] =
      row !== undefined && insideWindow(row, options.window)
        ? row
        : toUsageRowWith(input, options.where === undefined ? rowOptions : { ...rowOptions, where: options.where(index) });
  }
  return rows;
}

function toUsageRowWith(input: unknown, options: ToUsageRowOptions): UsageRow {
  const checked = checkUsageRow(input, options.sourceSystem, options.defaultInstance);
  const row = checked ?? stampUsageRow(parseWithSchema(input, options.where), options.sourceSystem, options.defaultInstance);
  const window = options.window;
  if (window && !insideWindow(row, window)) {
    throw new InvalidRecordError({
      issues: [
        `bucket_start: ${row.bucket_start.toISOString()} is outside the window [${window.start.toISOString()}, ${window.end.toISOString()})`,
      ],
      where: options.where,
    });
  }
  return row;
}

function insideWindow(row: UsageRow, window: TimeWindow | undefined): boolean {
  if (window === undefined) return true;
  const time = row.bucket_start.getTime();
  return time >= window.start.getTime() && time < window.end.getTime();
}

/**
 * The record as a row, every column named: one object shape for every row of
 * a cycle, where a spread of the record made each row the slow way.
 */
function stampUsageRow(record: UsageRecord, sourceSystem: string, defaultInstance: string): UsageRow {
  const row: UsageRow = {
    source_instance: record.source_instance === '' ? defaultInstance : record.source_instance,
    granularity: record.granularity,
    bucket_start: record.bucket_start,
    provider: record.provider,
    model: record.model,
    account: record.account,
    api_key: record.api_key,
    user_id: record.user_id,
    labels: record.labels,
    input_tokens: record.input_tokens,
    output_tokens: record.output_tokens,
    cached_read_tokens: record.cached_read_tokens,
    cached_write_tokens: record.cached_write_tokens,
    cached_write_1h_tokens: record.cached_write_1h_tokens,
    reasoning_tokens: record.reasoning_tokens,
    requests: record.requests,
    cost_usd: record.cost_usd,
    cost_source: record.cost_source,
    measurement_basis: record.measurement_basis,
    source_system: sourceSystem,
  };
  if ('price_ref' in record) row.price_ref = record.price_ref;
  if ('unpriced_reason' in record) row.unpriced_reason = record.unpriced_reason;
  return row;
}

/** Validates a provider cost record and stamps it for the store, like toUsageRow. */
export function toProviderCostRow(
  input: unknown,
  options: { sourceSystem: string; defaultInstance: string; window?: TimeWindow; where?: string },
): ProviderCostRow {
  const result = providerCostRecordSchema.safeParse(input);
  if (!result.success) throw new InvalidRecordError({ issues: formatIssues(result.error.issues), where: options.where });
  const record = result.data;
  const window = options.window;
  // Costs are daily: a day that overlaps the window belongs to it.
  if (window && (record.bucket_start.getTime() + 86_400_000 <= window.start.getTime() || record.bucket_start >= window.end)) {
    throw new InvalidRecordError({
      issues: [`bucket_start: ${record.bucket_start.toISOString()} is outside the window [${window.start.toISOString()}, ${window.end.toISOString()})`],
      where: options.where,
    });
  }
  return {
    ...record,
    source_system: options.sourceSystem,
    source_instance: record.source_instance === '' ? options.defaultInstance : record.source_instance,
  };
}
