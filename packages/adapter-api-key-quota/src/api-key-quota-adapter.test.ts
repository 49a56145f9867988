import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createTestContext, describeUsageAdapterConformance } from '@utt/adapter-testkit';
import { createStagedState, isUsageAdapterV1, parseQuotaReading } from '@utt/core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { apiKeyQuotaAdapter } from './api-key-quota-adapter';
import { apiKeyQuotaConfigSchema } from './api-key-quota-config';

const NOW = new Date('2026-12-03T12:00:00Z');
const GOOD = 'sk-test-GOOD-key-0123456789abcdef';
const BAD = 'sk-test-BAD-key-0123456789abcdef';

const GEMINI_429 = {
  error: {
    code: 429,
    message: 'You exceeded your current quota… Please retry in 20.7s.',
    status: 'RESOURCE_EXHAUSTED',
    details: [
      { '@type': 'type.googleapis.com/google.rpc.Help', links: [{ description: 'Learn more', url: 'https://ai.google.dev/gemini-api/docs/rate-limits' }] },
      {
        '@type': 'type.googleapis.com/google.rpc.QuotaFailure',
        violations: [
          { quotaMetric: 'generativelanguage.googleapis.com/generate_content_free_tier_requests', quotaId: 'GenerateRequestsPerMinutePerProjectPerModel-FreeTier', quotaDimensions: { location: 'global', model: 'gemini-2.5-flash' }, quotaValue: '5' },
          { quotaMetric: 'generativelanguage.googleapis.com/generate_content_free_tier_requests', quotaId: 'GenerateRequestsPerDayPerProjectPerModel-FreeTier', quotaDimensions: { location: 'global', model: 'gemini-2.5-flash' }, quotaValue: '20' },
        ],
      },
      { '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '20.7s' },
    ],
  },
};

let server: Server;
let baseUrl: string;
const seen: { method: string; path: string; headers: IncomingMessage['headers']; body: string }[] = [];

beforeAll(async () => {
  server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk) => (body += chunk));
    request.on('end', () => {
      seen.push({ method: request.method ?? '', path: request.url ?? '', headers: request.headers, body });
      const key = String(request.headers['x-api-key'] ?? request.headers['x-goog-api-key'] ?? request.headers.authorization ?? '').replace('Bearer ', '');
      const send = (status: number, payload: unknown, headers: Record<string, string> = {}) => {
        response.writeHead(status, { 'content-type': 'application/json', ...headers });
        response.end(typeof payload === 'string' ? payload : JSON.stringify(payload));
      };
      if (key === BAD) return send(401, { error: { type: 'authentication_error' } });
      const path = request.url ?? '';
      if (path === '/v1/messages') {
        return send(200, { id: 'msg', usage: { input_tokens: 1, output_tokens: 1 } }, {
          'anthropic-ratelimit-requests-limit': '50',
          'anthropic-ratelimit-requests-remaining': '49',
          'anthropic-ratelimit-requests-reset': '2026-12-03T12:00:01Z',
          'anthropic-ratelimit-tokens-limit': '50000',
          'anthropic-ratelimit-tokens-remaining': '45000',
          'anthropic-ratelimit-tokens-reset': '2026-12-03T12:00:06Z',
        });
      }
      if (path === '/v1/chat/completions') {
        return send(429, { error: { message: 'Rate limit exceeded', type: 'rate_limit_error', code: 429 } }, {
          'x-ratelimit-limit-requests': '60',
          'x-ratelimit-remaining-requests': '0',
          'x-ratelimit-reset-requests': '1s',
          'x-ratelimit-limit-tokens': '150000',
          'x-ratelimit-remaining-tokens': '149984',
          'x-ratelimit-reset-tokens': '6m0s',
        });
      }
      if (path.startsWith('/v1beta/models/')) return send(429, GEMINI_429);
      if (path === '/v1/api-key') return send(200, { redacted_api_key: 'xai-…abcd', api_key_blocked: false, api_key_disabled: false, team_blocked: false });
      if (path === '/api/v1/key') return send(200, { data: { label: 'ci', limit: 25, limit_remaining: 5.5, limit_reset: 'monthly', usage: 19.5, is_free_tier: false } });
      if (path === '/user/balance') return send(200, { is_available: true, balance_infos: [{ currency: 'CNY', total_balance: '110.00', granted_balance: '10.00', topped_up_balance: '100.00' }] });
      if (path === '/gateway') return send(200, { ok: true }, { 'exedev-gateway-cost': '0.0123', 'anthropic-ratelimit-tokens-limit': '100000', 'anthropic-ratelimit-tokens-remaining': '80000' });
      return send(404, {});
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
beforeEach(() => {
  seen.length = 0;
});

describeUsageAdapterConformance({
  adapter: apiKeyQuotaAdapter,
  config: { keys: [{ provider: 'deepseek', key: 'sk-canary-deepseek-0123456789', account: 'ds', baseUrl: 'http://127.0.0.1:9' }] },
  window: { start: new Date('2026-12-01T00:00:00Z'), end: new Date('2026-12-02T00:00:00Z'), granularity: 'hour' },
  canarySecrets: ['sk-canary-deepseek-0123456789'],
  quotaOnly: true,
});

describe('definition', () => {
  it('is a v1 adapter with collectQuota whose collect() returns no usage', async () => {
    expect(isUsageAdapterV1(apiKeyQuotaAdapter)).toBe(true);
    const context = createTestContext({ config: apiKeyQuotaConfigSchema.parse({ keys: [{ provider: 'deepseek', key: 'k', account: 'a' }] }), now: NOW });
    expect(await apiKeyQuotaAdapter.collect({ start: NOW, end: NOW, granularity: 'hour' }, context)).toEqual([]);
  });
});

function runner(keys: unknown[]) {
  let stored = new Map<string, unknown>();
  return async (now = NOW) => {
    const staged = createStagedState(stored);
    const context = Object.assign(createTestContext({ config: apiKeyQuotaConfigSchema.parse({ keys }), now }), { state: staged.state });
    const readings = (await apiKeyQuotaAdapter.collectQuota?.(context)) ?? [];
    stored = new Map([...stored, ...staged.changes().set]);
    return readings.map((reading) => parseQuotaReading(reading, { source: 'keys' }));
  };
}

describe('API-key quota', () => {
  it('Anthropic probe: a one-token call, per-minute readings from its headers, at most once per probe interval', async () => {
    const run = runner([{ provider: 'anthropic', key: GOOD, account: 'api-team', probe: true, baseUrl }]);
    const readings = await run();
    expect(readings.map((r) => [r.window, r.usedRatio, r.limit, r.remaining, r.status, r.obtainedVia])).toEqual([
      ['requests_1m', 0.02, 50, 49, 'allowed', 'probe'],
      ['tokens_1m', 0.1, 50000, 45000, 'allowed', 'probe'],
    ]);
    expect(JSON.parse(seen[0]?.body ?? '{}')).toMatchObject({ max_tokens: 1, model: 'claude-haiku-4-5' });
    expect(seen[0]?.headers['x-api-key']).toBe(GOOD);
    expect(await run(new Date(NOW.getTime() + 10 * 60_000))).toEqual([]);
    expect(seen).toHaveLength(1);
    expect(await run(new Date(NOW.getTime() + 21 * 60_000))).toHaveLength(2);
  });

  it('OpenAI probe answered 429: exhausted windows rejected, Go-style resets', async () => {
    const readings = await runner([{ provider: 'openai', key: GOOD, account: 'org-main', probe: true, baseUrl }])();
    expect(readings.map((r) => [r.window, r.usedRatio, r.resetsAt?.toISOString(), r.status])).toEqual([
      ['requests_1m', 1, '2026-12-03T12:00:01.000Z', 'rejected'],
      ['tokens_1m', 16 / 150000, '2026-12-03T12:06:00.000Z', 'allowed'],
    ]);
  });

  it('without probe only the free check runs: valid, or invalid_key with no model call', async () => {
    const readings = await runner([
      { provider: 'xai', key: GOOD, account: 'xai-face', baseUrl },
      { provider: 'anthropic', key: BAD, account: 'api-ateam', baseUrl },
    ])();
    expect(readings.map((r) => [r.provider, r.account, r.window, r.status])).toEqual([
      ['xai', 'xai-face', 'account', 'allowed'],
      ['anthropic', 'api-ateam', 'account', 'invalid_key'],
    ]);
    expect(seen.map((request) => `${request.method} ${request.path}`)).toEqual(['GET /v1/api-key', 'GET /v1/models']);
    expect(JSON.stringify(readings)).not.toContain(BAD);
  });

  it("Gemini's 429 body: per-minute and per-day quotas by quotaId, the retry delay as the per-minute reset; the key in a header, never the URL", async () => {
    const readings = await runner([{ provider: 'gemini', key: GOOD, account: 'free-tier', probe: true, baseUrl }])();
    expect(readings.map((r) => [r.provider, r.window, r.windowSeconds, r.limit, r.resetsAt?.toISOString() ?? null, r.status])).toEqual([
      ['google', 'requests_1m_gemini_2_5_flash', 60, 5, '2026-12-03T12:00:20.700Z', 'rejected'],
      ['google', 'requests_1d_gemini_2_5_flash', 86400, 20, null, 'rejected'],
    ]);
    expect(seen[0]?.path).toBe('/v1beta/models/gemini-2.5-flash:generateContent');
    expect(seen[0]?.headers['x-goog-api-key']).toBe(GOOD);
  });

  it('OpenRouter key limit and DeepSeek balance, with no model call', async () => {
    const readings = await runner([
      { provider: 'openrouter', key: GOOD, account: 'or-ci', baseUrl },
      { provider: 'deepseek', key: GOOD, account: 'ds', baseUrl },
    ])();
    expect(readings.map((r) => [r.provider, r.window, r.usedRatio, r.rawValue, r.rawUnit, r.limit, r.remaining, r.status])).toEqual([
      ['openrouter', 'month', 0.78, 19.5, 'usd', 25, 5.5, 'allowed'],
      ['deepseek', 'balance_cny', null, 110, 'cny', null, 110, 'allowed'],
    ]);
  });

  it("a generic probe reads a configurable cost header (seed 002's gateway) and its rate-limit headers", async () => {
    const readings = await runner([
      { provider: 'generic', name: 'shelley', account: 'shelley-proxy', url: `${baseUrl}/gateway`, key: GOOD, keyHeader: 'x-api-key', headerStyle: 'anthropic', costHeader: 'Exedev-Gateway-Cost', body: { model: 'claude-sonnet-4-5', max_tokens: 1 } },
    ])();
    expect(readings.map((r) => [r.provider, r.window, r.usedRatio, r.rawValue, r.rawUnit])).toEqual([
      ['shelley', 'tokens_1m', 0.2, 20000, 'tokens'],
      ['shelley', 'call_cost', null, 0.0123, 'usd'],
    ]);
  });

  it('refuses a config without an account, naming the field', () => {
    const result = apiKeyQuotaConfigSchema.safeParse({ keys: [{ provider: 'openai', key: GOOD }] });
    expect(result.success).toBe(false);
    expect(JSON.stringify(result.error?.issues)).toContain('account');
  });
});
