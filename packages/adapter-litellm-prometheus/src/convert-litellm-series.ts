import type { ProviderCostRecordInput, TimeWindow, UsageRecordInput } from '@utt/core';
import type { LitellmPrometheusConfig } from './litellm-prometheus-config';
import type { PrometheusSeries } from './prometheus-api';

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;

/** The token and request metrics, each an hourly sum per label set (spend is handled apart). */
export type TokenMetricKey = 'input' | 'output' | 'cacheRead' | 'cacheWrite' | 'reasoning' | 'requests';
export const TOKEN_METRIC_KEYS: readonly TokenMetricKey[] = ['input', 'output', 'cacheRead', 'cacheWrite', 'reasoning', 'requests'];

type Dimensions = { provider: string; model: string; account: string; api_key: string; user_id: string; labels: Record<string, string> };

/** Every label a query must keep in its `sum by (…)`. */
export function groupingLabels(config: LitellmPrometheusConfig): string[] {
  const { dimensions } = config;
  const all = [...dimensions.model, ...dimensions.provider, ...dimensions.apiKey, ...dimensions.userId, ...dimensions.account, ...dimensions.labels];
  return [...new Set(all)];
}

/** LiteLLM writes the string "None" for a missing value; older versions lack some labels altogether. */
function firstValue(metric: Readonly<Record<string, string>>, labels: readonly string[]): string {
  for (const label of labels) {
    const value = metric[label];
    if (value !== undefined && value !== '' && value !== 'None') return value;
  }
  return '';
}

export function resolveDimensions(metric: Readonly<Record<string, string>>, config: LitellmPrometheusConfig): Dimensions {
  const { dimensions } = config;
  const labels: Record<string, string> = {};
  for (const label of dimensions.labels) {
    const value = firstValue(metric, [label]);
    if (value !== '') labels[label] = value;
  }
  return {
    provider: firstValue(metric, dimensions.provider) || config.defaultProvider,
    model: firstValue(metric, dimensions.model),
    account: firstValue(metric, dimensions.account),
    api_key: firstValue(metric, dimensions.apiKey),
    user_id: firstValue(metric, dimensions.userId),
    labels,
  };
}

function dimensionKey(dimensions: Dimensions): string {
  const labels = Object.keys(dimensions.labels)
    .sort()
    .map((key) => [key, dimensions.labels[key]]);
  return JSON.stringify([dimensions.provider, dimensions.model, dimensions.account, dimensions.api_key, dimensions.user_id, labels]);
}

/**
 * Hourly sums from query_range (the point at t covers the hour that ends at
 * t) merged per row: several label sets can map to one row (alias and hash
 * of one key, a label left out), so their sums add up.
 */
function accumulate(
  seriesByMetric: ReadonlyMap<string, readonly PrometheusSeries[]>,
  config: LitellmPrometheusConfig,
  window: TimeWindow,
): Map<string, { dimensions: Dimensions; hours: Map<number, Map<string, number>> }> {
  const groups = new Map<string, { dimensions: Dimensions; hours: Map<number, Map<string, number>> }>();
  const start = window.start.getTime();
  const end = window.end.getTime();
  for (const [metricKey, seriesList] of seriesByMetric) {
    for (const series of seriesList) {
      const dimensions = resolveDimensions(series.metric, config);
      const key = dimensionKey(dimensions);
      let group = groups.get(key);
      if (!group) groups.set(key, (group = { dimensions, hours: new Map() }));
      for (const [time, text] of series.values) {
        const value = Number(text);
        if (!Number.isFinite(value)) continue;
        const bucket = Math.round(time * 1000) - HOUR_MS;
        if (bucket < start || bucket >= end) continue;
        let hour = group.hours.get(bucket);
        if (!hour) group.hours.set(bucket, (hour = new Map()));
        hour.set(metricKey, (hour.get(metricKey) ?? 0) + value);
      }
    }
  }
  return groups;
}

/**
 * Hourly token_usage records from the per-metric results. A metric with no
 * series for a row's hour leaves its column NULL; a series that exists but
 * did not grow gives 0. LiteLLM's input counter includes cache reads (and
 * cache writes, see inputIncludesCacheWrite): they are taken out so the
 * columns never overlap.
 */
