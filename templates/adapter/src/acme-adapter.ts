import { defineAdapter, requireSecret, type UsageRecordInput, z } from '@utt/core';
import { acmeConfigSchema } from './acme-config';

// Only the fields we map: Acme may add fields without breaking us.
const usagePageSchema = z.object({
  data: z.array(
    z.object({
      hour: z.string(),
      model: z.string(),
      prompt_tokens: z.number().int(), // includes cached tokens, like OpenAI's
      cached_tokens: z.number().int().nullish(),
      completion_tokens: z.number().int(),
    }),
  ),
  next: z.string().nullish(),
});

export const acmeAdapter = defineAdapter({
  specificationVersion: 'v1',
  id: 'acme',
  sourceSystem: 'acme_api',
  configSchema: acmeConfigSchema,
  capabilities: { granularities: ['hour'], cacheTokens: 'read', costSource: 'none', measurementBasis: 'exact', maxBackfillDays: 30, windowed: true },
  async collect(window, { config, http }) {
    const records: UsageRecordInput[] = [];
    let cursor: string | undefined;
    do {
      const page = await http.requestJson({
        url: `${config.baseUrl}/usage`,
        query: { start: window.start.toISOString(), end: window.end.toISOString(), cursor },
        headers: { authorization: `Bearer ${requireSecret(config.apiKey, 'apiKey')}` },
        schema: usagePageSchema,
      });
      for (const row of page.data) {
        const cached = row.cached_tokens ?? null;
        records.push({
          granularity: 'hour',
          bucket_start: row.hour,
          provider: 'acme',
          model: row.model,
          input_tokens: row.prompt_tokens - (cached ?? 0), // non-overlapping: input excludes cache reads
          cached_read_tokens: cached, // null when Acme does not say: unknown, not 0
          output_tokens: row.completion_tokens,
          measurement_basis: 'exact',
        });
      }
      cursor = page.next ?? undefined;
    } while (cursor);
    return records;
  },
});
