import { floorToBucket } from '@utt/core';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { compareExpected, type ExpectedHour, generateLitellmHistory, type LitellmHistory } from '../../../packages/adapter-litellm-prometheus/src/test-helpers/litellm-history';
import {
  type CountingProxy,
  prometheusUnavailableReason,
  type RunningPrometheus,
  startCountingProxy,
  startPrometheus,
} from '../../../packages/adapter-litellm-prometheus/src/test-helpers/prometheus-server';
import { backends, makeWorkdir, removeWorkdir, runCli, writeConfig } from './helpers/cli';

const unavailable = prometheusUnavailableReason();
if (unavailable) console.warn(unavailable);

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;

const ROWS_SQL = `SELECT bucket_start, provider, model, account, api_key, user_id,
  input_tokens, output_tokens, cached_read_tokens, cached_write_tokens, reasoning_tokens, requests
  FROM utt_schema.token_usage WHERE source_system = 'litellm' ORDER BY bucket_start, model, api_key, account`;

describe.skipIf(unavailable !== undefined)('utt backfill --source litellm against a real Prometheus', () => {
  // Two whole UTC days of generated LiteLLM counters, ending at today's midnight.
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

  describe.each(backends())('on $name', (backend) => {
    let workdir: string;
    let database: ReturnType<typeof backend.setup>;
    beforeEach(async () => {
      workdir = await makeWorkdir();
      database = backend.setup(workdir);
    });
    afterEach(async () => {
      await database.cleanup();
      await removeWorkdir(workdir);
    });

    async function select(sql: string) {
      const store = await database.open();
      try {
        return await store.client.query<Record<string, unknown>>(sql.replaceAll('utt_schema', `"${store.schema}"`));
      } finally {
        await store.close();
      }
    }

    function source(url: string): string {
      return `sources:\n  - name: litellm\n    adapter: "@utt/adapter-litellm-prometheus"\n    config:\n      prometheusUrl: ${url}\n      scrapeInterval: 60s\n`;
    }

    it('writes exactly the generator’s hourly totals, across the counter reset, and a re-run changes nothing', async () => {
      const config = await writeConfig(workdir, database.databaseYaml, source(proxy.url));
      const now = new Date(history.end.getTime() + 2 * HOUR_MS).toISOString();
      const args = ['backfill', '--config', config, '--source', 'litellm', '--since', history.start.toISOString(), '--until', history.end.toISOString(), '--now', now];
      const before = proxy.requests.length;
      const first = await runCli(args, { cwd: workdir, env: database.env });
      expect(first.code, first.stdout + first.stderr).toBe(0);
      // One query_range per token metric for the whole 48 hours, plus one for the spend counter.
      expect(proxy.requests.length - before).toBe(7);

      const rows = (await select(ROWS_SQL)).map((row) => ({ ...row, bucket_start: (row.bucket_start as Date).toISOString() })) as unknown as ExpectedHour[];
      expect(rows.sort(compareExpected)).toEqual(history.expected);
      // The restart hour (second day, 13:00), hand-copied from the generator's bookkeeping.
      const restartHour = rows.filter((row) => row.bucket_start === new Date(start.getTime() + 37 * HOUR_MS).toISOString());
      expect(restartHour.map((row) => [row.model, row.api_key, row.input_tokens, row.requests])).toEqual([
        ['claude-sonnet-4-6', 'alice-laptop', 34765, 66],
        ['claude-sonnet-4-6', 'ci-bot', 36412, 68],
        ['gpt-4o', '4b7e0d', 38764, 75],
        ['gpt-4o', 'ci-bot', 30502, 54],
        ['llama3.1:8b', 'alice-laptop', 26914, 54],
        ['llama3.1:8b', 'ci-bot', 26614, 53],
      ]);
      expect(rows.every((row) => row.cached_write_tokens === null)).toBe(true);

      // Cost comes from the worker's pricing registry, not from LiteLLM; a local model has no price and stays NULL.
      const costs = await select(
        `SELECT model, bool_and(cost_source = 'computed' AND cost_usd > 0) AS computed, bool_and(cost_usd IS NULL) AS unpriced FROM utt_schema.token_usage WHERE source_system = 'litellm' GROUP BY model ORDER BY model`,
      );
      expect(costs).toEqual([
        { model: 'claude-sonnet-4-6', computed: true, unpriced: false },
        { model: 'gpt-4o', computed: true, unpriced: false },
        { model: 'llama3.1:8b', computed: null, unpriced: true },
      ]);

      // LiteLLM's own spend, per day, kept beside the computed cost for reconciliation.
      const spend = await select(
        `SELECT bucket_start, provider, account, model, line_item, amount_usd FROM utt_schema.provider_cost WHERE source_system = 'litellm' ORDER BY bucket_start, provider, account, model`,
      );
      expect(spend.map((row) => [(row.bucket_start as Date).toISOString(), row.provider, row.account, row.model, row.line_item])).toEqual(
        history.expectedSpend.map((day) => [day.day, day.provider, day.account, day.model, 'litellm_spend']),
      );
      spend.forEach((row, index) => expect(Number(row.amount_usd)).toBeCloseTo((history.expectedSpend[index]?.micros ?? -1) / 1e6, 6));

      const snapshot = await select(`SELECT * FROM utt_schema.token_usage ORDER BY bucket_start, model, api_key, account`);
      const second = await runCli(args, { cwd: workdir, env: database.env });
      expect(second.code, second.stdout + second.stderr).toBe(0);
      const after = await select(`SELECT * FROM utt_schema.token_usage ORDER BY bucket_start, model, api_key, account`);
      expect(after.map(({ updated_at, ...row }) => row)).toEqual(snapshot.map(({ updated_at, ...row }) => row));
    });

    it('exits 2 with the PromQL and the error when Prometheus is unreachable, writing nothing', async () => {
      const closed = await startCountingProxy('http://127.0.0.1:9');
      const url = closed.url;
      await closed.close();
      const config = await writeConfig(workdir, database.databaseYaml, `worker:\n  httpRetryBudget: 1s\n${source(url)}`);
      const result = await runCli(
        ['backfill', '--config', config, '--source', 'litellm', '--since', history.start.toISOString(), '--until', new Date(start.getTime() + 2 * HOUR_MS).toISOString()],
        { cwd: workdir, env: database.env },
      );
      expect(result.code).toBe(2);
      expect(result.stdout).toContain(`Prometheus query failed at ${url}/api/v1/query_range: failed: ECONNREFUSED (PromQL: sum by (model`);
      expect(await select(`SELECT count(*)::int AS n FROM utt_schema.token_usage`)).toEqual([{ n: 0 }]);
    });
  });
});
