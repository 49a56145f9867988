import { collectAll, createTestContext, type FakeServer, type FakeServerHandler, startFakeServer } from '@utt/adapter-testkit';
import { AdapterHttpError, ResponseShapeError, type UsageAdapterV1Window } from '@utt/core';
import { afterEach, describe, expect, it } from 'vitest';
import costReport from './__fixtures__/cost-report-1d.json' with { type: 'json' };
import messagesPage1 from './__fixtures__/messages-1h-page-1.json' with { type: 'json' };
import messagesPage2 from './__fixtures__/messages-1h-page-2.json' with { type: 'json' };
import { anthropicUsageAdapter } from './anthropic-usage-adapter';
import { type AnthropicUsageConfigInput, anthropicUsageConfigSchema } from './anthropic-usage-config';

const ADMIN_KEY = 'sk-ant-admin01-TEST-9c2e7b4a-never-logged';
const CURSOR = 'page_MjAyNi0wOS0wMVQwMjowMDowMFo=';
const WINDOW: UsageAdapterV1Window = {
  start: new Date('2026-09-01T00:00:00Z'),
  end: new Date('2026-09-01T03:00:00Z'),
  granularity: 'hour',
};

const json = (body: unknown, status = 200, headers: Record<string, string> = {}) => ({ status, headers, body: JSON.stringify(body) });
const authenticationError = { type: 'error', error: { type: 'authentication_error', message: 'invalid x-api-key' } };

/** The fake Anthropic Admin API: answers by path and cursor, and only to the right key and version. */
const serveAnthropic: FakeServerHandler = (request) => {
  if (request.headers['x-api-key'] !== ADMIN_KEY) return json(authenticationError, 401);
  if (request.headers['anthropic-version'] !== '2023-06-01') return json({ type: 'error', error: { message: 'anthropic-version missing' } }, 400);
  switch (request.url.pathname) {
    case '/v1/organizations/usage_report/messages':
      return json(request.url.searchParams.get('page') === CURSOR ? messagesPage2 : messagesPage1);
    case '/v1/organizations/cost_report':
      return json(costReport);
    default:
      return json({ type: 'error', error: { message: 'not found' } }, 404);
  }
};

let server: FakeServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function setUp(handler: FakeServerHandler = serveAnthropic, config: Partial<AnthropicUsageConfigInput> = {}, http = {}) {
  server = await startFakeServer(handler);
  const context = createTestContext({
    config: anthropicUsageConfigSchema.parse({ adminKey: ADMIN_KEY, baseUrl: server.baseUrl, ...config }),
    now: new Date('2026-09-01T03:10:00Z'),
    http,
  });
  return { server, context };
}

const GROUPED = { groupBy: ['api_key', 'workspace', 'service_tier', 'context_window'] } satisfies Partial<AnthropicUsageConfigInput>;

// Written by hand from the fixtures: input is uncached_input_tokens; writes are 5m + 1h.
const EXPECTED = [
  {
    granularity: 'hour',
    bucket_start: new Date('2026-09-01T00:00:00Z'),
    provider: 'anthropic',
    model: 'claude-sonnet-4-6',
    account: 'wrkspc_01JwQvzr7rXLA5AGx3HKfFUJ',
    api_key: 'apikey_01Rj2N8SVvo6BePZj99NhmiT',
    user_id: '',
    labels: { service_tier: 'standard', context_window: '0-200k' },
    input_tokens: 15400,
    output_tokens: 23100,
    cached_read_tokens: 812000,
    cached_write_tokens: 43000,
    cached_write_1h_tokens: 2000,
    measurement_basis: 'exact',
  },
  {
    granularity: 'hour',
    bucket_start: new Date('2026-09-01T00:00:00Z'),
    provider: 'anthropic',
    model: 'claude-haiku-4-5',
    account: '',
    api_key: '',
    user_id: '',
    labels: { service_tier: 'standard', context_window: '0-200k' },
    input_tokens: 900,
    output_tokens: 120,
    cached_read_tokens: 0,
    cached_write_tokens: 0,
    cached_write_1h_tokens: 0,
    measurement_basis: 'exact',
  },
  {
    granularity: 'hour',
    bucket_start: new Date('2026-09-01T02:00:00Z'),
    provider: 'anthropic',
    model: 'claude-sonnet-4-6',
    account: 'wrkspc_01JwQvzr7rXLA5AGx3HKfFUJ',
    api_key: 'apikey_01Rj2N8SVvo6BePZj99NhmiT',
    user_id: '',
    labels: { service_tier: 'batch', context_window: '0-200k' },
    input_tokens: 5000,
    output_tokens: 800,
    cached_read_tokens: null,
    cached_write_tokens: null,
    cached_write_1h_tokens: null,
    measurement_basis: 'exact',
  },
];

