import { collectAll, createTestContext, describeUsageAdapterConformance, startFakeServer } from '@utt/adapter-testkit';
import { isUsageAdapterV1, validateWithSchema } from '@utt/core';
import { describe, expect, it } from 'vitest';
import cached from './__fixtures__/query-range-cached.json' with { type: 'json' };
import empty from './__fixtures__/query-range-empty.json' with { type: 'json' };
import executionError from './__fixtures__/query-range-error.json' with { type: 'json' };
import tokens from './__fixtures__/query-range-tokens.json' with { type: 'json' };
import defaultExport, { litellmPrometheusAdapter, PrometheusQueryError } from './index';
import type { LitellmPrometheusConfigInput } from './litellm-prometheus-config';

const TOKEN = 'prom-token-CANARY-never-logged';
const window = { start: new Date('2026-03-01T00:00:00Z'), end: new Date('2026-03-01T03:00:00Z'), granularity: 'hour' as const };

/** The fake Prometheus: cache reads have their own answer, cache writes and reasoning have no series. */
function answerFor(query: string): unknown {
  if (query.includes('litellm_input_cached_tokens_metric_total')) return cached;
  if (query.includes('cache_creation') || query.includes('reasoning')) return empty;
  return tokens;
}

describeUsageAdapterConformance({
  adapter: litellmPrometheusAdapter,
  config: { prometheusUrl: 'http://prometheus.internal:9090', bearerToken: TOKEN },
  window,
  canarySecrets: [TOKEN],
  http: {
    configForBaseUrl: (baseUrl) => ({ prometheusUrl: baseUrl, bearerToken: TOKEN }),
    serve: (request) =>
      request.headers.authorization === `Bearer ${TOKEN}`
        ? { status: 200, body: JSON.stringify(answerFor(request.url.searchParams.get('query') ?? '')) }
        : { status: 401, body: 'Unauthorized' },
  },
  // LiteLLM's prompt-token counter includes cache reads: input is the difference.
  expected: {
    response: 'answerFor (the Prometheus query_range answers)',
    records: [
      {
        bucket_start: '2026-03-01T00:00:00Z',
        model: 'claude-sonnet-4-6',
        input_tokens: 80_394,
        output_tokens: 120_394,
        cached_read_tokens: 40_000,
        requests: 120_394,
      },
    ],
  },
});

async function context(config: LitellmPrometheusConfigInput, env: Record<string, string> = {}) {
  const validated = await validateWithSchema(litellmPrometheusAdapter.configSchema, config);
  if (!validated.ok) throw new Error(validated.issues.join('\n'));
  return createTestContext({ config: validated.value, env, now: window.end });
}

