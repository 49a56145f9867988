import { createTrackerSink, type UsageStore } from '@utt/postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTrackedFetch } from './capture/tracked-fetch';
import { createTracker } from './create-tracker';
import { startFakeProvider } from './test-support/fake-provider';
import { startCuttableProxy } from './test-support/cuttable-proxy';
import { openTestStore, STORE_BACKENDS } from './test-support/test-store';
import { testPrices } from './test-support/test-prices';

type CellRow = { labels: Record<string, string>; input_tokens: number | null; output_tokens: number | null; requests: number; cost_usd: string | null };

async function cellsOf(store: UsageStore): Promise<CellRow[]> {
  return store.client.query<CellRow>(
    `SELECT labels, input_tokens, output_tokens, requests, cost_usd::text AS cost_usd FROM "${store.schema}".token_usage
     WHERE source_system = 'billing-api' ORDER BY labels::text`,
  );
}

async function callSums(store: UsageStore): Promise<Array<{ tenant: string; input: number; requests: number }>> {
  return store.client.query(
    `SELECT labels->>'tenant' AS tenant, SUM(input_tokens)::int AS input, COUNT(*)::int AS requests FROM "${store.schema}".tracked_call GROUP BY 1 ORDER BY 1`,
  );
}

/** Response ids as distinctive as OpenAI's (a short one, like Ollama's, is no call's identity). */
const RESPONSE_ID = 'chatcmpl-B9MBs8CjcvOU2jLn4n570S5q';

describe.each(STORE_BACKENDS)('the tracker writing to the store on $name', (backend) => {
  let handle: Awaited<ReturnType<typeof openTestStore>>;
  beforeAll(async () => {
    handle = await openTestStore(backend);
  }, 60_000);
  afterAll(async () => {
    await handle?.dispose();
  });

  it('lands priced, tagged calls in hourly cells equal to their calls; shutdown flushes', async () => {
    const tracker = await createTracker({
      application: 'billing-api',
      instance: 'host-1',
      prices: testPrices(),
      sink: createTrackerSink(handle.store),
      labelTags: ['tenant'],
      flushIntervalMs: 60_000,
      flushOnExit: false,
    });
    await Promise.all(
      ['acme', 'acme', 'globex'].map((tenant, index) =>
        tracker.withTags({ tenant, user: `u${index}` }, async () => {
          tracker.record({ provider: 'openai', model: 'gpt-test', inputTokens: 1000 * (index + 1), outputTokens: 100, responseId: `${RESPONSE_ID}${index}` });
        }),
      ),
    );
    // A retried record of the same response changes nothing.
    tracker.withTags({ tenant: 'acme' }, () => tracker.record({ provider: 'openai', model: 'gpt-test', inputTokens: 1000, outputTokens: 100, responseId: `${RESPONSE_ID}0` }));
    expect(await cellsOf(handle.store)).toEqual([]);
    await tracker.shutdown();
    const cells = await cellsOf(handle.store);
    expect(cells.map((cell) => ({ ...cell, cost_usd: Number(cell.cost_usd) }))).toEqual([
      // acme: 3000 input × $2/M + 200 output × $8/M
      { labels: { tenant: 'acme' }, input_tokens: 3000, output_tokens: 200, requests: 2, cost_usd: 0.0076 },
      { labels: { tenant: 'globex' }, input_tokens: 3000, output_tokens: 100, requests: 1, cost_usd: 0.0068 },
    ]);
    expect(await callSums(handle.store)).toEqual([
      { tenant: 'acme', input: 3000, requests: 2 },
      { tenant: 'globex', input: 3000, requests: 1 },
    ]);
    const [tags] = await handle.store.client.query<{ tags: Record<string, string> }>(`SELECT tags FROM "${handle.schema}".tracked_call WHERE response_id = $1`, [`${RESPONSE_ID}2`]);
    expect(tags?.tags).toEqual({ tenant: 'globex', user: 'u2' });
  });

  it('stores every call of a server that reuses response ids, and counts and reports what the store skips', async () => {
    const warnings: Array<[string, unknown]> = [];
    const logger = { debug() {}, info() {}, warn: (message: string, fields?: unknown) => warnings.push([message, fields]), error() {} };
    const options = { application: 'ollama-app', prices: testPrices(), sink: createTrackerSink(handle.store), batchSize: 500, flushOnExit: false, logger };
    const tracker = await createTracker(options);
    // Ollama's OpenAI-compatible API: chatcmpl-<0…998>.
    for (let index = 0; index < 2500; index += 1) tracker.record({ provider: 'ollama', model: 'llama3', inputTokens: 10, outputTokens: 1, responseId: `chatcmpl-${index % 999}` });
    tracker.record({ provider: 'openai', model: 'gpt-test', inputTokens: 5, outputTokens: 1, responseId: `${RESPONSE_ID}x` });
    await tracker.flush();
    expect(tracker.stats()).toMatchObject({ recorded: 2501, written: 2501, dropped: 0, skippedAsStored: 0, skippedAsSameResponse: 0 });
    // Another process records one of the same responses again: the store keeps one, and this tracker says so.
    const other = await createTracker(options);
    other.record({ provider: 'openai', model: 'gpt-test', inputTokens: 5, outputTokens: 1, responseId: `${RESPONSE_ID}x` });
    await other.shutdown();
    await tracker.shutdown();
    expect(other.stats()).toMatchObject({ written: 1, skippedAsSameResponse: 1 });
    expect(warnings.map(([message]) => message)).toEqual([expect.stringMatching(/skipped calls as the same provider response/)]);
    const [row] = await handle.store.client.query<{ calls: number; input: number }>(
      `SELECT COUNT(*)::int AS calls, SUM(input_tokens)::int AS input FROM "${handle.schema}".tracked_call WHERE source_system = 'ollama-app'`,
    );
    expect(row).toEqual({ calls: 2501, input: 25_005 });
  });
});

