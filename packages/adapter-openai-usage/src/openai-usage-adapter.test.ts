import { collectAll, createTestContext, type FakeServer, type FakeServerHandler, startFakeServer } from '@utt/adapter-testkit';
import { AdapterHttpError, ResponseShapeError, type UsageAdapterV1Window } from '@utt/core';
import { afterEach, describe, expect, it } from 'vitest';
import completionsPage1 from './__fixtures__/completions-1h-page-1.json' with { type: 'json' };
import completionsPage2 from './__fixtures__/completions-1h-page-2.json' with { type: 'json' };
import costs from './__fixtures__/costs-1d.json' with { type: 'json' };
import embeddings from './__fixtures__/embeddings-1h.json' with { type: 'json' };
import { openaiUsageAdapter } from './openai-usage-adapter';
import { type OpenaiUsageConfigInput, openaiUsageConfigSchema } from './openai-usage-config';

const ADMIN_KEY = 'sk-admin-TEST-5f1c9a7e-never-logged';
const CURSOR = 'page_AAAAAGdGxdEiJdKOAAAAAGcqsYA=';
const WINDOW: UsageAdapterV1Window = {
  start: new Date('2026-09-01T00:00:00Z'),
  end: new Date('2026-09-01T03:00:00Z'),
  granularity: 'hour',
};

const json = (body: unknown, status = 200, headers: Record<string, string> = {}) => ({ status, headers, body: JSON.stringify(body) });

/** The fake OpenAI: answers by path and cursor, and only to the right key. */
const serveOpenai: FakeServerHandler = (request) => {
  if (request.headers.authorization !== `Bearer ${ADMIN_KEY}`) return json({ error: { message: 'Incorrect API key provided' } }, 401);
  const page = request.url.searchParams.get('page');
  switch (request.url.pathname) {
    case '/v1/organization/usage/completions':
      return json(page === CURSOR ? completionsPage2 : completionsPage1);
    case '/v1/organization/usage/embeddings':
      return json(embeddings);
    case '/v1/organization/costs':
      return json(costs);
    default:
      return json({ error: { message: 'not found' } }, 404);
  }
};

let server: FakeServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function setUp(handler: FakeServerHandler = serveOpenai, config: Partial<OpenaiUsageConfigInput> = {}, http = {}) {
  server = await startFakeServer(handler);
  const context = createTestContext({
    config: openaiUsageConfigSchema.parse({ adminKey: ADMIN_KEY, baseUrl: `${server.baseUrl}/v1`, ...config }),
    now: new Date('2026-09-01T03:10:00Z'),
    http,
  });
  return { server, context };
}

const GROUPED = { groupBy: ['project', 'batch', 'service_tier'] } satisfies Partial<OpenaiUsageConfigInput>;

// Written by hand from the fixtures: input = input_tokens − input_cached_tokens − input_cache_write_tokens.
const EXPECTED_COMPLETIONS = [
  {
    granularity: 'hour',
    bucket_start: new Date('2026-09-01T00:00:00Z'),
    provider: 'openai',
    model: 'gpt-5.2-2026-01-15',
    account: 'proj_alpha',
    api_key: '',
    user_id: '',
    labels: { endpoint: 'completions', batch: 'false', service_tier: 'default' },
    input_tokens: 58000,
    output_tokens: 9100,
    cached_read_tokens: 120000,
    cached_write_tokens: 4000,
    requests: 42,
    measurement_basis: 'exact',
  },
  {
    granularity: 'hour',
    bucket_start: new Date('2026-09-01T00:00:00Z'),
    provider: 'openai',
    model: 'gpt-5-mini-2025-08-07',
    account: 'proj_alpha',
    api_key: '',
    user_id: '',
    labels: { endpoint: 'completions', batch: 'false', service_tier: 'default' },
    input_tokens: 5000,
    output_tokens: 700,
    cached_read_tokens: 0,
    cached_write_tokens: null,
    requests: 9,
    measurement_basis: 'exact',
  },
  {
    granularity: 'hour',
    bucket_start: new Date('2026-09-01T02:00:00Z'),
    provider: 'openai',
    model: 'gpt-5.2-2026-01-15',
    account: '',
    api_key: '',
    user_id: '',
    labels: { endpoint: 'completions', batch: 'true', service_tier: 'flex' },
    input_tokens: 1000,
    output_tokens: 50,
    cached_read_tokens: null,
    cached_write_tokens: null,
    requests: 2,
    measurement_basis: 'exact',
  },
];