describe('anthropicUsageAdapter.collect', () => {
  it('returns exactly the served numbers in core semantics, following every page', async () => {
    const { context } = await setUp(serveAnthropic, GROUPED);
    expect(await collectAll(anthropicUsageAdapter, WINDOW, context)).toEqual(EXPECTED);
    expect(context.logs).toEqual([]);
  });

  it('sends the window as RFC 3339, the bucket width, group_by[] repeated and the key only in x-api-key', async () => {
    const { server, context } = await setUp(serveAnthropic, GROUPED);
    await collectAll(anthropicUsageAdapter, WINDOW, context);
    expect(server.requests.map((request) => `${request.method} ${request.url.pathname}`)).toEqual([
      'GET /v1/organizations/usage_report/messages',
      'GET /v1/organizations/usage_report/messages',
    ]);
    const [first, second] = server.requests;
    expect([...first!.url.searchParams]).toEqual([
      ['starting_at', '2026-09-01T00:00:00Z'],
      ['ending_at', '2026-09-01T03:00:00Z'],
      ['bucket_width', '1h'],
      ['group_by[]', 'model'],
      ['group_by[]', 'api_key_id'],
      ['group_by[]', 'workspace_id'],
      ['group_by[]', 'service_tier'],
      ['group_by[]', 'context_window'],
      ['limit', '168'],
    ]);
    expect(second!.url.searchParams.get('page')).toBe(CURSOR);
    for (const request of server.requests) {
      expect(request.headers['x-api-key']).toBe(ADMIN_KEY);
      expect(request.headers['anthropic-version']).toBe('2023-06-01');
      expect(request.headers.authorization).toBeUndefined();
      expect(request.url.href).not.toContain(ADMIN_KEY);
      const otherHeaders = Object.entries(request.headers).filter(([name]) => name !== 'x-api-key');
      expect(JSON.stringify(otherHeaders)).not.toContain(ADMIN_KEY);
    }
  });

  it('maps a day window to bucket_width=1d and the 31-bucket page limit', async () => {
    const day = { start: new Date('2026-08-31T00:00:00Z'), end: new Date('2026-09-02T00:00:00Z'), granularity: 'day' } as const;
    const { server, context } = await setUp(() => json({ data: [], has_more: false, next_page: null }));
    expect(await collectAll(anthropicUsageAdapter, day, context)).toEqual([]);
    const query = server.requests[0]!.url.searchParams;
    expect([query.get('starting_at'), query.get('ending_at'), query.get('bucket_width'), query.get('limit')]).toEqual([
      '2026-08-31T00:00:00Z',
      '2026-09-02T00:00:00Z',
      '1d',
      '31',
    ]);
    expect(query.getAll('group_by[]')).toEqual(['model']);
  });

  it('preserves total input: input + cached_read + cached_write equals uncached + cache read + 5m + 1h', async () => {
    const { context } = await setUp(serveAnthropic, GROUPED);
    const records = await collectAll(anthropicUsageAdapter, WINDOW, context);
    const totals = records.map((record) => (record.input_tokens ?? 0) + (record.cached_read_tokens ?? 0) + (record.cached_write_tokens ?? 0));
    // 15400 + 812000 + 41000 + 2000; 900 + 0 + 0 + 0; 5000.
    expect(totals).toEqual([870400, 900, 5000]);
  });

  it('keeps NULL (not reported) apart from 0 (reported zero), and leaves requests and reasoning unknown', async () => {
    const { context } = await setUp(serveAnthropic, GROUPED);
    const records = await collectAll(anthropicUsageAdapter, WINDOW, context);
    expect(records[1]).toMatchObject({ cached_read_tokens: 0, cached_write_tokens: 0, cached_write_1h_tokens: 0 });
    expect(records[2]).toMatchObject({ cached_read_tokens: null, cached_write_tokens: null, cached_write_1h_tokens: null });
    for (const record of records) {
      expect(record.requests ?? null).toBeNull();
      expect(record.reasoning_tokens ?? null).toBeNull();
      expect(record.cost_usd ?? null).toBeNull();
    }
  });

  it('returns the same records when the window is collected again', async () => {
    const { context } = await setUp(serveAnthropic, GROUPED);
    const first = await collectAll(anthropicUsageAdapter, WINDOW, context);
    expect(await collectAll(anthropicUsageAdapter, WINDOW, context)).toEqual(first);
  });

  it('adds up dimensions it was not asked to group by into one row per model and bucket', async () => {
    const { context } = await setUp((request) => {
      if (request.url.searchParams.get('page') === CURSOR) return serveAnthropic(request);
      // Without grouping the API answers null dimensions: two null-dimension results for one model are added up.
      const page = structuredClone(messagesPage1) as { data: { results: Record<string, unknown>[] }[] };
      for (const result of page.data[0]!.results) Object.assign(result, { model: 'claude-sonnet-4-6', api_key_id: null, workspace_id: null, service_tier: null, context_window: null });
      return json(page);
    });
    const records = await collectAll(anthropicUsageAdapter, WINDOW, context);
    expect(records[0]).toMatchObject({ model: 'claude-sonnet-4-6', labels: {}, input_tokens: 16300, cached_read_tokens: 812000, cached_write_tokens: 43000, cached_write_1h_tokens: 2000, output_tokens: 23220 });
    expect(records).toHaveLength(2);
  });
});