describe.each(STORE_BACKENDS)('piggyback quota readings on $name', (backend) => {
  let handle: Awaited<ReturnType<typeof openTestStore>>;
  let fake: Awaited<ReturnType<typeof startFakeProvider>>;
  beforeAll(async () => {
    handle = await openTestStore(backend);
    fake = await startFakeProvider();
  }, 60_000);
  afterAll(async () => {
    await fake?.close();
    await handle?.dispose();
  });

  const post = (body: unknown) => ({ method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

  it("stores the rate-limit headers of the application's own Anthropic and OpenAI responses as readings, newest per window", async () => {
    const tracker = await createTracker({
      application: 'support-bot',
      instance: 'host-1',
      prices: testPrices(),
      sink: createTrackerSink(handle.store),
      flushIntervalMs: 60_000,
      flushOnExit: false,
    });
    const fetch = createTrackedFetch(tracker);
    for (let index = 0; index < 3; index += 1) {
      await (await fetch(`${fake.url}/v1/messages`, post({ model: 'claude-test', max_tokens: 10, messages: [] }))).json();
    }
    await (await fetch(`${fake.url}/v1/chat/completions`, post({ model: 'gpt-test', messages: [] }))).json();
    expect(await handle.store.latestQuotaReadings()).toEqual([]);
    await tracker.shutdown();

    const latest = await handle.store.latestQuotaReadings({ source: 'tracker:support-bot' });
    expect(latest.map(({ provider, account, window, limit, remaining, usedRatio, obtainedVia }) => ({ provider, account, window, limit, remaining, usedRatio, obtainedVia }))).toEqual([
      { provider: 'anthropic', account: 'support-bot', window: 'requests_1m', limit: 50, remaining: 49, usedRatio: 0.02, obtainedVia: 'piggyback' },
      { provider: 'openai', account: 'support-bot', window: 'requests_1m', limit: 500, remaining: 499, usedRatio: 0.002, obtainedVia: 'piggyback' },
    ]);
    // Three Anthropic calls in one flush: one row, not three.
    const rows = await handle.store.client.query<{ n: number }>(`SELECT COUNT(*)::int AS n FROM "${handle.schema}".quota_reading WHERE provider = 'anthropic'`);
    expect(rows[0]?.n).toBe(1);
    // The readings stay off the watchdog: a quiet application is not a failing quota source.
    const status = await handle.store.client.query(`SELECT source FROM "${handle.schema}".watchdog_status WHERE source LIKE 'quota:%'`);
    expect(status).toEqual([]);
  });

  it('takes a configured source and account, and stores nothing when turned off', async () => {
    const run = async (sink: ReturnType<typeof createTrackerSink>) => {
      const tracker = await createTracker({ application: 'batch-jobs', prices: testPrices(), sink, flushIntervalMs: 60_000, flushOnExit: false });
      const fetch = createTrackedFetch(tracker);
      await (await fetch(`${fake.url}/v1/chat/completions`, post({ model: 'gpt-test', messages: [] }))).json();
      await tracker.shutdown();
    };
    await run(createTrackerSink(handle.store, { quotaReadings: false }));
    expect(await handle.store.latestQuotaReadings({ account: 'batch-jobs' })).toEqual([]);
    await run(createTrackerSink(handle.store, { quotaReadings: { source: 'openai-prod', account: 'prod-key' } }));
    const latest = await handle.store.latestQuotaReadings({ source: 'openai-prod' });
    expect(latest.map((reading) => [reading.provider, reading.account, reading.window])).toEqual([['openai', 'prod-key', 'requests_1m']]);
  });
});

const postgres = STORE_BACKENDS.find((backend) => backend.name === 'postgres');

describe.runIf(postgres)('a PostgreSQL outage', () => {
  it('loses nothing within the queue bound, counts what it drops, and catches up when the database is back', async () => {
    const url = new URL(postgres?.url as string);
    const proxy = await startCuttableProxy({ host: url.hostname, port: Number(url.port || 5432) });
    const viaProxy = new URL(url);
    viaProxy.port = String(proxy.port);
    const handle = await openTestStore({ name: 'postgres' }, viaProxy.toString());
    const direct = await openTestStore({ name: 'postgres' }, url.toString());
    const errors: string[] = [];
    try {
      const tracker = await createTracker({
        application: 'billing-api',
        prices: testPrices(),
        sink: createTrackerSink(handle.store),
        labelTags: ['tenant'],
        batchSize: 10,
        flushIntervalMs: 20,
        maxQueueSize: 50,
        flushOnExit: false,
        logger: { debug() {}, info() {}, warn: (message) => errors.push(message), error: (message) => errors.push(message) },
      });
      for (let index = 0; index < 10; index += 1) tracker.record({ provider: 'openai', model: 'gpt-test', inputTokens: 1, tags: { tenant: 'before' } });
      await tracker.flush();
      proxy.cut();
      // Calls go on while the database is unreachable, and never wait for it.
      const started = performance.now();
      for (let index = 0; index < 80; index += 1) tracker.record({ provider: 'openai', model: 'gpt-test', inputTokens: 1, tags: { tenant: 'during' } });
      expect(performance.now() - started).toBeLessThan(200);
      await tracker.flush();
      expect(tracker.stats()).toMatchObject({ pending: 50, dropped: 30 });
      expect(tracker.stats().writeFailures).toBeGreaterThan(0);
      expect(errors.some((message) => /dropped/.test(message))).toBe(true);
      proxy.restore();
      await tracker.shutdown();
      expect(tracker.stats()).toMatchObject({ pending: 0, dropped: 30, written: 60 });
      const rows = await direct.store.client.query<{ tenant: string; requests: number }>(
        `SELECT labels->>'tenant' AS tenant, requests FROM "${handle.schema}".token_usage ORDER BY 1`,
      );
      expect(rows).toEqual([
        { tenant: 'before', requests: 10 },
        { tenant: 'during', requests: 50 },
      ]);
    } finally {
      await handle.dispose().catch(() => {});
      await direct.dispose();
      await proxy.close();
    }
  });
});