const EXPECTED_EMBEDDINGS = {
  granularity: 'hour',
  bucket_start: new Date('2026-09-01T00:00:00Z'),
  provider: 'openai',
  model: 'text-embedding-3-small',
  account: 'proj_alpha',
  api_key: '',
  user_id: '',
  labels: { endpoint: 'embeddings' },
  input_tokens: 3000,
  requests: 5,
  measurement_basis: 'exact',
};

describe('openaiUsageAdapter.collect', () => {
  it('returns exactly the served numbers in core semantics, following every page', async () => {
    const { context } = await setUp(serveOpenai, GROUPED);
    const records = await collectAll(openaiUsageAdapter, WINDOW, context);
    expect(records).toEqual([...EXPECTED_COMPLETIONS, EXPECTED_EMBEDDINGS]);
    expect(context.logs).toEqual([]);
  });

  it('sends the window as unix seconds, the bucket width, group_by repeated and the key only in the Authorization header', async () => {
    const { server, context } = await setUp(serveOpenai, GROUPED);
    await collectAll(openaiUsageAdapter, WINDOW, context);
    expect(server.requests.map((request) => `${request.method} ${request.url.pathname}`)).toEqual([
      'GET /v1/organization/usage/completions',
      'GET /v1/organization/usage/completions',
      'GET /v1/organization/usage/embeddings',
    ]);
    const [first, second, third] = server.requests;
    expect([...first!.url.searchParams]).toEqual([
      ['start_time', '1788220800'],
      ['end_time', '1788231600'],
      ['bucket_width', '1h'],
      ['group_by', 'model'],
      ['group_by', 'project_id'],
      ['group_by', 'batch'],
      ['group_by', 'service_tier'],
      ['limit', '168'],
    ]);
    expect(second!.url.searchParams.get('page')).toBe(CURSOR);
    // Embeddings know no batch or service tier grouping.
    expect(third!.url.searchParams.getAll('group_by')).toEqual(['model', 'project_id']);
    for (const request of server.requests) {
      expect(request.headers.authorization).toBe(`Bearer ${ADMIN_KEY}`);
      expect(request.url.href).not.toContain(ADMIN_KEY);
      const otherHeaders = Object.entries(request.headers).filter(([name]) => name !== 'authorization');
      expect(JSON.stringify(otherHeaders)).not.toContain(ADMIN_KEY);
    }
  });

  it('maps a day window to bucket_width=1d and the 31-bucket page limit', async () => {
    const day = { start: new Date('2026-08-31T00:00:00Z'), end: new Date('2026-09-02T00:00:00Z'), granularity: 'day' } as const;
    const { server, context } = await setUp(() => json({ object: 'page', data: [], has_more: false, next_page: null }), { endpoints: ['completions'] });
    expect(await collectAll(openaiUsageAdapter, day, context)).toEqual([]);
    const query = server.requests[0]!.url.searchParams;
    expect([query.get('start_time'), query.get('end_time'), query.get('bucket_width'), query.get('limit')]).toEqual([
      '1788134400',
      '1788307200',
      '1d',
      '31',
    ]);
    expect(query.getAll('group_by')).toEqual(['model']);
  });

  it('preserves total input: input + cached_read + cached_write equals the served input_tokens', async () => {
    const { context } = await setUp(serveOpenai, { endpoints: ['completions'] });
    const records = await collectAll(openaiUsageAdapter, WINDOW, context);
    const totals = records.map((record) => (record.input_tokens ?? 0) + (record.cached_read_tokens ?? 0) + (record.cached_write_tokens ?? 0));
    expect(totals).toEqual([182000, 5000, 1000]);
  });

  it('keeps NULL (not reported) apart from 0 (reported zero)', async () => {
    const { context } = await setUp(serveOpenai, { endpoints: ['completions', 'embeddings'] });
    const records = await collectAll(openaiUsageAdapter, WINDOW, context);
    const mini = records.find((record) => record.model === 'gpt-5-mini-2025-08-07');
    expect(mini).toMatchObject({ cached_read_tokens: 0, cached_write_tokens: null });
    const embedding = records.find((record) => record.model === 'text-embedding-3-small');
    expect(embedding?.output_tokens ?? null).toBeNull();
    expect(embedding?.cached_read_tokens ?? null).toBeNull();
    for (const record of records) {
      expect(record.reasoning_tokens ?? null).toBeNull();
      expect(record.cached_write_1h_tokens ?? null).toBeNull();
      expect(record.cost_usd ?? null).toBeNull();
      expect(record.cost_source ?? null).toBeNull();
    }
  });

  it('returns the same records when the window is collected again', async () => {
    const { context } = await setUp(serveOpenai, GROUPED);
    const first = await collectAll(openaiUsageAdapter, WINDOW, context);
    const second = await collectAll(openaiUsageAdapter, WINDOW, context);
    expect(second).toEqual(first);
  });

  it('reads images and audio as request counts only', async () => {
    const bucket = { start_time: 1788220800, end_time: 1788224400, results: [{ num_model_requests: 7, images: 12, model: 'gpt-image-1' }] };
    const { server, context } = await setUp(() => json({ data: [bucket], has_more: false, next_page: null }), { endpoints: ['images'] });
    expect(await collectAll(openaiUsageAdapter, WINDOW, context)).toEqual([
      {
        granularity: 'hour',
        bucket_start: new Date('2026-09-01T00:00:00Z'),
        provider: 'openai',
        model: 'gpt-image-1',
        account: '',
        api_key: '',
        user_id: '',
        labels: { endpoint: 'images' },
        requests: 7,
        measurement_basis: 'exact',
      },
    ]);
    expect(server.requests[0]!.url.pathname).toBe('/v1/organization/usage/images');
  });
});

