import { InvalidRecordError } from '../errors/invalid-record-error';
import { formatIssues } from '../schema/format-issues';
import type { TimeWindow } from '../time/time-window';
import { checkUsageRecord } from './check-usage-record';
import { type ProviderCostRow, providerCostRecordSchema } from './provider-cost-record';
import { type UsageRecord, type UsageRow, usageRecordSchema } from './usage-record';

/** Validates one adapter record; the error names each bad field. */
export function parseUsageRecord(input: unknown, where?: string): UsageRecord {
  // The same rules checked by hand first; the schema runs when they fail, to name the bad fields.
  const checked = checkUsageRecord(input);
  if (checked !== undefined) return checked;
  const result = usageRecordSchema.safeParse(input);
  if (!result.success) {
    throw new InvalidRecordError({ issues: formatIssues(result.error.issues), where });
  }
  return result.data;
}

/**
 * Validates a record and stamps it for the store: the adapter's source_system,
 * and `defaultInstance` where the record names no source_instance. With a
 * window, a record whose bucket lies outside it is refused: an adapter must not
 * write over buckets the worker did not ask for.
 */
export function toUsageRow(
  input: unknown,
  options: { sourceSystem: string; defaultInstance: string; window?: TimeWindow; where?: string },
): UsageRow {
  const record = parseUsageRecord(input, options.where);
  const window = options.window;
  if (window && (record.bucket_start < window.start || record.bucket_start >= window.end)) {
    throw new InvalidRecordError({
      issues: [
        `bucket_start: ${record.bucket_start.toISOString()} is outside the window [${window.start.toISOString()}, ${window.end.toISOString()})`,
      ],
      where: options.where,
    });
  }
  return stampUsageRow(record, options.sourceSystem, record.source_instance === '' ? options.defaultInstance : record.source_instance);
}

/**
 * The record as a row, every column named: one object shape for every row of
 * a cycle, where a spread of the record made each row the slow way.
 */
function stampUsageRow(record: UsageRecord, sourceSystem: string, sourceInstance: string): UsageRow {
  const row: UsageRow = {
    source_instance: sourceInstance,
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
