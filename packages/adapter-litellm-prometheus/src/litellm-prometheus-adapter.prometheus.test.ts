import { collectAll, createTestContext } from '@utt/adapter-testkit';
import { floorToBucket, type UsageRecordInput, validateWithSchema } from '@utt/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { litellmPrometheusAdapter } from './litellm-prometheus-adapter';
import type { LitellmPrometheusConfig, LitellmPrometheusConfigInput } from './litellm-prometheus-config';
import { compareExpected, type ExpectedHour, generateLitellmHistory, type LitellmHistory } from './test-helpers/litellm-history';
import { type CountingProxy, prometheusUnavailableReason, type RunningPrometheus, startCountingProxy, startPrometheus } from './test-helpers/prometheus-server';

const unavailable = prometheusUnavailableReason();
if (unavailable) console.warn(unavailable);

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;

async function configFor(input: LitellmPrometheusConfigInput): Promise<LitellmPrometheusConfig> {
  const result = await validateWithSchema(litellmPrometheusAdapter.configSchema, input);
  if (!result.ok) throw new Error(result.issues.join('\n'));
  return result.value;
}

/** Records in the generator's shape, for a whole-table comparison. */
function asExpected(records: readonly UsageRecordInput[]): ExpectedHour[] {
  return records
    .map((record) => ({
      bucket_start: (record.bucket_start as Date).toISOString(),
      provider: record.provider,
      model: record.model,
      account: record.account ?? '',
      api_key: record.api_key ?? '',
      user_id: record.user_id ?? '',
      input_tokens: record.input_tokens ?? null,
      output_tokens: record.output_tokens ?? null,
      cached_read_tokens: record.cached_read_tokens ?? null,
      cached_write_tokens: (record.cached_write_tokens ?? null) as null,
      reasoning_tokens: record.reasoning_tokens ?? null,
      requests: record.requests ?? null,
    }))
    .sort(compareExpected);
}