describe('openaiUsageAdapter failures', () => {
  it('retries a 429 after its Retry-After and returns the same records', async () => {
    let refused = false;
    const { server, context } = await setUp((request) => {
      if (!refused) {
        refused = true;
        return json({ error: { message: 'Rate limit reached' } }, 429, { 'retry-after': '1' });
      }
      return serveOpenai(request);
    }, GROUPED);
    const records = await collectAll(openaiUsageAdapter, WINDOW, context);
    expect(records).toEqual([...EXPECTED_COMPLETIONS, EXPECTED_EMBEDDINGS]);
    const [first, second] = server.requests;
    expect(second!.url.search).toBe(first!.url.search);
    expect(second!.receivedAt - first!.receivedAt).toBeGreaterThanOrEqual(950);
  });

  it('retries a 500 and then succeeds', async () => {
    let failed = false;
    const { context } = await setUp((request) => {
      if (request.url.searchParams.get('page') === CURSOR && !failed) {
        failed = true;
        return json({ error: { message: 'The server had an error' } }, 500);
      }
      return serveOpenai(request);
    }, GROUPED);
    expect(await collectAll(openaiUsageAdapter, WINDOW, context)).toEqual([...EXPECTED_COMPLETIONS, EXPECTED_EMBEDDINGS]);
  });

  it('gives up on a response slower than the deadline', async () => {
    const { context } = await setUp(
      (request) => new Promise((resolve) => setTimeout(() => resolve(serveOpenai(request)), 1_500)),
      {},
      { deadlineMs: 200, maxAttempts: 2, retryBudgetMs: 1_000 },
    );
    const started = Date.now();
    const error = await collectAll(openaiUsageAdapter, WINDOW, context).catch((caught: unknown) => caught);
    expect(AdapterHttpError.isInstance(error) && error.failure).toBe('deadline');
    expect(Date.now() - started).toBeLessThan(1_400);
  });

  it('fails a 401 with the permission it needs, never the key', async () => {
    const { context } = await setUp((request) =>
      json({ error: { message: `Incorrect API key provided: ${request.headers.authorization}` } }, 401),
    );
    const error = await collectAll(openaiUsageAdapter, WINDOW, context).catch((caught: unknown) => caught);
    expect(AdapterHttpError.isInstance(error)).toBe(true);
    const message = (error as Error).message;
    expect(message).toContain('answered 401');
    expect(message).toContain('organization Admin API key');
    expect(message).toContain('read access to Usage and Costs');
    expect(message).not.toContain(ADMIN_KEY);
    expect(JSON.stringify(context.logs)).not.toContain(ADMIN_KEY);
  });

  it('fails a 403 naming the missing permission, without retrying', async () => {
    const { server, context } = await setUp(() => json({ error: { message: 'Missing scopes: api.usage.read' } }, 403));
    const error = await collectAll(openaiUsageAdapter, WINDOW, context).catch((caught: unknown) => caught);
    expect((error as Error).message).toMatch(/answered 403: the admin key lacks a permission: .*read access to Usage and Costs.*api\.usage\.read/);
    expect(server.requests).toHaveLength(1);
  });

  it('fails a malformed body with the field named instead of writing numbers', async () => {
    const broken = structuredClone(completionsPage1) as { data: { results: Record<string, unknown>[] }[] };
    broken.data[0]!.results[1]!.input_tokens = '5000';
    const { context } = await setUp((request) => (request.url.pathname.endsWith('/completions') ? json(broken) : serveOpenai(request)));
    const error = await collectAll(openaiUsageAdapter, WINDOW, context).catch((caught: unknown) => caught);
    expect(ResponseShapeError.isInstance(error)).toBe(true);
    expect((error as Error).message).toContain('data[0].results[1].input_tokens');
  });

  it('fails a body that is not JSON', async () => {
    const { context } = await setUp(() => ({ status: 200, body: '<html>gateway</html>' }));
    await expect(collectAll(openaiUsageAdapter, WINDOW, context)).rejects.toThrow(/body is not valid JSON/);
  });

  it('fails when cached tokens exceed the input that includes them', async () => {
    const broken = structuredClone(completionsPage2) as { data: { results: Record<string, unknown>[] }[] };
    broken.data[0]!.results[0]!.input_cached_tokens = 1001;
    const { context } = await setUp((request) => (request.url.pathname.endsWith('/completions') ? json(broken) : serveOpenai(request)), {
      endpoints: ['completions'],
    });
    await expect(collectAll(openaiUsageAdapter, WINDOW, context)).rejects.toThrow(/page 1 data\[0\]\.results\[0\]\.input_tokens: smaller than/);
  });

  it('fails a bucket outside the window or of the wrong width', async () => {
    const { context } = await setUp(() =>
      json({ data: [{ start_time: 1788220800, end_time: 1788307200, results: [] }], has_more: false, next_page: null }),
    );
    await expect(collectAll(openaiUsageAdapter, WINDOW, context)).rejects.toThrow(/data\[0\]\.end_time: the bucket is not one hour wide/);
  });

  it('fails has_more without a next_page instead of looping', async () => {
    const { context } = await setUp(() => json({ data: [], has_more: true, next_page: null }));
    await expect(collectAll(openaiUsageAdapter, WINDOW, context)).rejects.toThrow(/next_page: missing although has_more is true/);
  });
});

