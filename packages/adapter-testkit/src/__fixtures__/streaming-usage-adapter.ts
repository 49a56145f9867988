// An adapter without HTTP that streams hourly batches, for the kit's own tests.
import { bucketStartsBetween, defineAdapter, z } from '@utt/core';

export const streamingUsageAdapter = defineAdapter({
  specificationVersion: 'v1',
  id: 'streaming-example',
  sourceSystem: 'streaming_example',
  configSchema: z.strictObject({ tokensPerHour: z.number().int().nonnegative(), model: z.string().default('local') }),
  capabilities: {
    granularities: ['hour'],
    cacheTokens: 'none',
    costSource: 'none',
    measurementBasis: 'exact',
    maxBackfillDays: null,
    windowed: true,
  },
  async *collect(window, context) {
    for (const hour of bucketStartsBetween(window.start, window.end, 'hour')) {
      yield [
        {
          granularity: 'hour' as const,
          bucket_start: hour,
          provider: 'ollama',
          model: context.config.model,
          input_tokens: context.config.tokensPerHour,
          output_tokens: Math.floor(context.config.tokensPerHour / 2),
          reasoning_tokens: null,
          requests: 3,
          measurement_basis: 'exact' as const,
        },
      ];
    }
  },
});
