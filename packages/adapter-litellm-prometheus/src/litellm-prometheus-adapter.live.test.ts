import { collectAll, createTestContext } from '@utt/adapter-testkit';
import { ceilToBucket, floorToBucket, validateWithSchema } from '@utt/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { litellmPrometheusAdapter } from './litellm-prometheus-adapter';
import { type ExporterLabels, startLitellmExporter } from './test-helpers/litellm-exporter';
import { prometheusUnavailableReason, type RunningPrometheus, startPrometheus } from './test-helpers/prometheus-server';

const unavailable = prometheusUnavailableReason();
if (unavailable) console.warn(unavailable);

const CI_BOT: ExporterLabels = {
  model: 'gpt-4o',
  api_provider: 'openai',
  hashed_api_key: '9f2c1a',
  api_key_alias: 'ci-bot',
  team: 't-platform',
  team_alias: 'platform',
  user: 'u-ci',
  end_user: 'None',
};
const NO_ALIAS: ExporterLabels = { ...CI_BOT, model: 'claude-sonnet-4-6', api_provider: 'anthropic', hashed_api_key: '4b7e0d', api_key_alias: 'None' };

describe.skipIf(unavailable !== undefined)('litellm-prometheus against a real Prometheus scraping a live exporter every second', () => {
  let exporter: Awaited<ReturnType<typeof startLitellmExporter>>;
  let prometheus: RunningPrometheus;

  beforeAll(async () => {
    exporter = await startLitellmExporter();
    prometheus = await startPrometheus({ scrapeTargets: [exporter.target], scrapeIntervalSeconds: 1 });
  }, 60_000);
  afterAll(async () => {
    await prometheus?.stop();
    await exporter?.close();
  });

  /** Waits until Prometheus has scraped `count` more times. */
  async function scrapes(count: number): Promise<void> {
    const target = exporter.scrapes + count;
    const deadline = Date.now() + 20_000;
    while (exporter.scrapes < target) {
      if (Date.now() > deadline) throw new Error(`Prometheus scraped ${exporter.scrapes} times, waiting for ${target}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  it('turns live counters, including a proxy restart, into exact totals', async () => {
    const startedAt = new Date();
    await scrapes(1);
    exporter.record(CI_BOT, { promptTokens: 1200, cachedTokens: 400, outputTokens: 300, spend: 0.01 });
    exporter.record(NO_ALIAS, { promptTokens: 900, outputTokens: 150, reasoningTokens: 60, spend: 0.02 });
    await scrapes(2);
    exporter.record(CI_BOT, { promptTokens: 800, cachedTokens: 100, outputTokens: 200, spend: 0.01 });
    await scrapes(2);
    // A new proxy process: every series is gone, then counts again from zero.
    exporter.restart();
    await scrapes(1);
    exporter.record(CI_BOT, { promptTokens: 500, outputTokens: 50, spend: 0.005 });
    // Two scrapes: the first may have started before the last request; then let Prometheus ingest.
    await scrapes(2);
    await new Promise((resolve) => setTimeout(resolve, 300));

    const now = new Date();
    const window = { start: floorToBucket(startedAt, 'hour'), end: ceilToBucket(new Date(now.getTime() + 1), 'hour'), granularity: 'hour' as const };
    const validated = await validateWithSchema(litellmPrometheusAdapter.configSchema, { prometheusUrl: prometheus.url, scrapeInterval: '1s', seriesGap: '10m' });
    if (!validated.ok) throw new Error(validated.issues.join('\n'));
    const records = await collectAll(litellmPrometheusAdapter, window, createTestContext({ config: validated.value, now }));

    // The test may straddle an hour boundary: add up each row's hours.
    const totals = new Map<string, Record<string, number | null>>();
    for (const record of records) {
      const key = `${record.model}/${record.api_key}`;
      const total = totals.get(key) ?? {};
      for (const column of ['input_tokens', 'output_tokens', 'cached_read_tokens', 'cached_write_tokens', 'reasoning_tokens', 'requests'] as const) {
        const value = record[column] ?? null;
        total[column] = value === null ? (total[column] ?? null) : ((total[column] ?? 0) as number) + value;
      }
      totals.set(key, total);
    }
    expect(Object.fromEntries(totals)).toEqual({
      // 1200 + 800 + 500 prompt tokens, of which 400 + 100 cache reads; the restart lost nothing.
      'gpt-4o/ci-bot': { input_tokens: 2000, output_tokens: 550, cached_read_tokens: 500, cached_write_tokens: null, reasoning_tokens: null, requests: 3 },
      'claude-sonnet-4-6/4b7e0d': { input_tokens: 900, output_tokens: 150, cached_read_tokens: null, cached_write_tokens: null, reasoning_tokens: 60, requests: 1 },
    });
  }, 60_000);
});
