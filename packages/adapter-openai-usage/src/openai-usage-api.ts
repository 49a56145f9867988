import { z } from '@utt/core';

// Tolerant response schemas: only the fields utt maps are checked, anything
// the provider adds is ignored. A field that is present with the wrong type
// fails the source with its path (data[0].results[1].input_tokens: …).

const count = z.number().int('expected a whole number').nonnegative('must not be negative');
const optionalCount = count.nullish();
const dimension = z.string().nullish();

const bucket = <R extends z.ZodType>(result: R) =>
  z.object({
    start_time: z.number().int('expected unix seconds'),
    end_time: z.number().int('expected unix seconds'),
    results: z.array(result),
  });

/** One page of /organization/usage/* or /organization/costs; `next_page` is the cursor for `page`. */
const page = <R extends z.ZodType>(result: R) =>
  z.object({
    data: z.array(bucket(result)),
    has_more: z.boolean(),
    next_page: z.string().nullish(),
  });

const groupingFields = {
  project_id: dimension,
  user_id: dimension,
  api_key_id: dimension,
  model: dimension,
  batch: z.boolean().nullish(),
  service_tier: dimension,
};

/** `input_tokens` counts every input token: cache reads and cache writes included. */
export const openaiCompletionsResultSchema = z.object({
  input_tokens: count,
  output_tokens: count,
  num_model_requests: count,
  input_cached_tokens: optionalCount,
  /** Added in the 2026-07 spec; absent from older answers. */
  input_cache_write_tokens: optionalCount,
  ...groupingFields,
});

export const openaiEmbeddingsResultSchema = z.object({
  input_tokens: count,
  num_model_requests: count,
  ...groupingFields,
});

/** Images and audio carry no tokens: only request counts are mapped. */
export const openaiRequestsResultSchema = z.object({
  num_model_requests: count,
  ...groupingFields,
});

export const openaiCostsResultSchema = z.object({
  amount: z
    .object({
      value: z.number().finite('expected a finite number'),
      currency: z.string().min(1, 'must not be empty'),
    })
    .nullish(),
  line_item: z.string().nullish(),
  project_id: dimension,
});

export const openaiCompletionsPageSchema = page(openaiCompletionsResultSchema);
export const openaiEmbeddingsPageSchema = page(openaiEmbeddingsResultSchema);
export const openaiRequestsPageSchema = page(openaiRequestsResultSchema);
export const openaiCostsPageSchema = page(openaiCostsResultSchema);

export type OpenaiCompletionsResult = z.output<typeof openaiCompletionsResultSchema>;
export type OpenaiEmbeddingsResult = z.output<typeof openaiEmbeddingsResultSchema>;
export type OpenaiRequestsResult = z.output<typeof openaiRequestsResultSchema>;
export type OpenaiCostsResult = z.output<typeof openaiCostsResultSchema>;
export type OpenaiUsageResult = OpenaiCompletionsResult | OpenaiEmbeddingsResult | OpenaiRequestsResult;

/** A bucket as the pager hands it on, with its path in the response for error messages. */
export type OpenaiBucket<R> = { readonly start_time: number; readonly end_time: number; readonly results: readonly R[]; readonly path: string };
