import { collectAll, createTestContext, type FakeServer, type FakeServerHandler, startFakeServer, type TestHttpSettings } from '@utt/adapter-testkit';
import {
  AdapterHttpError,
  isUsageAdapterV1,
  parseUsageRecord,
  providerCostRecordSchema,
  ResponseShapeError,
  type UsageAdapterV1State,
  type UsageRecord,
} from '@utt/core';
import { afterEach, describe, expect, it } from 'vitest';
import { fixture, LINK_SIGNATURE, ORG, serveGitHub, TOKEN } from './__fixtures__/fake-github';
import { type CopilotConfigInput, copilotConfigSchema } from './copilot-config';
import defaultExport, { copilotAdapter } from './index';

const WINDOW = { start: new Date('2026-09-14T00:00:00Z'), end: new Date('2026-09-16T00:00:00Z'), granularity: 'day' as const };
const NOW = new Date('2026-09-16T06:00:00Z');
const DAY_14 = new Date('2026-09-14T00:00:00Z');
const DAY_15 = new Date('2026-09-15T00:00:00Z');

let server: FakeServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function start(handler: FakeServerHandler = serveGitHub): Promise<FakeServer> {
  server = await startFakeServer(handler);
  return server;
}

function contextFor(baseUrl: string, extra: Partial<CopilotConfigInput> = {}, options: { http?: TestHttpSettings; state?: UsageAdapterV1State } = {}) {
  const config = copilotConfigSchema.parse({ org: ORG, token: TOKEN, baseUrl, ...extra });
  const context = createTestContext({ config, now: NOW, http: options.http });
  return options.state ? Object.assign(context, { state: options.state }) : context;
}

/** A full row as parseUsageRecord returns it: every counter unknown (NULL) unless given. */
function row(fields: Partial<UsageRecord> & Pick<UsageRecord, 'bucket_start' | 'model' | 'labels'>): UsageRecord {
  return {
    source_instance: '',
    granularity: 'day',
    provider: 'github',
    account: ORG,
    api_key: '',
    user_id: '',
    input_tokens: null,
    output_tokens: null,
    cached_read_tokens: null,
    cached_write_tokens: null,
    cached_write_1h_tokens: null,
    reasoning_tokens: null,
    requests: null,
    cost_usd: null,
    cost_source: null,
    measurement_basis: 'provider_aggregate',
    ...fields,
  };
}

// Hand-copied from the fixtures: the numbers a user should find in token_usage.
const EXPECTED_RECORDS: UsageRecord[] = [
  row({
    bucket_start: DAY_14,
    model: '',
    labels: {
      metric_set: 'activity',
      daily_active_users: '17',
      weekly_active_users: '25',
      monthly_active_users: '31',
      monthly_active_chat_users: '20',
      monthly_active_agent_users: '6',
      user_initiated_interaction_count: '143',
      code_generation_activity_count: '512',
      code_acceptance_activity_count: '187',
      loc_suggested_to_add_sum: '1320',
      loc_suggested_to_delete_sum: '88',
      loc_added_sum: '410',
      loc_deleted_sum: '52',
    },
  }),
  row({ bucket_start: DAY_14, model: 'claude-sonnet-4.6', labels: { metric_set: 'interactions', feature: 'chat_panel_agent_mode' }, requests: 61 }),
  row({ bucket_start: DAY_14, model: 'gpt-4.1', labels: { metric_set: 'interactions', feature: 'chat_panel_ask_mode' }, requests: 82 }),
  row({ bucket_start: DAY_14, model: 'gpt-4.1', labels: { metric_set: 'interactions', feature: 'code_completion' }, requests: 0 }),
  row({
    bucket_start: DAY_14,
    model: 'Claude Sonnet 4.6',
    labels: { metric_set: 'premium_requests', sku: 'Copilot Premium Request' },
    // Already counted on the interaction rows: NULL here, or utt report would double them.
    requests: null,
    cost_usd: '0.8',
    cost_source: 'provider',
  }),
  row({ bucket_start: DAY_14, model: 'o4-mini', labels: { metric_set: 'premium_requests', sku: 'Copilot Premium Request' }, cost_usd: '0.18', cost_source: 'provider' }),
  // AI credits are not requests: requests stays NULL, the dollars are kept.
  row({ bucket_start: DAY_14, model: 'Claude Sonnet 4.6', labels: { metric_set: 'ai_credits', sku: 'AI Credit' }, cost_usd: '2', cost_source: 'provider' }),
  row({
    bucket_start: DAY_15,
    model: '',
    labels: {
      metric_set: 'activity',
      daily_active_users: '12',
      weekly_active_users: '24',
      monthly_active_users: '31',
      user_initiated_interaction_count: '40',
      code_generation_activity_count: '300',
      code_acceptance_activity_count: '90',
      loc_suggested_to_add_sum: '800',
      loc_suggested_to_delete_sum: '20',
      loc_added_sum: '150',
      loc_deleted_sum: '10',
    },
  }),
  row({ bucket_start: DAY_15, model: 'gpt-4.1', labels: { metric_set: 'interactions', feature: 'chat_panel_ask_mode' }, requests: 40 }),
  row({ bucket_start: DAY_15, model: 'gpt-4.1', labels: { metric_set: 'interactions', feature: 'code_completion' }, requests: 0 }),
  row({
    bucket_start: DAY_15,
    model: 'Claude Sonnet 4.6',
    labels: { metric_set: 'premium_requests', sku: 'Copilot Premium Request' },
    requests: null,
    cost_usd: '0',
    cost_source: 'provider',
  }),
];