describe('openaiUsageAdapter.collectProviderCosts', () => {
  it('returns the billed amounts per day in exact dollars, with the model where the line item names one', async () => {
    const { server, context } = await setUp(serveOpenai, GROUPED);
    const records = await openaiUsageAdapter.collectProviderCosts!(WINDOW, context);
    expect(records).toEqual([
      { bucket_start: new Date('2026-09-01T00:00:00Z'), provider: 'openai', account: 'proj_alpha', model: 'gpt-5.2', line_item: 'gpt-5.2, input', amount_usd: '0.42', currency: 'USD' },
      { bucket_start: new Date('2026-09-01T00:00:00Z'), provider: 'openai', account: 'proj_alpha', model: 'gpt-5.2', line_item: 'gpt-5.2, cached input', amount_usd: '0.0255', currency: 'USD' },
      { bucket_start: new Date('2026-09-01T00:00:00Z'), provider: 'openai', account: '', model: 'gpt-5.2', line_item: 'gpt-5.2, output', amount_usd: '0.1281', currency: 'USD' },
      { bucket_start: new Date('2026-09-01T00:00:00Z'), provider: 'openai', account: 'proj_alpha', model: '', line_item: 'Web search tool calls', amount_usd: '0.03', currency: 'USD' },
    ]);
    const query = server.requests[0]!.url.searchParams;
    expect(server.requests[0]!.url.pathname).toBe('/v1/organization/costs');
    // The hourly window touches one day: the whole day is asked for.
    expect([...query]).toEqual([
      ['start_time', '1788220800'],
      ['end_time', '1788307200'],
      ['bucket_width', '1d'],
      ['group_by', 'line_item'],
      ['group_by', 'project_id'],
      ['limit', '180'],
    ]);
    expect(server.requests[0]!.headers.authorization).toBe(`Bearer ${ADMIN_KEY}`);
  });

  it('reads nothing when costs: false', async () => {
    const { server, context } = await setUp(serveOpenai, { costs: false });
    expect(await openaiUsageAdapter.collectProviderCosts!(WINDOW, context)).toEqual([]);
    expect(server.requests).toHaveLength(0);
  });
});

