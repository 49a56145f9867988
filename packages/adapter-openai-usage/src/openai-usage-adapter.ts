import {
  AdapterHttpError,
  addBuckets,
  ceilToBucket,
  defineAdapter,
  floorToBucket,
  type HttpClient,
  type QueryValue,
  ResponseShapeError,
  type TimeWindow,
  type UsageRecordInput,
} from '@utt/core';
import { convertOpenaiCosts } from './convert-openai-costs';
import { describeOpenaiError } from './describe-openai-error';
import { convertOpenaiUsage } from './convert-openai-usage';
import { fetchOpenaiBuckets } from './fetch-openai-buckets';
import {
  openaiCompletionsPageSchema,
  openaiCostsPageSchema,
  openaiEmbeddingsPageSchema,
  openaiRequestsPageSchema,
} from './openai-usage-api';
import { type OpenaiGrouping, type OpenaiUsageConfig, type OpenaiUsageEndpoint, openaiUsageConfigSchema } from './openai-usage-config';

/** The API's group_by value for each configured grouping. */
const GROUP_BY: Record<OpenaiGrouping, string> = {
  project: 'project_id',
  api_key: 'api_key_id',
  user: 'user_id',
  batch: 'batch',
  service_tier: 'service_tier',
};

/** Which groupings each endpoint accepts (embeddings, images and audio know no batch or service tier). */
const ENDPOINT_GROUPINGS: Record<OpenaiUsageEndpoint, readonly OpenaiGrouping[]> = {
  completions: ['project', 'api_key', 'user', 'batch', 'service_tier'],
  embeddings: ['project', 'api_key', 'user'],
  images: ['project', 'api_key', 'user'],
  audio_speeches: ['project', 'api_key', 'user'],
  audio_transcriptions: ['project', 'api_key', 'user'],
};

/** The most buckets one page may hold, per width: fewest round trips. */
const PAGE_LIMIT = { hour: 168, day: 31 } as const;
const COSTS_PAGE_LIMIT = 180;

/**
 * The OpenAI Organization Usage API (completions, embeddings, images, audio)
 * and Costs API, read with an Admin API key. Usage rows are priced by the
 * worker; the Costs API's billed amounts go to provider_cost.
 */
export const openaiUsageAdapter = defineAdapter({
  specificationVersion: 'v1',
  id: 'openai-usage',
  sourceSystem: 'openai_api',
  configSchema: openaiUsageConfigSchema,
  capabilities: {
    granularities: ['hour', 'day'],
    cacheTokens: 'read_write',
    costSource: 'none',
    measurementBasis: 'exact',
    maxBackfillDays: null,
    windowed: true,
    // The provider revises recent buckets: re-collect them every cycle.
    defaultSettleHours: 48,
  },
  async check(context) {
    const { config, http } = context;
    const today = floorToBucket(context.now(), 'day');
    try {
      await http.requestJson({
        url: `${config.baseUrl}/organization/usage/completions`,
        query: { start_time: toUnixSeconds(addBuckets(today, 'day', -1)), end_time: toUnixSeconds(today), bucket_width: '1d', limit: 1 },
        headers: { authorization: `Bearer ${config.adminKey}` },
        schema: openaiCompletionsPageSchema,
        describeError: describeOpenaiError,
      });
      return { ok: true, detail: 'the admin key can read organization usage' };
    } catch (error) {
      if (AdapterHttpError.isInstance(error) || ResponseShapeError.isInstance(error)) return { ok: false, reason: error.message };
      throw error;
    }
  },
  async collect(window, context) {
    const { config, http } = context;
    const records: UsageRecordInput[] = [];
    for (const endpoint of config.endpoints) {
      for (const record of await collectEndpoint(http, config, endpoint, window)) records.push(record);
    }
    return records;
  },
  async collectProviderCosts(window, context) {
    const { config, http } = context;
    if (!config.costs) return [];
    // Billing is daily: every day the window touches.
    const days: TimeWindow = { start: floorToBucket(window.start, 'day'), end: ceilToBucket(window.end, 'day'), granularity: 'day' };
    const url = `${config.baseUrl}/organization/costs`;
    const buckets = await fetchOpenaiBuckets(http, {
      url,
      adminKey: config.adminKey,
      query: {
        start_time: toUnixSeconds(days.start),
        end_time: toUnixSeconds(days.end),
        bucket_width: '1d',
        group_by: config.groupBy.includes('project') ? ['line_item', 'project_id'] : ['line_item'],
        project_ids: config.projectIds,
        limit: COSTS_PAGE_LIMIT,
      },
      schema: openaiCostsPageSchema,
    });
    return convertOpenaiCosts(buckets, days, url);
  },
});

async function collectEndpoint(
  http: HttpClient,
  config: OpenaiUsageConfig,
  endpoint: OpenaiUsageEndpoint,
  window: TimeWindow,
): Promise<UsageRecordInput[]> {
  if (window.granularity !== 'hour' && window.granularity !== 'day') {
    throw new RangeError(`the OpenAI usage API has no ${window.granularity} buckets: use granularity hour or day`);
  }
  const url = `${config.baseUrl}/organization/usage/${endpoint}`;
  const groupBy = ['model', ...ENDPOINT_GROUPINGS[endpoint].filter((grouping) => config.groupBy.includes(grouping)).map((grouping) => GROUP_BY[grouping])];
  const query: Record<string, QueryValue | readonly QueryValue[] | undefined> = {
    start_time: toUnixSeconds(window.start),
    end_time: toUnixSeconds(window.end),
    bucket_width: window.granularity === 'hour' ? '1h' : '1d',
    group_by: groupBy,
    project_ids: config.projectIds,
    limit: PAGE_LIMIT[window.granularity],
  };
  const request = { url, adminKey: config.adminKey, query };
  switch (endpoint) {
    case 'completions':
      return convertOpenaiUsage({ endpoint, buckets: await fetchOpenaiBuckets(http, { ...request, schema: openaiCompletionsPageSchema }) }, window, url);
    case 'embeddings':
      return convertOpenaiUsage({ endpoint, buckets: await fetchOpenaiBuckets(http, { ...request, schema: openaiEmbeddingsPageSchema }) }, window, url);
    default:
      return convertOpenaiUsage({ endpoint, buckets: await fetchOpenaiBuckets(http, { ...request, schema: openaiRequestsPageSchema }) }, window, url);
  }
}

function toUnixSeconds(date: Date): number {
  return Math.floor(date.getTime() / 1000);
}
