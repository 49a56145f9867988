export { litellmPrometheusAdapter, litellmPrometheusAdapter as default } from './litellm-prometheus-adapter';
export {
  DEFAULT_LITELLM_METRICS,
  LITELLM_METRIC_KEYS,
  type LitellmMetricKey,
  type LitellmPrometheusConfig,
  type LitellmPrometheusConfigInput,
  litellmPrometheusConfigSchema,
} from './litellm-prometheus-config';
export { buildHourlyIncreaseQuery } from './build-promql';
export { convertLitellmSeries, convertLitellmSpend, groupingLabels, TOKEN_METRIC_KEYS, type TokenMetricKey } from './convert-litellm-series';
export { type PrometheusSeries, queryRange, type RangeQuery } from './prometheus-api';
export { PrometheusQueryError } from './prometheus-query-error';
export { VERSION } from './version';