const EXPECTED_COSTS = [
  { bucket_start: '2026-09-14T00:00:00.000Z', provider: 'github', account: ORG, model: 'Claude Sonnet 4.6', line_item: 'premium_requests:Copilot Premium Request', amount_usd: '0.8', currency: 'USD' },
  { bucket_start: '2026-09-14T00:00:00.000Z', provider: 'github', account: ORG, model: 'o4-mini', line_item: 'premium_requests:Copilot Premium Request', amount_usd: '0.18', currency: 'USD' },
  { bucket_start: '2026-09-14T00:00:00.000Z', provider: 'github', account: ORG, model: 'Claude Sonnet 4.6', line_item: 'ai_credits:AI Credit', amount_usd: '2', currency: 'USD' },
  { bucket_start: '2026-09-15T00:00:00.000Z', provider: 'github', account: ORG, model: 'Claude Sonnet 4.6', line_item: 'premium_requests:Copilot Premium Request', amount_usd: '0', currency: 'USD' },
];

const path = (request: { url: URL }) => `${request.url.pathname}${request.url.search}`;
const downloadQuery = `?sv=2026-03-10&se=2026-09-16T06%3A10%3A00Z&sig=${LINK_SIGNATURE}`;

describe('copilotAdapter', () => {
  it('is the default export and a v1 adapter with day buckets and no token columns of its own', () => {
    expect(defaultExport).toBe(copilotAdapter);
    expect(isUsageAdapterV1(copilotAdapter)).toBe(true);
    expect(copilotAdapter).toMatchObject({
      id: 'copilot',
      sourceSystem: 'copilot',
      capabilities: { granularities: ['day'], cacheTokens: 'none', costSource: 'provider', measurementBasis: 'provider_aggregate', maxBackfillDays: 365, windowed: true },
    });
  });

  it('turns a known window into exactly the served numbers, with token columns NULL', async () => {
    const { baseUrl } = await start();
    const context = contextFor(baseUrl);
    const records = await collectAll(copilotAdapter, WINDOW, context);
    expect(records.map((record) => parseUsageRecord(record))).toEqual(EXPECTED_RECORDS);
    expect(context.logs.filter((line) => line.level !== 'debug')).toEqual([]);
  });

  it('sends the token only to GitHub, follows every download link, and asks each day once', async () => {
    const fake = await start();
    const context = contextFor(fake.baseUrl);
    await collectAll(copilotAdapter, WINDOW, context);
    expect(fake.requests.map(path)).toEqual([
      '/orgs/octo-org/copilot/metrics/reports/organization-1-day?day=2026-09-14',
      `/downloads/organization-1-day-2026-09-14.ndjson${downloadQuery}`,
      `/downloads/organization-1-day-2026-09-14-part-2.ndjson${downloadQuery}`,
      '/organizations/octo-org/settings/billing/premium_request/usage?year=2026&month=9&day=14',
      '/organizations/octo-org/settings/billing/ai_credit/usage?year=2026&month=9&day=14',
      '/orgs/octo-org/copilot/metrics/reports/organization-1-day?day=2026-09-15',
      `/downloads/organization-1-day-2026-09-15.ndjson${downloadQuery}`,
      '/organizations/octo-org/settings/billing/premium_request/usage?year=2026&month=9&day=15',
      '/organizations/octo-org/settings/billing/ai_credit/usage?year=2026&month=9&day=15',
    ]);
    for (const request of fake.requests) {
      if (request.url.pathname.startsWith('/downloads/')) {
        expect(request.headers.authorization).toBeUndefined();
        expect(JSON.stringify(request.headers)).not.toContain(TOKEN);
      } else {
        expect(request.headers).toMatchObject({
          authorization: `Bearer ${TOKEN}`,
          accept: 'application/vnd.github+json',
          'x-github-api-version': '2026-03-10',
        });
      }
    }
    // The signed links' credential never reaches a log line.
    expect(JSON.stringify(context.logs)).not.toContain(LINK_SIGNATURE);

    // The worker calls collectProviderCosts with the same context: billing is not asked for twice.
    const costs = await copilotAdapter.collectProviderCosts?.(WINDOW, context);
    expect(costs).toEqual(EXPECTED_COSTS);
    expect(fake.requests).toHaveLength(9);
  });

  it('returns the billed dollars per day, model and SKU as exact decimal strings', async () => {
    const fake = await start();
    const costs = await copilotAdapter.collectProviderCosts?.(WINDOW, contextFor(fake.baseUrl));
    expect(costs).toEqual(EXPECTED_COSTS);
    expect(costs?.map((cost) => providerCostRecordSchema.parse(cost).amount_usd)).toEqual(['0.8', '0.18', '2', '0']);
    expect(fake.requests.map((request) => request.url.pathname.split('/').at(-2))).toEqual(['premium_request', 'ai_credit', 'premium_request', 'ai_credit']);
  });

  it('gives the same records on a second run (idempotent re-collect)', async () => {
    const { baseUrl } = await start();
    const first = await collectAll(copilotAdapter, WINDOW, contextFor(baseUrl));
    const second = await collectAll(copilotAdapter, WINDOW, contextFor(baseUrl));
    expect(second).toEqual(first);
  });

  it('fills token columns only with the opt-in estimate, and marks those rows derived_estimate', async () => {
    const { baseUrl } = await start();
    const records = (
      await collectAll(
        copilotAdapter,
        WINDOW,
        contextFor(baseUrl, { estimateTokens: { inputPerInteraction: 1000, outputPerInteraction: 200, outputPerAcceptedLine: 10 } }),
      )
    ).map((record) => parseUsageRecord(record));
    const estimated = records.filter((record) => record.measurement_basis === 'derived_estimate');
    // input = interactions × 1000; output = interactions × 200 + accepted lines × 10.
    expect(estimated.map(({ bucket_start, model, labels, requests, input_tokens, output_tokens }) => ({ bucket_start, model, feature: labels.feature, requests, input_tokens, output_tokens }))).toEqual([
      { bucket_start: DAY_14, model: 'claude-sonnet-4.6', feature: 'chat_panel_agent_mode', requests: 61, input_tokens: 61_000, output_tokens: 14_400 },
      { bucket_start: DAY_14, model: 'gpt-4.1', feature: 'chat_panel_ask_mode', requests: 82, input_tokens: 82_000, output_tokens: 16_550 },
      { bucket_start: DAY_14, model: 'gpt-4.1', feature: 'code_completion', requests: 0, input_tokens: 0, output_tokens: 1_750 },
      { bucket_start: DAY_15, model: 'gpt-4.1', feature: 'chat_panel_ask_mode', requests: 40, input_tokens: 40_000, output_tokens: 8_200 },
      { bucket_start: DAY_15, model: 'gpt-4.1', feature: 'code_completion', requests: 0, input_tokens: 0, output_tokens: 1_300 },
    ]);
    for (const record of estimated) expect([record.cached_read_tokens, record.cached_write_tokens, record.reasoning_tokens]).toEqual([null, null, null]);
    // Activity and billing rows are never estimated.
    const others = records.filter((record) => record.measurement_basis !== 'derived_estimate');
    expect(others).toHaveLength(6);
    for (const record of others) expect([record.input_tokens, record.output_tokens]).toEqual([null, null]);
  });

  it('leaves output NULL when only an input factor is configured', async () => {
    const { baseUrl } = await start();
    const records = await collectAll(copilotAdapter, WINDOW, contextFor(baseUrl, { estimateTokens: { inputPerInteraction: 5 } }));
    const first = parseUsageRecord(records[1]);
    expect([first.input_tokens, first.output_tokens, first.measurement_basis]).toEqual([305, null, 'derived_estimate']);
  });

  it('waits out a 429 with Retry-After and retries a 500 on a download link', async () => {
    let reportAnswers = 0;
    let downloadAnswers = 0;
    const fake = await start((request) => {
      if (request.url.pathname.endsWith('organization-1-day') && reportAnswers++ === 0) {
        return { status: 429, headers: { 'retry-after': '1' }, body: '{"message":"API rate limit exceeded"}' };
      }
      if (request.url.pathname.startsWith('/downloads/') && downloadAnswers++ === 0) return { status: 500, body: 'upstream error' };
      return serveGitHub(request);
    });
    const startedAt = performance.now();
    const records = await collectAll(copilotAdapter, WINDOW, contextFor(fake.baseUrl));
    expect(performance.now() - startedAt).toBeGreaterThanOrEqual(990);
    expect(records.map((record) => parseUsageRecord(record))).toEqual(EXPECTED_RECORDS);
    expect(fake.requests.map(path).slice(0, 4)).toEqual([
      '/orgs/octo-org/copilot/metrics/reports/organization-1-day?day=2026-09-14',
      '/orgs/octo-org/copilot/metrics/reports/organization-1-day?day=2026-09-14',
      `/downloads/organization-1-day-2026-09-14.ndjson${downloadQuery}`,
      `/downloads/organization-1-day-2026-09-14.ndjson${downloadQuery}`,
    ]);
  });

  it('fails within the deadline when a download never answers, without the signed query string in the error', async () => {
    const fake = await start((request) => (request.url.pathname.startsWith('/downloads/') ? new Promise(() => {}) : serveGitHub(request)));
    const startedAt = performance.now();
    const error = await collectAll(copilotAdapter, WINDOW, contextFor(fake.baseUrl, {}, { http: { deadlineMs: 200, maxAttempts: 1 } })).catch((caught: unknown) => caught);
    expect(performance.now() - startedAt).toBeLessThan(2_000);
    expect(AdapterHttpError.isInstance(error) && error.failure).toBe('deadline');
    expect(String((error as Error).message)).toContain('/downloads/organization-1-day-2026-09-14.ndjson');
    expect(JSON.stringify({ message: (error as Error).message, stack: (error as Error).stack })).not.toContain(LINK_SIGNATURE);
  });

  it('fails a 401 with the permission the token needs, never the token', async () => {
    const fake = await start(() => ({ status: 401, body: JSON.stringify({ message: `Bad credentials: Bearer ${TOKEN}` }) }));
    const error = (await collectAll(copilotAdapter, WINDOW, contextFor(fake.baseUrl)).catch((caught: unknown) => caught)) as Error;
    expect(AdapterHttpError.isInstance(error)).toBe(true);
    expect(error.message).toContain('answered 401');
    expect(error.message).toContain('"Copilot metrics" (read)');
    expect(error.message).toContain('read:org');
    expect(error.message).not.toContain(TOKEN);
    expect(fake.requests).toHaveLength(1);
  });

  it('names the billing permission when only the billing endpoint refuses the token', async () => {
    const fake = await start((request) => (request.url.pathname.includes('/billing/') ? { status: 403, body: '{"message":"Resource not accessible by personal access token"}' } : serveGitHub(request)));
    const error = (await collectAll(copilotAdapter, WINDOW, contextFor(fake.baseUrl)).catch((caught: unknown) => caught)) as Error;
    expect(error.message).toContain('answered 403');
    expect(error.message).toContain('"Administration" (read)');
  });

  it('does not blame permissions for a 403 that is GitHub\'s secondary rate limit', async () => {
    const fake = await start(() => ({ status: 403, headers: { 'retry-after': '60' }, body: '{"message":"You have exceeded a secondary rate limit"}' }));
    const error = (await collectAll(copilotAdapter, WINDOW, contextFor(fake.baseUrl)).catch((caught: unknown) => caught)) as Error;
    expect(error.message).toContain("secondary rate limit (403 with Retry-After)");
    expect(error.message).not.toContain('Copilot metrics');
  });

  it('fails a malformed NDJSON line with its line number', async () => {
    const broken = `${fixture('organization-1-day-2026-09-15.ndjson').trim()}\n{"day":"2026-09-15",\n`;
    const fake = await start((request) =>
      request.url.pathname === '/downloads/organization-1-day-2026-09-15.ndjson' ? { status: 200, body: broken } : serveGitHub(request),
    );
    const error = await collectAll(copilotAdapter, WINDOW, contextFor(fake.baseUrl)).catch((caught: unknown) => caught);
    expect(ResponseShapeError.isInstance(error)).toBe(true);
    expect((error as Error).message).toBe('unexpected response from Copilot usage-metrics report for 2026-09-15, file 1 of 1: line 2: not valid JSON');
  });

  it('fails a report line missing a figure, naming the line and the field', async () => {
    const line = JSON.parse(fixture('organization-1-day-2026-09-15.ndjson')) as Record<string, unknown>;
    delete line.daily_active_users;
    const fake = await start((request) =>
      request.url.pathname === '/downloads/organization-1-day-2026-09-15.ndjson' ? { status: 200, body: `\n${JSON.stringify(line)}\n` } : serveGitHub(request),
    );
    const error = (await collectAll(copilotAdapter, WINDOW, contextFor(fake.baseUrl)).catch((caught: unknown) => caught)) as Error;
    expect(error.message).toContain('line 2: daily_active_users:');
  });

  it('fails a billing body without usageItems, naming the field', async () => {
    const fake = await start((request) =>
      request.url.pathname.endsWith('/ai_credit/usage') ? { status: 200, body: '{"timePeriod":{"year":2026,"month":9,"day":14}}' } : serveGitHub(request),
    );
    const error = (await collectAll(copilotAdapter, WINDOW, contextFor(fake.baseUrl)).catch((caught: unknown) => caught)) as Error;
    expect(ResponseShapeError.isInstance(error)).toBe(true);
    expect(error.message).toContain('ai_credit/usage: usageItems:');
  });

  it('refuses billing items that are not for the day asked (month totals must not become one day)', async () => {
    const fake = await start((request) =>
      request.url.pathname.endsWith('/premium_request/usage') ? { status: 200, body: '{"timePeriod":{"year":2026,"month":9},"usageItems":[]}' } : serveGitHub(request),
    );
    const error = (await collectAll(copilotAdapter, WINDOW, contextFor(fake.baseUrl)).catch((caught: unknown) => caught)) as Error;
    expect(error.message).toContain('timePeriod: expected {year: 2026, month: 9, day: 14}');
  });

  it('skips a day without a report (204) and does not ask for the day that is not over yet', async () => {
    const fake = await start();
    const context = createTestContext({
      config: copilotConfigSchema.parse({ org: ORG, token: TOKEN, baseUrl: fake.baseUrl, reports: { premiumRequests: false, aiCredits: false } }),
      now: new Date('2026-09-16T12:00:00Z'),
    });
    // 2026-09-16 is not over at 12:00 that day: its report cannot exist yet.
    const window = { start: new Date('2026-09-15T00:00:00Z'), end: new Date('2026-09-17T00:00:00Z'), granularity: 'day' as const };
    const records = await collectAll(copilotAdapter, window, context);
    expect(records.map((record) => parseUsageRecord(record).bucket_start)).toEqual([DAY_15, DAY_15, DAY_15]);
    expect(fake.requests.map(path)).toEqual([
      '/orgs/octo-org/copilot/metrics/reports/organization-1-day?day=2026-09-15',
      `/downloads/organization-1-day-2026-09-15.ndjson${downloadQuery}`,
    ]);
    await collectAll(copilotAdapter, { ...window, start: new Date('2026-09-13T00:00:00Z'), end: new Date('2026-09-14T00:00:00Z') }, context);
    expect(fake.requests.map(path).at(-1)).toBe('/orgs/octo-org/copilot/metrics/reports/organization-1-day?day=2026-09-13');
    expect(context.logs.map((line) => line.message)).toContain('no Copilot usage-metrics report for this day (204)');
  });

  it('keeps the first activity figures of a day when GitHub revises them, so the conflict key stays stable', async () => {
    let dailyActiveUsers = 17;
    const fake = await start((request) =>
      request.url.pathname === '/downloads/organization-1-day-2026-09-14.ndjson'
        ? { status: 200, body: fixture('organization-1-day-2026-09-14.ndjson').replace('"daily_active_users":17', `"daily_active_users":${dailyActiveUsers}`) }
        : serveGitHub(request),
    );
    const state = memoryState();
    const first = await collectAll(copilotAdapter, WINDOW, contextFor(fake.baseUrl, {}, { state }));
    dailyActiveUsers = 18;
    const secondContext = contextFor(fake.baseUrl, {}, { state });
    const second = await collectAll(copilotAdapter, WINDOW, secondContext);
    expect(second).toEqual(first);
    expect(parseUsageRecord(second[0]).labels.daily_active_users).toBe('17');
    expect(secondContext.logs.filter((line) => line.level === 'warn')).toEqual([
      {
        level: 'warn',
        message: 'GitHub revised the Copilot activity figures of a day already written; the first figures are kept so the day keeps one activity row',
        fields: { day: '2026-09-14', account: ORG },
      },
    ]);
    expect(state.keys('activity-labels:')).toEqual(['activity-labels:octo-org:2026-09-14', 'activity-labels:octo-org:2026-09-15']);
  });

  it('reads the enterprise endpoints when configured with enterprise', async () => {
    const fake = await start((request) => {
      const rewritten = new URL(request.url.href.replace('/enterprises/acme/copilot/metrics/reports/enterprise-', `/orgs/${ORG}/copilot/metrics/reports/organization-`).replace('/enterprises/acme/settings/', `/organizations/${ORG}/settings/`));
      return serveGitHub({ ...request, url: rewritten });
    });
    const context = createTestContext({ config: copilotConfigSchema.parse({ enterprise: 'acme', token: TOKEN, baseUrl: fake.baseUrl }), now: NOW });
    const records = await collectAll(copilotAdapter, WINDOW, context);
    expect(records.map((record) => parseUsageRecord(record))).toEqual(EXPECTED_RECORDS.map((record) => ({ ...record, account: 'acme' })));
    expect(fake.requests.map((request) => request.url.pathname).filter((pathname) => !pathname.startsWith('/downloads/')).slice(0, 3)).toEqual([
      '/enterprises/acme/copilot/metrics/reports/enterprise-1-day',
      '/enterprises/acme/settings/billing/premium_request/usage',
      '/enterprises/acme/settings/billing/ai_credit/usage',
    ]);
  });
});

