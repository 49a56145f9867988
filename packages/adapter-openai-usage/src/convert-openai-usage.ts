import { type Granularity, isAlignedToBucket, mergeUsageRecords, ResponseShapeError, type TimeWindow, type UsageRecordInput } from '@utt/core';
import type {
  OpenaiBucket,
  OpenaiCompletionsResult,
  OpenaiEmbeddingsResult,
  OpenaiRequestsResult,
} from './openai-usage-api';
import type { OpenaiUsageEndpoint } from './openai-usage-config';

export const OPENAI_PROVIDER = 'openai';

const BUCKET_SECONDS: Partial<Record<Granularity, number>> = { hour: 3_600, day: 86_400 };

export type OpenaiUsageBuckets =
  | { readonly endpoint: 'completions'; readonly buckets: readonly OpenaiBucket<OpenaiCompletionsResult>[] }
  | { readonly endpoint: 'embeddings'; readonly buckets: readonly OpenaiBucket<OpenaiEmbeddingsResult>[] }
  | { readonly endpoint: Exclude<OpenaiUsageEndpoint, 'completions' | 'embeddings'>; readonly buckets: readonly OpenaiBucket<OpenaiRequestsResult>[] };

/**
 * OpenAI usage buckets → token_usage records, in core's non-overlapping
 * semantics. OpenAI's `input_tokens` counts every input token, cache reads
 * (`input_cached_tokens`) and cache writes (`input_cache_write_tokens`)
 * included, so both are subtracted: input + cached_read + cached_write is the
 * reported `input_tokens`, exactly. A cache field the answer leaves out stays
 * NULL; a reported 0 stays 0. The usage API reports neither reasoning tokens
 * nor cache-write TTLs: those columns stay NULL.
 *
 * `endpointUrl` only names the endpoint in errors.
 */
export function convertOpenaiUsage(usage: OpenaiUsageBuckets, window: TimeWindow, endpointUrl: string): UsageRecordInput[] {
  const records: UsageRecordInput[] = [];
  for (const bucket of usage.buckets) {
    const bucketStart = checkBucket(bucket, window, endpointUrl);
    bucket.results.forEach((result, index) => {
      const path = `${bucket.path}.results[${index}]`;
      const base = {
        granularity: window.granularity,
        bucket_start: bucketStart,
        provider: OPENAI_PROVIDER,
        model: result.model ?? '',
        account: result.project_id ?? '',
        api_key: result.api_key_id ?? '',
        user_id: result.user_id ?? '',
        labels: labelsOf(usage.endpoint, result),
        measurement_basis: 'exact' as const,
      };
      switch (usage.endpoint) {
        case 'completions': {
          const completions = result as OpenaiCompletionsResult;
          const cachedRead = completions.input_cached_tokens ?? null;
          const cachedWrite = completions.input_cache_write_tokens ?? null;
          const input = completions.input_tokens - (cachedRead ?? 0) - (cachedWrite ?? 0);
          if (input < 0) {
            throw new ResponseShapeError({
              endpoint: endpointUrl,
              issues: [`${path}.input_tokens: smaller than input_cached_tokens + input_cache_write_tokens, which it includes`],
            });
          }
          records.push({
            ...base,
            input_tokens: input,
            output_tokens: completions.output_tokens,
            cached_read_tokens: cachedRead,
            cached_write_tokens: cachedWrite,
            requests: completions.num_model_requests,
          });
          break;
        }
        case 'embeddings':
          // Embeddings have no cache and no output: those columns are unknown, not 0.
          records.push({ ...base, input_tokens: (result as OpenaiEmbeddingsResult).input_tokens, requests: result.num_model_requests });
          break;
        default:
          // Images, speech and transcription are billed per image, character or second, not per token.
          records.push({ ...base, requests: result.num_model_requests });
      }
    });
  }
  // Two results for one key (a null and an empty project id) are added up, not written twice.
  return mergeUsageRecords(records);
}

function labelsOf(endpoint: OpenaiUsageEndpoint, result: OpenaiRequestsResult): Record<string, string> {
  const labels: Record<string, string> = { endpoint };
  if (typeof result.batch === 'boolean') labels.batch = String(result.batch);
  if (typeof result.service_tier === 'string' && result.service_tier !== '') labels.service_tier = result.service_tier;
  return labels;
}

/** The bucket's start, after checking it is a whole bucket of the asked width inside the window. */
export function checkBucket(
  bucket: { readonly start_time: number; readonly end_time: number; readonly path: string },
  window: TimeWindow,
  endpointUrl: string,
): Date {
  const width = BUCKET_SECONDS[window.granularity];
  const start = new Date(bucket.start_time * 1000);
  const issues: string[] = [];
  if (width !== undefined && bucket.end_time - bucket.start_time !== width) {
    issues.push(`${bucket.path}.end_time: the bucket is not one ${window.granularity} wide`);
  }
  if (!isAlignedToBucket(start, window.granularity) || start < window.start || start >= window.end) {
    issues.push(
      `${bucket.path}.start_time: ${start.toISOString()} is not the start of a ${window.granularity} in the requested window [${window.start.toISOString()}, ${window.end.toISOString()})`,
    );
  }
  if (issues.length > 0) throw new ResponseShapeError({ endpoint: endpointUrl, issues });
  return start;
}