export function convertLitellmSeries(
  seriesByMetric: ReadonlyMap<TokenMetricKey, readonly PrometheusSeries[]>,
  config: LitellmPrometheusConfig,
  window: TimeWindow,
  onAdjust: (message: string, fields: Record<string, unknown>) => void = () => {},
): UsageRecordInput[] {
  const groups = accumulate(seriesByMetric, config, window);
  const records: UsageRecordInput[] = [];
  for (const { dimensions, hours } of groups.values()) {
    for (const [bucket, values] of [...hours].sort((a, b) => a[0] - b[0])) {
      const read = (key: TokenMetricKey) => {
        const value = values.get(key);
        // Sums of integer deltas; rounding only removes float noise from the server's additions.
        return value === undefined ? null : Math.max(0, Math.round(value));
      };
      const cacheRead = read('cacheRead');
      const cacheWrite = read('cacheWrite');
      const promptTokens = read('input');
      const output = read('output');
      let reasoning = read('reasoning');
      let input: number | null = null;
      if (promptTokens !== null) {
        const cached = (cacheRead ?? 0) + (config.inputIncludesCacheWrite ? (cacheWrite ?? 0) : 0);
        // Counters scraped a moment apart can straddle an hour by a request: never write a negative.
        if (cached > promptTokens) onAdjust('cache tokens exceed prompt tokens in an hour; input set to 0', { model: dimensions.model, bucket: new Date(bucket).toISOString() });
        input = Math.max(0, promptTokens - cached);
      }
      if (reasoning !== null && output !== null && reasoning > output) {
        onAdjust('reasoning tokens exceed output tokens in an hour; capped at output', { model: dimensions.model, bucket: new Date(bucket).toISOString() });
        reasoning = output;
      }
      records.push({
        granularity: 'hour',
        bucket_start: new Date(bucket),
        provider: dimensions.provider,
        model: dimensions.model,
        account: dimensions.account,
        api_key: dimensions.api_key,
        user_id: dimensions.user_id,
        labels: dimensions.labels,
        input_tokens: input,
        output_tokens: output,
        cached_read_tokens: cacheRead,
        cached_write_tokens: cacheWrite,
        reasoning_tokens: reasoning,
        requests: read('requests'),
        measurement_basis: 'exact',
      });
    }
  }
  return records;
}

/** LiteLLM's spend counter summed per UTC day, provider, team and model: what the proxy says it spent. */
export function convertLitellmSpend(
  series: readonly PrometheusSeries[],
  config: LitellmPrometheusConfig,
  window: TimeWindow,
): ProviderCostRecordInput[] {
  const days = new Map<string, { day: number; provider: string; account: string; model: string; amount: number }>();
  for (const item of series) {
    const dimensions = resolveDimensions(item.metric, config);
    for (const [time, text] of item.values) {
      const value = Number(text);
      if (!Number.isFinite(value)) continue;
      const bucket = Math.round(time * 1000) - HOUR_MS;
      if (bucket < window.start.getTime() || bucket >= window.end.getTime()) continue;
      const day = Math.floor(bucket / DAY_MS) * DAY_MS;
      const key = JSON.stringify([day, dimensions.provider, dimensions.account, dimensions.model]);
      const entry = days.get(key) ?? { day, provider: dimensions.provider, account: dimensions.account, model: dimensions.model, amount: 0 };
      entry.amount += value;
      days.set(key, entry);
    }
  }
  return [...days.values()]
    .sort((a, b) => a.day - b.day || a.provider.localeCompare(b.provider) || a.account.localeCompare(b.account) || a.model.localeCompare(b.model))
    .map((entry) => ({
      bucket_start: new Date(entry.day),
      provider: entry.provider,
      account: entry.account,
      model: entry.model,
      line_item: 'litellm_spend',
      // Float sums of dollar amounts: ten decimals keep sub-cent precision and drop binary noise.
      amount_usd: Number(entry.amount.toFixed(10)),
    }));
}