describe('copilotAdapter.check', () => {
  it('validates the token with one cheap call to the 28-day report endpoint', async () => {
    const fake = await start();
    const result = await copilotAdapter.check?.(contextFor(fake.baseUrl));
    expect(result).toEqual({ ok: true, detail: 'usage-metrics reports readable for organization octo-org' });
    expect(fake.requests.map(path)).toEqual(['/orgs/octo-org/copilot/metrics/reports/organization-28-day/latest']);
  });

  it('reports a refused token with the missing permission', async () => {
    const fake = await start(() => ({ status: 403, body: '{"message":"Resource not accessible by personal access token"}' }));
    const result = await copilotAdapter.check?.(contextFor(fake.baseUrl));
    expect(result?.ok).toBe(false);
    expect(result?.ok === false && result.reason).toContain('"Copilot metrics" (read)');
  });

  it('checks the billing endpoint when the usage-metrics report is switched off', async () => {
    const fake = await start(() => ({ status: 401, body: '{"message":"Bad credentials"}' }));
    const result = await copilotAdapter.check?.(contextFor(fake.baseUrl, { reports: { usageMetrics: false } }));
    expect(result?.ok === false && result.reason).toContain('"Administration" (read)');
    expect(fake.requests.map(path)).toEqual(['/organizations/octo-org/settings/billing/premium_request/usage?year=2026&month=9']);
  });
});

function memoryState(): UsageAdapterV1State {
  const values = new Map<string, unknown>();
  return {
    get: (key) => values.get(key),
    keys: (prefix = '') => [...values.keys()].filter((key) => key.startsWith(prefix)).sort(),
    set: (key, value) => void values.set(key, structuredClone(value)),
    delete: (key) => void values.delete(key),
  };
}
