import { validateWithSchema } from '@utt/core';
import { describe, expect, it } from 'vitest';
import { litellmPrometheusConfigSchema } from './litellm-prometheus-config';

async function issues(input: unknown): Promise<string[]> {
  const result = await validateWithSchema(litellmPrometheusConfigSchema, input);
  return result.ok ? [] : [...result.issues];
}

describe('litellmPrometheusConfigSchema', () => {
  it('fills the defaults from LiteLLM’s metric and label names', async () => {
    const result = await validateWithSchema(litellmPrometheusConfigSchema, { prometheusUrl: 'http://prometheus:9090' });
    expect(result.ok && result.value).toEqual({
      prometheusUrl: 'http://prometheus:9090',
      headers: {},
      selector: '',
      metrics: {
        input: 'litellm_input_tokens_metric_total',
        output: 'litellm_output_tokens_metric_total',
        cacheRead: 'litellm_input_cached_tokens_metric_total',
        cacheWrite: 'litellm_input_cache_creation_tokens_metric_total',
        reasoning: 'litellm_output_reasoning_tokens_metric_total',
        requests: 'litellm_requests_metric_total',
        spend: 'litellm_spend_metric_total',
      },
      dimensions: {
        model: ['model'],
        provider: ['api_provider'],
        apiKey: ['api_key_alias', 'hashed_api_key'],
        userId: ['end_user', 'user'],
        account: ['team_alias', 'team'],
        labels: [],
      },
      defaultProvider: 'litellm',
      inputIncludesCacheWrite: true,
      scrapeInterval: 15_000,
      seriesGap: 3_600_000,
      maxPointsPerQuery: 11_000,
    });
  });

  it('names the field of every mistake', async () => {
    expect(await issues({})).toEqual(['prometheusUrl: expected an http(s) URL such as http://prometheus:9090']);
    expect(await issues({ prometheusUrl: 'http://user:secret@prometheus:9090' })).toEqual(['prometheusUrl: must not contain credentials: use basicAuth or bearerToken']);
    expect(await issues({ prometheusUrl: 'http://p:9090', scrapeInterval: '7s' })).toEqual(['scrapeInterval: must be whole seconds that divide an hour (5s, 15s, 30s, 1m…)']);
    expect(await issues({ prometheusUrl: 'http://p:9090', scrapeInterval: 'soon' })).toEqual(['scrapeInterval: expected a duration such as 15s']);
    expect(await issues({ prometheusUrl: 'http://p:9090', selector: '{job="x"}' })).toEqual(['selector: write the matchers without braces, e.g. job="litellm"']);
    expect(await issues({ prometheusUrl: 'http://p:9090', metrics: { input: 'litellm input' } })).toEqual(['metrics.input: expected a Prometheus metric name']);
    expect(await issues({ prometheusUrl: 'http://p:9090', dimensions: { apiKey: ['ok', 'not-a-label'] } })).toEqual(['dimensions.apiKey[1]: expected a Prometheus label name']);
    expect(await issues({ prometheusUrl: 'http://p:9090', bearerTokenEnv: 'A', basicAuth: { username: 'u', passwordEnv: 'B' } })).toEqual([
      'basicAuth: use one of bearerToken or basicAuth',
    ]);
    expect(await issues({ prometheusUrl: 'http://p:9090', metrics: { input: false, output: false, cacheRead: false, cacheWrite: false, reasoning: false, requests: false } })).toEqual([
      'metrics: keep at least one token or request metric',
    ]);
    expect(await issues({ prometheusUrl: 'http://p:9090', maxPointsPerQuery: 20_000 })).toEqual(['maxPointsPerQuery: Prometheus refuses more than 11000']);
    expect(await issues({ prometheusUrl: 'http://p:9090', promUrl: 'x' })).toEqual([expect.stringContaining('promUrl')]);
  });
});