describe.skipIf(unavailable !== undefined)('litellm-prometheus against a real Prometheus holding two days of generated history', () => {
  // Two whole UTC days ending at today's midnight: recent enough for any retention.
  const start = new Date(floorToBucket(new Date(), 'day').getTime() - 2 * DAY_MS);
  let history: LitellmHistory;
  let prometheus: RunningPrometheus;
  let proxy: CountingProxy;

  beforeAll(async () => {
    history = generateLitellmHistory({ start, hours: 48, scrapeIntervalSeconds: 60 });
    prometheus = await startPrometheus({ openMetrics: history.openMetrics });
    proxy = await startCountingProxy(prometheus.url);
  }, 120_000);
  afterAll(async () => {
    await proxy?.close();
    await prometheus?.stop();
  });

  const base = { scrapeInterval: '60s' } as const;
  const wholeHistory = () => ({ start: history.start, end: history.end, granularity: 'hour' as const });
  async function collect(window: { start: Date; end: Date; granularity: 'hour' }, extra: Partial<LitellmPrometheusConfigInput> = {}) {
    const context = createTestContext({ config: await configFor({ ...base, prometheusUrl: proxy.url, ...extra }), now: new Date(), http: { deadlineMs: 20_000, retryBudgetMs: 30_000 } });
    const before = proxy.requests.length;
    const records = await collectAll(litellmPrometheusAdapter, window, context);
    return { records, requests: proxy.requests.slice(before), context };
  }

  it('writes exactly the hourly totals the generator booked, per model, key, team and user, across the restart', async () => {
    const { records } = await collect(wholeHistory());
    expect(asExpected(records)).toEqual(history.expected);

    // Hand-copied from the seeded generator's bookkeeping (seed 42), as a guard against both drifting together.
    const restartHour = history.expected.filter((row) => row.bucket_start === new Date(start.getTime() + 37 * HOUR_MS).toISOString());
    expect(restartHour.map((row) => [row.model, row.api_key, row.input_tokens, row.requests])).toEqual(RESTART_HOUR_SNAPSHOT);
  });

  it('counts the restart hour as the sum of the increases before and after the restart', async () => {
    const restartHourStart = new Date(start.getTime() + 37 * HOUR_MS);
    const { records } = await collect({ start: restartHourStart, end: new Date(restartHourStart.getTime() + HOUR_MS), granularity: 'hour' });
    const expected = history.expected.filter((row) => row.bucket_start === restartHourStart.toISOString());
    expect(expected.length).toBeGreaterThan(3);
    expect(asExpected(records)).toEqual(expected);
    // A plain last-minus-first over the hour would go negative or lose the pre-restart part; each row is well above zero.
    for (const row of asExpected(records)) expect(row.requests).toBeGreaterThan(10);
  });

  it('leaves a token type NULL where its series does not exist, and keeps 0 where it exists without growth', async () => {
    const { records } = await collect(wholeHistory());
    expect(records.length).toBe(history.expected.length);
    // No cache-write series at all.
    expect(records.every((record) => record.cached_write_tokens === null)).toBe(true);
    // llama through Ollama never reports cache reads or reasoning.
    const llama = records.filter((record) => record.model === 'llama3.1:8b');
    expect(llama.length).toBeGreaterThan(60);
    expect(llama.every((record) => record.cached_read_tokens === null && record.reasoning_tokens === null)).toBe(true);
    // The late key has no rows before its first traffic on the second day at 09:20.
    const late = records.filter((record) => record.model === 'claude-sonnet-4-6' && record.api_key === 'alice-laptop');
    expect((late[0]?.bucket_start as Date).toISOString()).toBe(new Date(start.getTime() + 33 * HOUR_MS).toISOString());
    // The vanished series: no rows 16:00 (gone 15:10–17:40), back from zero at 17:00.
    const vanished = records.filter((record) => record.model === 'llama3.1:8b' && record.api_key === 'alice-laptop');
    const hours = vanished.map((record) => (record.bucket_start as Date).getTime() - start.getTime());
    expect(hours).toContain(15 * HOUR_MS);
    expect(hours).not.toContain(16 * HOUR_MS);
    expect(hours).toContain(17 * HOUR_MS);
    // A key without an alias is written under its hash; a team without an alias under its id.
    expect(records.some((record) => record.api_key === '4b7e0d' && record.account === 'research')).toBe(true);
    expect(records.some((record) => record.api_key === 'ci-bot' && record.account === 'platform' && record.provider === 'anthropic')).toBe(true);
  });

  it('is idempotent: the same window twice gives the same records', async () => {
    const window = { start: new Date(start.getTime() + 30 * HOUR_MS), end: new Date(start.getTime() + 40 * HOUR_MS), granularity: 'hour' as const };
    const first = await collect(window);
    const second = await collect(window);
    expect(asExpected(second.records)).toEqual(asExpected(first.records));
    expect(first.records.length).toBeGreaterThan(40);
  });

  it('sends one query_range per metric for a 24-hour gap', async () => {
    const window = { start: new Date(start.getTime() + 24 * HOUR_MS), end: history.end, granularity: 'hour' as const };
    const { records, requests } = await collect(window);
    expect(requests).toHaveLength(6);
    expect(requests.every((request) => request.path === '/api/v1/query_range' && request.query.get('step') === '3600s')).toBe(true);
    const metrics = requests.map((request) => /sum_over_time\(\(\(\((\w+)\{/.exec(request.query.get('query') ?? '')?.[1]).sort();
    expect(metrics).toEqual([
      'litellm_input_cache_creation_tokens_metric_total',
      'litellm_input_cached_tokens_metric_total',
      'litellm_input_tokens_metric_total',
      'litellm_output_reasoning_tokens_metric_total',
      'litellm_output_tokens_metric_total',
      'litellm_requests_metric_total',
    ]);
    expect(asExpected(records)).toEqual(history.expected.filter((row) => row.bucket_start >= window.start.toISOString()));
  });

  it('splits a gap only when it has more hours than points allowed per series, with the same result', async () => {
    const window = { start: new Date(start.getTime() + 24 * HOUR_MS), end: history.end, granularity: 'hour' as const };
    const { records, requests } = await collect(window, { maxPointsPerQuery: 10 });
    // 24 hours in chunks of 10: three requests per metric.
    expect(requests).toHaveLength(18);
    expect(asExpected(records)).toEqual(history.expected.filter((row) => row.bucket_start >= window.start.toISOString()));
  });

  it('renames and drops metrics: a dropped metric leaves its column NULL and sends no query', async () => {
    const window = { start: new Date(start.getTime() + 10 * HOUR_MS), end: new Date(start.getTime() + 12 * HOUR_MS), granularity: 'hour' as const };
    const { records, requests } = await collect(window, { metrics: { reasoning: false, cacheRead: false, cacheWrite: false, requests: false } });
    expect(requests).toHaveLength(2);
    expect(records.every((record) => record.reasoning_tokens === null && record.requests === null && record.cached_read_tokens === null)).toBe(true);
    // Without the cache-read metric the prompt tokens cannot be split: input keeps them (documented).
    const expected = history.expected.filter((row) => row.bucket_start >= window.start.toISOString() && row.bucket_start < window.end.toISOString());
    const sum = (rows: readonly { input_tokens?: number | null; cached_read_tokens?: number | null }[]) =>
      rows.reduce((total, row) => total + (row.input_tokens ?? 0) + (row.cached_read_tokens ?? 0), 0);
    expect(sum(records)).toBe(sum(expected));
  });

  it('applies the label filter to every selector', async () => {
    const window = { start: new Date(start.getTime() + 10 * HOUR_MS), end: new Date(start.getTime() + 12 * HOUR_MS), granularity: 'hour' as const };
    const { records, requests } = await collect(window, { selector: 'api_provider="ollama"' });
    expect(requests.every((request) => (request.query.get('query') ?? '').includes('{api_provider="ollama"}'))).toBe(true);
    expect(new Set(records.map((record) => record.model))).toEqual(new Set(['llama3.1:8b']));
  });

  it("keeps LiteLLM's own spend per day for reconciliation, in one request", async () => {
    const context = createTestContext({ config: await configFor({ ...base, prometheusUrl: proxy.url }), now: new Date() });
    const before = proxy.requests.length;
    const costs = await litellmPrometheusAdapter.collectProviderCosts?.({ start: history.start, end: history.end, granularity: 'hour' }, context);
    expect(proxy.requests.length - before).toBe(1);
    expect(costs?.length).toBe(history.expectedSpend.length);
    for (const [index, expected] of history.expectedSpend.entries()) {
      const cost = costs?.[index];
      expect({ day: (cost?.bucket_start as Date).toISOString(), provider: cost?.provider, account: cost?.account, model: cost?.model, line_item: cost?.line_item }).toEqual({
        day: expected.day,
        provider: expected.provider,
        account: expected.account,
        model: expected.model,
        line_item: 'litellm_spend',
      });
      expect(Number(cost?.amount_usd)).toBeCloseTo(expected.micros / 1e6, 6);
    }
  });

  it('fails with the PromQL and the error when Prometheus refuses the query', async () => {
    const window = { start: new Date(start.getTime() + 10 * HOUR_MS), end: new Date(start.getTime() + 11 * HOUR_MS), granularity: 'hour' as const };
    const error = await collect(window, { selector: 'model=~"("' }).catch((caught: unknown) => caught as Error);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toMatch(/answered 400: bad_data: .*error parsing regexp/);
    expect((error as Error).message).toContain('(PromQL: sum by (model, api_provider');
    expect((error as Error).message).toContain('{model=~"("}');
  });

  it('fails clearly, without crashing, when the Prometheus URL is wrong', async () => {
    const window = { start: new Date(start.getTime() + 10 * HOUR_MS), end: new Date(start.getTime() + 11 * HOUR_MS), granularity: 'hour' as const };
    const closed = await startCountingProxy('http://127.0.0.1:9');
    const port = new URL(closed.url).port;
    await closed.close();
    const context = createTestContext({ config: await configFor({ ...base, prometheusUrl: `http://127.0.0.1:${port}` }), now: new Date(), http: { maxAttempts: 1 } });
    const error = await collectAll(litellmPrometheusAdapter, window, context).catch((caught: unknown) => caught as Error);
    expect((error as Error).message).toMatch(new RegExp(`^Prometheus query failed at http://127.0.0.1:${port}/api/v1/query_range: failed: ECONNREFUSED \\(PromQL: sum by`));

    // Right host, wrong path (Prometheus behind a prefix): a 404 that names the endpoint.
    const wrongPath = createTestContext({ config: await configFor({ ...base, prometheusUrl: `${prometheus.url}/prometheus` }), now: new Date() });
    const notFound = await collectAll(litellmPrometheusAdapter, window, wrongPath).catch((caught: unknown) => caught as Error);
    expect((notFound as Error).message).toContain(`Prometheus query failed at ${prometheus.url}/prometheus/api/v1/query_range: answered 404`);
  });

  it('check() counts the input series', async () => {
    const context = createTestContext({ config: await configFor({ ...base, prometheusUrl: prometheus.url }), now: new Date(history.end.getTime() - 30 * 60_000) });
    expect(await litellmPrometheusAdapter.check?.(context)).toEqual({ ok: true, detail: '6 litellm_input_tokens_metric_total series' });
  });
});

/** [model, api_key, input_tokens, requests] of the restart hour, from the generator (seed 42). */
const RESTART_HOUR_SNAPSHOT = [
  ['claude-sonnet-4-6', 'alice-laptop', 34765, 66],
  ['claude-sonnet-4-6', 'ci-bot', 36412, 68],
  ['gpt-4o', '4b7e0d', 38764, 75],
  ['gpt-4o', 'ci-bot', 30502, 54],
  ['llama3.1:8b', 'alice-laptop', 26914, 54],
  ['llama3.1:8b', 'ci-bot', 26614, 53],
];