describe('anthropicUsageAdapter failures', () => {
  it('retries a 429 after its Retry-After and returns the same records', async () => {
    let refused = false;
    const { server, context } = await setUp((request) => {
      if (!refused) {
        refused = true;
        return json({ type: 'error', error: { type: 'rate_limit_error', message: 'Rate limited' } }, 429, { 'retry-after': '1' });
      }
      return serveAnthropic(request);
    }, GROUPED);
    expect(await collectAll(anthropicUsageAdapter, WINDOW, context)).toEqual(EXPECTED);
    const [first, second] = server.requests;
    expect(second!.url.search).toBe(first!.url.search);
    expect(second!.receivedAt - first!.receivedAt).toBeGreaterThanOrEqual(950);
  });

  it('retries a 500 and then succeeds', async () => {
    let failed = false;
    const { context } = await setUp((request) => {
      if (request.url.searchParams.get('page') === CURSOR && !failed) {
        failed = true;
        return json({ type: 'error', error: { type: 'api_error', message: 'Internal server error' } }, 500);
      }
      return serveAnthropic(request);
    }, GROUPED);
    expect(await collectAll(anthropicUsageAdapter, WINDOW, context)).toEqual(EXPECTED);
  });

  it('gives up on a response slower than the deadline', async () => {
    const { context } = await setUp(
      (request) => new Promise((resolve) => setTimeout(() => resolve(serveAnthropic(request)), 1_500)),
      {},
      { deadlineMs: 200, maxAttempts: 2, retryBudgetMs: 1_000 },
    );
    const started = Date.now();
    const error = await collectAll(anthropicUsageAdapter, WINDOW, context).catch((caught: unknown) => caught);
    expect(AdapterHttpError.isInstance(error) && error.failure).toBe('deadline');
    expect(Date.now() - started).toBeLessThan(1_400);
  });

  it('fails a 401 with the key it needs, never the key itself', async () => {
    const { context } = await setUp((request) =>
      json({ type: 'error', error: { type: 'authentication_error', message: `invalid x-api-key ${request.headers['x-api-key']}` } }, 401),
    );
    const error = await collectAll(anthropicUsageAdapter, WINDOW, context).catch((caught: unknown) => caught);
    expect(AdapterHttpError.isInstance(error)).toBe(true);
    const message = (error as Error).message;
    expect(message).toMatch(/answered 401: the admin key was refused: .*Admin API key \(sk-ant-admin…/);
    expect(message).not.toContain(ADMIN_KEY);
    expect(JSON.stringify(context.logs)).not.toContain(ADMIN_KEY);
  });

  it('fails a 403 naming what the key lacks, without retrying', async () => {
    const { server, context } = await setUp(() => json({ type: 'error', error: { type: 'permission_error', message: 'not an admin key' } }, 403));
    const error = await collectAll(anthropicUsageAdapter, WINDOW, context).catch((caught: unknown) => caught);
    expect((error as Error).message).toMatch(/answered 403: the admin key lacks a permission: .*organization member with the admin role.*not an admin key/);
    expect(server.requests).toHaveLength(1);
  });

  it('fails a malformed body with the field named instead of writing numbers', async () => {
    const broken = structuredClone(messagesPage1) as { data: { results: Record<string, unknown>[] }[] };
    delete broken.data[0]!.results[1]!.uncached_input_tokens;
    const { context } = await setUp(() => json(broken));
    const error = await collectAll(anthropicUsageAdapter, WINDOW, context).catch((caught: unknown) => caught);
    expect(ResponseShapeError.isInstance(error)).toBe(true);
    expect((error as Error).message).toContain('data[0].results[1].uncached_input_tokens');
  });

  it('fails a unix timestamp where RFC 3339 is expected', async () => {
    const broken = structuredClone(messagesPage2) as { data: Record<string, unknown>[] };
    broken.data[0]!.starting_at = 1788228000;
    const { context } = await setUp(() => json(broken));
    await expect(collectAll(anthropicUsageAdapter, WINDOW, context)).rejects.toThrow(/data\[0\]\.starting_at/);
  });

  it('fails a bucket outside the window', async () => {
    const outside = { data: [{ starting_at: '2026-09-01T05:00:00Z', ending_at: '2026-09-01T06:00:00Z', results: [] }], has_more: false, next_page: null };
    const { context } = await setUp(() => json(outside));
    await expect(collectAll(anthropicUsageAdapter, WINDOW, context)).rejects.toThrow(/data\[0\]\.starting_at: 2026-09-01T05:00:00.000Z is not the start of a hour in the requested window/);
  });
});

describe('anthropicUsageAdapter.collectProviderCosts', () => {
  it('returns the billed amounts per day, cents turned into exact dollars', async () => {
    const { server, context } = await setUp(serveAnthropic, GROUPED);
    const records = await anthropicUsageAdapter.collectProviderCosts!(WINDOW, context);
    const day = new Date('2026-09-01T00:00:00Z');
    expect(records).toEqual([
      { bucket_start: day, provider: 'anthropic', account: 'wrkspc_01JwQvzr7rXLA5AGx3HKfFUJ', model: 'claude-sonnet-4-6', line_item: 'Claude Sonnet 4.6 Usage - Input Tokens', amount_usd: '48.21337', currency: 'USD' },
      { bucket_start: day, provider: 'anthropic', account: 'wrkspc_01JwQvzr7rXLA5AGx3HKfFUJ', model: 'claude-sonnet-4-6', line_item: 'Claude Sonnet 4.6 Usage - Cache Read', amount_usd: '243.6', currency: 'USD' },
      { bucket_start: day, provider: 'anthropic', account: '', model: '', line_item: 'Web Search Usage', amount_usd: '0.05', currency: 'USD' },
      { bucket_start: day, provider: 'anthropic', account: '', model: '', line_item: 'Code Execution Usage', amount_usd: '0.0075', currency: 'USD' },
    ]);
    expect(server.requests[0]!.url.pathname).toBe('/v1/organizations/cost_report');
    expect([...server.requests[0]!.url.searchParams]).toEqual([
      ['starting_at', '2026-09-01T00:00:00Z'],
      ['ending_at', '2026-09-02T00:00:00Z'],
      ['bucket_width', '1d'],
      ['group_by[]', 'workspace_id'],
      ['group_by[]', 'description'],
      ['limit', '31'],
    ]);
  });

  it('reads nothing when costs: false', async () => {
    const { server, context } = await setUp(serveAnthropic, { costs: false });
    expect(await anthropicUsageAdapter.collectProviderCosts!(WINDOW, context)).toEqual([]);
    expect(server.requests).toHaveLength(0);
  });

  it('fails an amount that is a number instead of a decimal string', async () => {
    const broken = structuredClone(costReport) as { data: { results: Record<string, unknown>[] }[] };
    broken.data[0]!.results[2]!.amount = 5;
    const { context } = await setUp(() => json(broken));
    await expect(anthropicUsageAdapter.collectProviderCosts!(WINDOW, context)).rejects.toThrow(/data\[0\]\.results\[2\]\.amount/);
  });
});

describe('anthropicUsageAdapter.check', () => {
  it('makes one cheap call and accepts a working key', async () => {
    const { server, context } = await setUp(serveAnthropic);
    expect(await anthropicUsageAdapter.check!(context)).toEqual({ ok: true, detail: 'the admin key can read the usage report' });
    expect(server.requests).toHaveLength(1);
    expect(server.requests[0]!.url.searchParams.get('starting_at')).toBe('2026-08-31T00:00:00Z');
  });

  it('reports a refused key with the key it needs', async () => {
    const { context } = await setUp(() => json(authenticationError, 401));
    const result = await anthropicUsageAdapter.check!(context);
    expect(result.ok).toBe(false);
    expect(!result.ok && result.reason).toMatch(/answered 401: the admin key was refused: .*Admin API key/);
  });
});
