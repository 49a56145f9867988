import { parseDuration, z } from '@utt/core';

/** The LiteLLM series (exposed names, with `_total`) the adapter reads, by token column. */
export const DEFAULT_LITELLM_METRICS = {
  input: 'litellm_input_tokens_metric_total',
  output: 'litellm_output_tokens_metric_total',
  cacheRead: 'litellm_input_cached_tokens_metric_total',
  cacheWrite: 'litellm_input_cache_creation_tokens_metric_total',
  reasoning: 'litellm_output_reasoning_tokens_metric_total',
  requests: 'litellm_requests_metric_total',
  spend: 'litellm_spend_metric_total',
} as const;

export type LitellmMetricKey = keyof typeof DEFAULT_LITELLM_METRICS;
export const LITELLM_METRIC_KEYS = Object.keys(DEFAULT_LITELLM_METRICS) as LitellmMetricKey[];

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** A series name, or `false` to drop the metric (its column then stays NULL). */
const metricSchema = z.union([z.string().regex(METRIC_NAME, 'expected a Prometheus metric name'), z.literal(false)], {
  error: 'expected a Prometheus metric name, or false to drop the metric',
});

const labelSchema = z.string().regex(LABEL_NAME, 'expected a Prometheus label name');

/** One label, or several tried in order: the first with a value (not '' and not "None") wins. */
const labelListSchema = z
  .union([labelSchema, z.array(labelSchema)], { error: 'expected a label name or a list of label names' })
  .transform((value) => (typeof value === 'string' ? [value] : value));

const durationSchema = (what: string) =>
  z.union([z.string(), z.number()]).transform((value, context) => {
    try {
      return parseDuration(value);
    } catch {
      context.addIssue({ code: 'custom', message: `expected a duration such as ${what}` });
      return z.NEVER;
    }
  });

const envNameSchema = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'expected an environment variable name');

export const litellmPrometheusConfigSchema = z
  .strictObject({
    /** The Prometheus that scrapes LiteLLM (not LiteLLM's /metrics itself). */
    prometheusUrl: z.url({ protocol: /^https?$/, error: 'expected an http(s) URL such as http://prometheus:9090' }).refine(
      (value) => {
        const url = new URL(value);
        return url.username === '' && url.password === '';
      },
      'must not contain credentials: use basicAuth or bearerToken',
    ),
    /** A bearer token for a secured Prometheus: write `bearerToken: "${PROMETHEUS_TOKEN}"` so it comes from the environment. */
    bearerToken: z.string().min(1, 'must not be empty').optional(),
    /** Deprecated: the name of a variable holding the token. Use `bearerToken: "${VAR}"`. */
    bearerTokenEnv: envNameSchema.optional(),
    basicAuth: z
      .strictObject({
        username: z.string().min(1, 'required'),
        /** Write `password: "${PROMETHEUS_PASSWORD}"`. */
        password: z.string().min(1, 'must not be empty').optional(),
        /** Deprecated: the name of a variable holding the password. */
        passwordEnv: envNameSchema.optional(),
      })
      .refine((auth) => (auth.password === undefined) !== (auth.passwordEnv === undefined), { message: 'give password (or the deprecated passwordEnv), not both', path: ['password'] })
      .optional(),
    /** Extra request headers (a tenant header such as X-Scope-OrgID). Values are treated as secrets. */
    headers: z.record(z.string().regex(/^[A-Za-z0-9-]+$/, 'expected a header name'), z.string()).default({}),
    /** PromQL label matchers added to every selector, e.g. `job="litellm", env="prod"`. */
    selector: z
      .string()
      .refine((value) => !/[{}]/.test(value), 'write the matchers without braces, e.g. job="litellm"')
      .default(''),
    metrics: z
      .strictObject({
        input: metricSchema.default(DEFAULT_LITELLM_METRICS.input),
        output: metricSchema.default(DEFAULT_LITELLM_METRICS.output),
        cacheRead: metricSchema.default(DEFAULT_LITELLM_METRICS.cacheRead),
        cacheWrite: metricSchema.default(DEFAULT_LITELLM_METRICS.cacheWrite),
        reasoning: metricSchema.default(DEFAULT_LITELLM_METRICS.reasoning),
        requests: metricSchema.default(DEFAULT_LITELLM_METRICS.requests),
        spend: metricSchema.default(DEFAULT_LITELLM_METRICS.spend),
      })
      .prefault({}),
    /** Which labels become which dimension. */
    dimensions: z
      .strictObject({
        model: labelListSchema.default(['model']),
        provider: labelListSchema.default(['api_provider']),
        apiKey: labelListSchema.default(['api_key_alias', 'hashed_api_key']),
        userId: labelListSchema.default(['end_user', 'user']),
        account: labelListSchema.default(['team_alias', 'team']),
        /** Labels copied into `labels` (each one adds rows: keep cardinality low). */
        labels: z.array(labelSchema).default([]),
      })
      .prefault({}),
    /** Provider when the provider label is missing or "None" (older LiteLLM versions lack api_provider). */
    defaultProvider: z.string().min(1, 'must not be empty').default('litellm'),
    /**
     * LiteLLM's input counter counts prompt tokens including cache reads and, since
     * the Anthropic usage change, cache writes. Set false for a version whose
     * prompt tokens exclude cache writes.
     */
    inputIncludesCacheWrite: z.boolean().default(true),
    /** Resolution at which counter samples are compared: the scrape interval of the LiteLLM job. */
    scrapeInterval: durationSchema('15s').default(15_000),
    /** A series absent longer than this that comes back is counted from zero (a new process or a TTL-expired series). */
    seriesGap: durationSchema('1h').default(3_600_000),
    /** Prometheus refuses more than 11,000 points per series; a longer gap is split into this many hours per request. */
    maxPointsPerQuery: z.number().int('expected a whole number').min(1, 'must be at least 1').max(11_000, 'Prometheus refuses more than 11000').default(11_000),
  })
  .superRefine((config, context) => {
    if (!(typeof config.scrapeInterval === 'number')) return;
    if (config.scrapeInterval < 1000 || config.scrapeInterval % 1000 !== 0 || 3_600_000 % config.scrapeInterval !== 0) {
      context.addIssue({ code: 'custom', path: ['scrapeInterval'], message: 'must be whole seconds that divide an hour (5s, 15s, 30s, 1m…)' });
    }
    if (typeof config.seriesGap === 'number' && config.seriesGap < config.scrapeInterval) {
      context.addIssue({ code: 'custom', path: ['seriesGap'], message: 'must be at least scrapeInterval' });
    }
    if ([config.bearerToken, config.bearerTokenEnv, config.basicAuth].filter((value) => value !== undefined).length > 1) {
      context.addIssue({ code: 'custom', path: ['basicAuth'], message: 'use one of bearerToken or basicAuth' });
    }
    const tokenMetrics = ['input', 'output', 'cacheRead', 'cacheWrite', 'reasoning', 'requests'] as const;
    if (config.metrics && tokenMetrics.every((key) => config.metrics[key] === false)) {
      context.addIssue({ code: 'custom', path: ['metrics'], message: 'keep at least one token or request metric' });
    }
  });

/** The config as written in YAML or passed in code. */
export type LitellmPrometheusConfigInput = z.input<typeof litellmPrometheusConfigSchema>;
/** The validated config, defaults filled in. */
export type LitellmPrometheusConfig = z.output<typeof litellmPrometheusConfigSchema>;