describe('openaiUsageAdapter.check', () => {
  it('makes one cheap call and accepts a working key', async () => {
    const { server, context } = await setUp(serveOpenai);
    expect(await openaiUsageAdapter.check!(context)).toEqual({ ok: true, detail: 'the admin key can read organization usage' });
    expect(server.requests).toHaveLength(1);
    expect(server.requests[0]!.url.searchParams.get('limit')).toBe('1');
  });

  it('reports a refused key with the permission it needs', async () => {
    const { context } = await setUp(() => json({ error: { message: 'Incorrect API key provided' } }, 401));
    const result = await openaiUsageAdapter.check!(context);
    expect(result.ok).toBe(false);
    expect(!result.ok && result.reason).toMatch(/answered 401: the admin key was refused: .*organization Admin API key/);
  });
});

describe('openaiUsageAdapter with a very large window', () => {
  // `records.push(...endpointRecords)` overflowed the call stack above ~120,000
  // records: the source failed every cycle and its watermark never advanced.
  it('collects 200,000 results of one endpoint without overflowing the stack', { timeout: 60_000 }, async () => {
    const count = 200_000;
    const results = Array.from({ length: count }, (_, index) => ({
      object: 'organization.usage.embeddings.result',
      input_tokens: 1,
      num_model_requests: 1,
      project_id: 'proj_alpha',
      user_id: `user-${index}`,
      api_key_id: null,
      model: 'text-embedding-3-small',
    }));
    const body = JSON.stringify({
      object: 'page',
      data: [{ object: 'bucket', start_time: 1788220800, end_time: 1788224400, results }],
      has_more: false,
      next_page: null,
    });
    const { context } = await setUp(() => ({ status: 200, headers: {}, body }), { endpoints: ['embeddings'], groupBy: ['user'] });
    const records = await collectAll(openaiUsageAdapter, WINDOW, context);
    expect(records).toHaveLength(count);
    expect(records[count - 1]?.user_id).toBe(`user-${count - 1}`);
  });
});
