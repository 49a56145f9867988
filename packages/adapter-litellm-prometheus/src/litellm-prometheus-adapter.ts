import {
  ceilToBucket,
  defineAdapter,
  floorToBucket,
  requireSecret,
  type TimeWindow,
  type UsageAdapterV1Context,
} from '@utt/core';
import { buildHourlyIncreaseQuery } from './build-promql';
import { convertLitellmSeries, convertLitellmSpend, groupingLabels, TOKEN_METRIC_KEYS, type TokenMetricKey } from './convert-litellm-series';
import { type LitellmPrometheusConfig, litellmPrometheusConfigSchema } from './litellm-prometheus-config';
import { type PrometheusSeries, queryRange } from './prometheus-api';

const HOUR_MS = 3_600_000;
type Context = UsageAdapterV1Context<LitellmPrometheusConfig>;

/**
 * LiteLLM proxy usage from the Prometheus that scrapes it: exact hourly
 * token and request counts per model, key, team and user, computed from the
 * raw counters with reset-safe deltas, one query_range per metric per gap.
 */
export const litellmPrometheusAdapter = defineAdapter({
  specificationVersion: 'v1',
  id: 'litellm-prometheus',
  sourceSystem: 'litellm',
  configSchema: litellmPrometheusConfigSchema,
  capabilities: {
    granularities: ['hour'],
    cacheTokens: 'read_write',
    costSource: 'none',
    measurementBasis: 'exact',
    // Prometheus's default retention; a longer-lived Prometheus still answers.
    maxBackfillDays: 15,
    windowed: true,
  },
  async check(context) {
    const metric = firstTokenMetric(context.config);
    // Evaluated at now: a series is visible for Prometheus's lookback (5 minutes) after its last scrape.
    const now = Math.floor(context.now().getTime() / 1000);
    const query = `count(${metric}{${context.config.selector}})`;
    const series = await queryRange(context.http, { baseUrl: context.config.prometheusUrl, query, start: now, end: now, stepSeconds: 3600, headers: requestHeaders(context) });
    const count = Number(series[0]?.values.at(-1)?.[1] ?? 0);
    if (count === 0) return { ok: false, reason: `Prometheus has no ${metric} series: is LiteLLM's prometheus callback on and the proxy scraped?` };
    return { ok: true, detail: `${count} ${metric} series` };
  },
  async collect(window, context) {
    const { config } = context;
    const keys = TOKEN_METRIC_KEYS.filter((key) => config.metrics[key] !== false);
    const results = await Promise.all(keys.map((key) => queryHourly(context, config.metrics[key] as string, window)));
    const seriesByMetric = new Map<TokenMetricKey, PrometheusSeries[]>(keys.map((key, index) => [key, results[index] as PrometheusSeries[]]));
    return convertLitellmSeries(seriesByMetric, config, window, (message, fields) => context.logger.warn(message, fields));
  },
  async collectProviderCosts(window, context) {
    const metric = context.config.metrics.spend;
    if (metric === false) return [];
    // Whole UTC days, so a day's row is always its full total so far and a later cycle replaces it.
    const start = floorToBucket(window.start, 'day');
    const end = new Date(Math.min(ceilToBucket(window.end, 'day').getTime(), ceilToBucket(context.now(), 'hour').getTime()));
    if (end <= start) return [];
    const days = { start, end, granularity: 'hour' as const };
    return convertLitellmSpend(await queryHourly(context, metric, days), context.config, days);
  },
});

function firstTokenMetric(config: LitellmPrometheusConfig): string {
  return TOKEN_METRIC_KEYS.map((key) => config.metrics[key]).find((name): name is string => name !== false) as string;
}

/**
 * One query_range for the whole window, with one point per hour; split only
 * when the window has more hours than Prometheus allows points per series.
 */
async function queryHourly(context: Context, metric: string, window: TimeWindow): Promise<PrometheusSeries[]> {
  const { config } = context;
  const query = buildHourlyIncreaseQuery({
    metric,
    selector: config.selector,
    labels: groupingLabels(config),
    scrapeIntervalMs: config.scrapeInterval,
    seriesGapMs: config.seriesGap,
  });
  const headers = requestHeaders(context);
  const series: PrometheusSeries[] = [];
  const chunkMs = config.maxPointsPerQuery * HOUR_MS;
  for (let from = window.start.getTime(); from < window.end.getTime(); from += chunkMs) {
    const to = Math.min(from + chunkMs, window.end.getTime());
    // The point at t sums the hour ending at t: the first point closes the window's first hour.
    series.push(
      ...(await queryRange(context.http, {
        baseUrl: config.prometheusUrl,
        query,
        start: (from + HOUR_MS) / 1000,
        end: to / 1000,
        stepSeconds: 3600,
        headers,
      })),
    );
  }
  return series;
}

function requestHeaders(context: Context): Record<string, string> {
  const { config, env } = context;
  const headers: Record<string, string> = { ...config.headers };
  if (config.bearerToken !== undefined) {
    headers.authorization = `Bearer ${requireSecret(config.bearerToken, 'bearerToken', 'the Prometheus bearer token')}`;
  }
  if (config.bearerTokenEnv) {
    headers.authorization = `Bearer ${requireSecret(env[config.bearerTokenEnv], config.bearerTokenEnv, 'the Prometheus bearer token')}`;
  }
  if (config.basicAuth) {
    const { password: given, passwordEnv } = config.basicAuth;
    const password = passwordEnv
      ? requireSecret(env[passwordEnv], passwordEnv, 'the Prometheus basic-auth password')
      : requireSecret(given, 'basicAuth.password', 'the Prometheus basic-auth password');
    headers.authorization = `Basic ${Buffer.from(`${config.basicAuth.username}:${password}`).toString('base64')}`;
  }
  return headers;
}
