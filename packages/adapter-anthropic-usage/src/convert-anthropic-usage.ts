import { type Granularity, isAlignedToBucket, mergeUsageRecords, ResponseShapeError, type TimeWindow, type UsageRecordInput } from '@utt/core';
import type { AnthropicBucket, AnthropicMessagesUsageResult } from './anthropic-usage-api';

export const ANTHROPIC_PROVIDER = 'anthropic';

const BUCKET_MS: Partial<Record<Granularity, number>> = { hour: 3_600_000, day: 86_400_000 };

/**
 * Messages usage report buckets → token_usage records, in core's
 * non-overlapping semantics. Anthropic's `uncached_input_tokens` already
 * excludes cache reads and writes, so it is input as is; cache writes are the
 * 5-minute plus the 1-hour part, and `cached_write_1h_tokens` is the 1-hour
 * part. Total input (uncached + cache read + 5m + 1h) is preserved exactly. A
 * cache field the answer leaves out stays NULL; a reported 0 stays 0. The
 * report counts no requests and no reasoning tokens: those stay NULL.
 *
 * `endpointUrl` only names the endpoint in errors.
 */
export function convertAnthropicUsage(
  buckets: readonly AnthropicBucket<AnthropicMessagesUsageResult>[],
  window: TimeWindow,
  endpointUrl: string,
): UsageRecordInput[] {
  const records: UsageRecordInput[] = [];
  for (const bucket of buckets) {
    const bucketStart = checkBucket(bucket, window, endpointUrl);
    for (const result of bucket.results) {
      const creation = result.cache_creation ?? null;
      const write1h = creation?.ephemeral_1h_input_tokens ?? null;
      records.push({
        granularity: window.granularity,
        bucket_start: bucketStart,
        provider: ANTHROPIC_PROVIDER,
        model: result.model ?? '',
        account: result.workspace_id ?? '',
        api_key: result.api_key_id ?? '',
        user_id: '',
        labels: labelsOf(result),
        input_tokens: result.uncached_input_tokens,
        output_tokens: result.output_tokens,
        cached_read_tokens: result.cache_read_input_tokens ?? null,
        cached_write_tokens: creation === null ? null : creation.ephemeral_5m_input_tokens + (write1h ?? 0),
        cached_write_1h_tokens: creation === null ? null : write1h,
        measurement_basis: 'exact',
      });
    }
  }
  // Two results for one key (a null and an empty project id) are added up, not written twice.
  return mergeUsageRecords(records);
}

function labelsOf(result: AnthropicMessagesUsageResult): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const field of ['service_tier', 'context_window', 'inference_geo'] as const) {
    const value = result[field];
    if (typeof value === 'string' && value !== '') labels[field] = value;
  }
  return labels;
}

/** The bucket's start, after checking it is a whole bucket of the asked width inside the window. */
export function checkBucket(
  bucket: { readonly starting_at: string; readonly ending_at: string; readonly path: string },
  window: TimeWindow,
  endpointUrl: string,
): Date {
  const start = new Date(bucket.starting_at);
  const end = new Date(bucket.ending_at);
  const width = BUCKET_MS[window.granularity];
  const issues: string[] = [];
  if (width !== undefined && end.getTime() - start.getTime() !== width) {
    issues.push(`${bucket.path}.ending_at: the bucket is not one ${window.granularity} wide`);
  }
  if (!isAlignedToBucket(start, window.granularity) || start < window.start || start >= window.end) {
    issues.push(
      `${bucket.path}.starting_at: ${start.toISOString()} is not the start of a ${window.granularity} in the requested window [${window.start.toISOString()}, ${window.end.toISOString()})`,
    );
  }
  if (issues.length > 0) throw new ResponseShapeError({ endpoint: endpointUrl, issues });
  return start;
}