describe('litellmPrometheusAdapter', () => {
  it('is the default export and a v1 adapter with the declared capabilities', () => {
    expect(defaultExport).toBe(litellmPrometheusAdapter);
    expect(isUsageAdapterV1(litellmPrometheusAdapter)).toBe(true);
    expect(litellmPrometheusAdapter).toMatchObject({
      id: 'litellm-prometheus',
      sourceSystem: 'litellm',
      capabilities: { granularities: ['hour'], cacheTokens: 'read_write', costSource: 'none', measurementBasis: 'exact', maxBackfillDays: 15, windowed: true },
    });
  });

  it('maps hourly sums to records: cache reads taken out of input, missing series NULL, alias before hash', async () => {
    const server = await startFakeServer((request) => ({ status: 200, body: JSON.stringify(answerFor(request.url.searchParams.get('query') ?? '')) }));
    try {
      const records = await collectAll(litellmPrometheusAdapter, window, await context({ prometheusUrl: server.baseUrl }));
      const common = { granularity: 'hour', cached_write_tokens: null, reasoning_tokens: null, measurement_basis: 'exact', labels: {} };
      const claude = { ...common, provider: 'anthropic', model: 'claude-sonnet-4-6', account: 'platform', api_key: 'ci-bot', user_id: 'u-ci' };
      expect(records).toEqual([
        { ...claude, bucket_start: new Date('2026-03-01T00:00:00Z'), input_tokens: 80394, output_tokens: 120394, cached_read_tokens: 40000, requests: 120394 },
        { ...claude, bucket_start: new Date('2026-03-01T01:00:00Z'), input_tokens: 98211, output_tokens: 98211, cached_read_tokens: 0, requests: 98211 },
        // The cache-read series has no point for this hour: unknown, not 0.
        { ...claude, bucket_start: new Date('2026-03-01T02:00:00Z'), input_tokens: 0, output_tokens: 0, cached_read_tokens: null, requests: 0 },
        {
          ...common,
          provider: 'openai',
          model: 'gpt-4o',
          account: '',
          api_key: '4b7e0d',
          user_id: 'alice',
          bucket_start: new Date('2026-03-01T01:00:00Z'),
          input_tokens: 5120,
          output_tokens: 5120,
          cached_read_tokens: null,
          requests: 5120,
        },
      ]);
      // One request per metric, each covering the whole window with one point per hour.
      expect(server.requests).toHaveLength(6);
      for (const request of server.requests) {
        expect(request.url.pathname).toBe('/api/v1/query_range');
        expect(Object.fromEntries(request.url.searchParams)).toMatchObject({ start: '1772326800', end: '1772334000', step: '3600s' });
      }
      expect(server.requests.map((request) => request.url.searchParams.get('query'))).toContain(
        'sum by (model, api_provider, api_key_alias, hashed_api_key, end_user, user, team_alias, team) (sum_over_time((' +
          '((litellm_input_tokens_metric_total{} - last_over_time(litellm_input_tokens_metric_total{}[3600s] offset 15s)) >= 0) or (litellm_input_tokens_metric_total{} + 0)' +
          ')[3599999ms:15s]))',
      );
    } finally {
      await server.close();
    }
  });

  it('still reads the deprecated bearerTokenEnv and basicAuth.passwordEnv', async () => {
    const server = await startFakeServer(() => ({ status: 200, body: JSON.stringify(tokens) }));
    try {
      await collectAll(litellmPrometheusAdapter, window, await context({ prometheusUrl: server.baseUrl, bearerTokenEnv: 'PROM_TOKEN' }, { PROM_TOKEN: 't-1' }));
      await collectAll(
        litellmPrometheusAdapter,
        window,
        await context({ prometheusUrl: server.baseUrl, basicAuth: { username: 'utt', passwordEnv: 'PROM_PASSWORD' } }, { PROM_PASSWORD: 'pw' }),
      );
      const sent = server.requests.map((request) => request.headers.authorization);
      expect(sent).toContain('Bearer t-1');
      expect(sent).toContain(`Basic ${Buffer.from('utt:pw').toString('base64')}`);
    } finally {
      await server.close();
    }
  });

  it('sends the configured credentials and headers, and maps labels and dimensions as configured', async () => {
    const server = await startFakeServer(() => ({ status: 200, body: JSON.stringify(tokens) }));
    try {
      const config = {
        prometheusUrl: `${server.baseUrl}/`,
        basicAuth: { username: 'utt', password: 'pw' },
        headers: { 'X-Scope-OrgID': 'tenant-a' },
        selector: 'job="litellm"',
        metrics: { cacheRead: false, cacheWrite: false, reasoning: false, requests: false, output: 'litellm_completion_tokens_total' },
        dimensions: { apiKey: 'hashed_api_key', account: 'team', userId: [], labels: ['user'] },
        defaultProvider: 'self-hosted',
      } satisfies LitellmPrometheusConfigInput;
      const records = await collectAll(litellmPrometheusAdapter, window, await context(config));
      expect(server.requests).toHaveLength(2);
      expect(server.requests[0]?.headers.authorization).toBe(`Basic ${Buffer.from('utt:pw').toString('base64')}`);
      expect(server.requests[0]?.headers['x-scope-orgid']).toBe('tenant-a');
      const queries = server.requests.map((request) => request.url.searchParams.get('query') ?? '');
      expect(queries.some((query) => query.includes('litellm_completion_tokens_total{job="litellm"}'))).toBe(true);
      expect(queries[0]).toMatch(/^sum by \(model, api_provider, hashed_api_key, team, user\) /);
      expect(records[0]).toMatchObject({ api_key: '88dc28', account: 't-1', user_id: '', labels: { user: 'u-ci' }, input_tokens: 120394, requests: null });
      // team "None" is no team: the dimension stays ''.
      expect(records.find((record) => record.model === 'gpt-4o')).toMatchObject({ account: '', labels: { user: 'alice' } });
    } finally {
      await server.close();
    }
  });

  it('uses the default provider where the provider label is missing or "None"', async () => {
    const body = { status: 'success', data: { resultType: 'matrix', result: [{ metric: { model: 'llama3', api_provider: 'None' }, values: [[1772326800, '7']] }] } };
    const server = await startFakeServer(() => ({ status: 200, body: JSON.stringify(body) }));
    try {
      const records = await collectAll(litellmPrometheusAdapter, window, await context({ prometheusUrl: server.baseUrl }));
      expect(records[0]).toMatchObject({ provider: 'litellm', model: 'llama3', api_key: '', input_tokens: 0, cached_read_tokens: 7 });
    } finally {
      await server.close();
    }
  });

  it('fails the source with the PromQL and the error on status "error" and on 422', async () => {
    const server = await startFakeServer((request) =>
      request.url.searchParams.get('query')?.includes('output')
        ? { status: 422, body: JSON.stringify(executionError) }
        : { status: 200, body: JSON.stringify(executionError) },
    );
    try {
      const error = await collectAll(litellmPrometheusAdapter, window, await context({ prometheusUrl: server.baseUrl, metrics: { output: false, requests: false } })).catch(
        (caught: unknown) => caught,
      );
      expect(PrometheusQueryError.isInstance(error)).toBe(true);
      expect((error as Error).message).toMatch(
        /^Prometheus query failed at http:\/\/127\.0\.0\.1:\d+\/api\/v1\/query_range: execution: query processing would load too many samples into memory in query execution \(PromQL: sum by \(/,
      );
      const unprocessable = await collectAll(litellmPrometheusAdapter, window, await context({ prometheusUrl: server.baseUrl, metrics: { input: false, cacheRead: false, cacheWrite: false, reasoning: false, requests: false } })).catch(
        (caught: unknown) => caught as Error,
      );
      expect((unprocessable as Error).message).toMatch(/answered 422: execution: query processing would load too many samples.*\(PromQL: sum by .*litellm_output_tokens_metric_total/);
    } finally {
      await server.close();
    }
  });

  it('fails when the answer is not a Prometheus API response', async () => {
    const server = await startFakeServer(() => ({ status: 200, body: '<html>Grafana</html>' }));
    try {
      const error = await collectAll(litellmPrometheusAdapter, window, await context({ prometheusUrl: server.baseUrl })).catch((caught: unknown) => caught as Error);
      expect((error as Error).message).toContain('the answer is not a Prometheus API response (is prometheusUrl pointing at Prometheus?)');
    } finally {
      await server.close();
    }
  });

  it('names the missing variable, never a value, when the bearer token is not set', async () => {
    const error = await collectAll(litellmPrometheusAdapter, window, await context({ prometheusUrl: 'http://127.0.0.1:1', bearerTokenEnv: 'PROM_TOKEN' })).catch(
      (caught: unknown) => caught as Error,
    );
    expect((error as Error).message).toContain('PROM_TOKEN');
  });

  it('check() reports a Prometheus without LiteLLM series as not ok', async () => {
    const server = await startFakeServer(() => ({ status: 200, body: JSON.stringify(empty) }));
    try {
      expect(await litellmPrometheusAdapter.check?.(await context({ prometheusUrl: server.baseUrl }))).toEqual({
        ok: false,
        reason: "Prometheus has no litellm_input_tokens_metric_total series: is LiteLLM's prometheus callback on and the proxy scraped?",
      });
    } finally {
      await server.close();
    }
  });
});
