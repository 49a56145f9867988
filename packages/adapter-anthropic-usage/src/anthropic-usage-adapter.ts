import {
  AdapterHttpError,
  addBuckets,
  ceilToBucket,
  defineAdapter,
  floorToBucket,
  ResponseShapeError,
  type TimeWindow,
} from '@utt/core';
import { anthropicCostReportPageSchema, anthropicMessagesUsagePageSchema } from './anthropic-usage-api';
import { type AnthropicGrouping, type AnthropicUsageConfig, anthropicUsageConfigSchema } from './anthropic-usage-config';
import { convertAnthropicCosts } from './convert-anthropic-costs';
import { convertAnthropicUsage } from './convert-anthropic-usage';
import { describeAnthropicError } from './describe-anthropic-error';
import { fetchAnthropicBuckets } from './fetch-anthropic-buckets';

/** The API's group_by[] value for each configured grouping. */
const GROUP_BY: Record<AnthropicGrouping, string> = {
  api_key: 'api_key_id',
  workspace: 'workspace_id',
  service_tier: 'service_tier',
  context_window: 'context_window',
  inference_geo: 'inference_geo',
};

/** The most buckets one page may hold, per width: fewest round trips. */
const PAGE_LIMIT = { hour: 168, day: 31 } as const;
const COST_PAGE_LIMIT = 31;

/**
 * The Anthropic Admin API's messages usage report and cost report, read with
 * an Admin API key. Usage rows are priced by the worker; the cost report's
 * billed amounts go to provider_cost.
 */
export const anthropicUsageAdapter = defineAdapter({
  specificationVersion: 'v1',
  id: 'anthropic-usage',
  sourceSystem: 'anthropic_api',
  configSchema: anthropicUsageConfigSchema,
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
        url: `${config.baseUrl}/v1/organizations/usage_report/messages`,
        query: { starting_at: toRfc3339(addBuckets(today, 'day', -1)), ending_at: toRfc3339(today), bucket_width: '1d', limit: 1 },
        headers: headersOf(config),
        schema: anthropicMessagesUsagePageSchema,
        describeError: describeAnthropicError,
      });
      return { ok: true, detail: 'the admin key can read the usage report' };
    } catch (error) {
      if (AdapterHttpError.isInstance(error) || ResponseShapeError.isInstance(error)) return { ok: false, reason: error.message };
      throw error;
    }
  },
  async collect(window, context) {
    const { config, http } = context;
    if (window.granularity !== 'hour' && window.granularity !== 'day') {
      throw new RangeError(`the Anthropic usage report has no ${window.granularity} buckets: use granularity hour or day`);
    }
    const url = `${config.baseUrl}/v1/organizations/usage_report/messages`;
    const buckets = await fetchAnthropicBuckets(http, {
      url,
      headers: headersOf(config),
      query: {
        starting_at: toRfc3339(window.start),
        ending_at: toRfc3339(window.end),
        bucket_width: window.granularity === 'hour' ? '1h' : '1d',
        'group_by[]': ['model', ...config.groupBy.map((grouping) => GROUP_BY[grouping])],
        limit: PAGE_LIMIT[window.granularity],
      },
      schema: anthropicMessagesUsagePageSchema,
    });
    return convertAnthropicUsage(buckets, window, url);
  },
  async collectProviderCosts(window, context) {
    const { config, http } = context;
    if (!config.costs) return [];
    // Billing is daily: every day the window touches.
    const days: TimeWindow = { start: floorToBucket(window.start, 'day'), end: ceilToBucket(window.end, 'day'), granularity: 'day' };
    const url = `${config.baseUrl}/v1/organizations/cost_report`;
    const buckets = await fetchAnthropicBuckets(http, {
      url,
      headers: headersOf(config),
      query: {
        starting_at: toRfc3339(days.start),
        ending_at: toRfc3339(days.end),
        bucket_width: '1d',
        'group_by[]': config.groupBy.includes('workspace') ? ['workspace_id', 'description'] : ['description'],
        limit: COST_PAGE_LIMIT,
      },
      schema: anthropicCostReportPageSchema,
    });
    return convertAnthropicCosts(buckets, days, url);
  },
});

function headersOf(config: AnthropicUsageConfig): Record<string, string> {
  return { 'x-api-key': config.adminKey, 'anthropic-version': config.anthropicVersion };
}

/** RFC 3339 in UTC, whole seconds: 2026-09-01T00:00:00Z. */
function toRfc3339(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}
