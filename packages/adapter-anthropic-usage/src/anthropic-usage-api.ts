import { z } from '@utt/core';

// Tolerant response schemas: only the fields utt maps are checked, anything
// the provider adds is ignored. A field that is present with the wrong type
// fails the source with its path (data[0].results[1].uncached_input_tokens: …).

const count = z.number().int('expected a whole number').nonnegative('must not be negative');
const dimension = z.string().nullish();
const rfc3339 = z.iso.datetime({ offset: true, error: 'expected an RFC 3339 timestamp' });

const page = <R extends z.ZodType>(result: R) =>
  z.object({
    data: z.array(z.object({ starting_at: rfc3339, ending_at: rfc3339, results: z.array(result) })),
    has_more: z.boolean(),
    next_page: z.string().nullish(),
  });

/** `uncached_input_tokens` already excludes cache reads and writes. */
export const anthropicMessagesUsageResultSchema = z.object({
  uncached_input_tokens: count,
  output_tokens: count,
  cache_read_input_tokens: count.nullish(),
  cache_creation: z
    .object({
      ephemeral_5m_input_tokens: count,
      /** Absent from answers older than 1-hour caching. */
      ephemeral_1h_input_tokens: count.nullish(),
    })
    .nullish(),
  api_key_id: dimension,
  workspace_id: dimension,
  model: dimension,
  service_tier: dimension,
  context_window: dimension,
  inference_geo: dimension,
});

/** `amount` is a decimal string in cents ("123.45" is $1.2345). */
export const anthropicCostResultSchema = z.object({
  amount: z.string().regex(/^-?\d+(\.\d+)?$/, 'expected a decimal string (cents)'),
  currency: z.string().min(1, 'must not be empty'),
  workspace_id: dimension,
  description: dimension,
  cost_type: dimension,
  model: dimension,
});

export const anthropicMessagesUsagePageSchema = page(anthropicMessagesUsageResultSchema);
export const anthropicCostReportPageSchema = page(anthropicCostResultSchema);

export type AnthropicMessagesUsageResult = z.output<typeof anthropicMessagesUsageResultSchema>;
export type AnthropicCostResult = z.output<typeof anthropicCostResultSchema>;

/** A bucket as the pager hands it on, with its path in the response for error messages. */
export type AnthropicBucket<R> = {
  readonly starting_at: string;
  readonly ending_at: string;
  readonly results: readonly R[];
  readonly path: string;
};
