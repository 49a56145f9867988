// A minimal adapter module as a package would publish it: a default export.
import { z } from 'zod';
import { defineAdapter } from '../define-adapter';

export default defineAdapter({
  specificationVersion: 'v1',
  id: 'example-usage',
  sourceSystem: 'example_api',
  configSchema: z.object({ baseUrl: z.string(), days: z.number().default(7) }),
  capabilities: {
    granularities: ['day', 'hour'],
    cacheTokens: 'read',
    costSource: 'none',
    measurementBasis: 'provider_aggregate',
    maxBackfillDays: 30,
    windowed: true,
  },
  async collect(window) {
    return [
      {
        granularity: window.granularity,
        bucket_start: window.start,
        provider: 'example',
        model: 'example-1',
        measurement_basis: 'provider_aggregate',
        input_tokens: 1,
      },
    ];
  },
});

export const notAnAdapter = { hello: 'world' };
