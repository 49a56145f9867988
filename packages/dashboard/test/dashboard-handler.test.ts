import { usageBreakdown, type UsageStore } from '@utt/postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDashboardHandler, type DashboardHandler } from '../src/index';
import { SEED_NOW, SEEDED_API_KEYS, seedDashboard } from './seed-dashboard';
import { openTestStore, TEST_BACKEND_NAMES, type TestStore } from './test-stores';

const PAGES = ['/', '/sources', '/usage', '/reconciliation', '/agents', '/calls', '/tags', '/quotas', '/quality'];
const TOKEN = 'test-token-0123456789abcdef';

function get(handler: DashboardHandler, path: string, headers: Record<string, string> = {}): Promise<Response> {
  return handler(new Request(`http://127.0.0.1:8787${path}`, { headers: { host: '127.0.0.1:8787', ...headers } }));
}

describe.each(TEST_BACKEND_NAMES)('dashboard handler on %s', (backend) => {
  let testStore: TestStore;
  let store: UsageStore;
  let handler: DashboardHandler;

  beforeAll(async () => {
    testStore = await openTestStore(backend);
    store = testStore.store;
    await seedDashboard(store);
    handler = createDashboardHandler({ store, now: () => SEED_NOW, sources: undefined });
  });
  afterAll(async () => {
    await testStore?.dispose();
  });

  it('renders every page with the reporting time zone and without any key id', async () => {
    for (const path of PAGES) {
      const response = await get(handler, path);
      expect(response.status, path).toBe(200);
      expect(response.headers.get('content-type')).toMatch(/^text\/html/);
      expect(response.headers.get('content-security-policy')).toContain("default-src 'none'");
      const body = await response.text();
      expect(body, path).toContain('Times and days in <strong>UTC</strong>');
      for (const key of SEEDED_API_KEYS) expect(body, path).not.toContain(key);
    }
  });

  it('shows month-to-date spend as the store sums it, flat fees once, unpriced apart', async () => {
    const rows = await usageBreakdown(store, { by: [], since: new Date('2026-10-01T00:00:00Z'), until: new Date('2026-11-01T00:00:00Z') });
    const json = (await (await get(handler, '/?format=json&table=summary')).json()) as { tables: { rows: { measure: string; value: string }[] }[] };
    const value = (measure: string) => json.tables[0]?.rows.find((row) => row.measure === measure)?.value;
    expect(value('Spend, month to date')).toBe(rows[0]?.spendUsd);
    // 19 days × (2 × 1.50 + 2 × 0.75) with yesterday's tenfold OpenAI spike, plus one $300 fee.
    expect(value('Spend, month to date')).toBe(String(18 * 4.5 + 2 * 15 + 1.5 + 300));
    expect(value('Flat fees this month')).toBe('300');
    // 11 days × 2 machines of coding-agent usage under the plan.
    expect(value('Covered usage, API-equivalent')).toBe(String(11 * 2 * 2.25));
    expect(value('Unpriced tokens this month')).toBe(String(19 * 6000));
    const html = await (await get(handler, '/')).text();
    expect(html).toContain('Spend anomaly');
    expect(html).toContain('openai/gpt-5 spent $30.00 on 2026-10-19 (7-day mean $3.00)');
    expect(html).toContain('114,000 tokens this month have no cost: a model without a price, or hours of tracked calls whose usage never arrived');
    expect(html).toMatch(/openai \(stale\)/);
  });

  it('exports the usage table as CSV exactly as shown, with formulas defused', async () => {
    const response = await get(handler, '/usage?from=2026-10-01&to=2026-10-20&by=model');
    const html = await response.text();
    const csvResponse = await get(handler, '/usage?from=2026-10-01&to=2026-10-20&by=model&format=csv&table=breakdown');
    expect(csvResponse.headers.get('content-disposition')).toBe('attachment; filename="utt-usage-breakdown.csv"');
    const csv = await csvResponse.text();
    const lines = csv.trim().split('\r\n');
    expect(lines[0]).toBe(
      'Model,Input,Cache read,Cache write,of which 1 h TTL,Output,of which reasoning,Requests,Cache hit ratio,Spend,of which flat fees,Covered usage (API-equivalent),Unpriced tokens'.replace(
        'Covered usage (API-equivalent)',
        '"Covered usage (API-equivalent, not spend)"',
      ),
    );
    expect(csv).toContain(`"'=HYPERLINK(""http://evil.example"")"`);
    expect(html).toContain('=HYPERLINK(&quot;http://evil.example&quot;)');
    expect(lines).toHaveLength(1 + 4);
    const gpt5 = lines.find((line) => line.startsWith('gpt-5,'))?.split(',');
    const [row] = await usageBreakdown(store, { by: [], models: ['gpt-5'], since: new Date('2026-10-01T00:00:00Z'), until: new Date('2026-10-21T00:00:00Z') });
    expect(gpt5?.[1]).toBe(String(row?.inputTokens));
    expect(gpt5?.[9]).toBe(row?.spendUsd);
    expect(html).toContain(`data-value="${row?.spendUsd}"`);
  });

  it('computes the cache hit ratio over rows that report cache reads only', async () => {
    const json = (await (await get(handler, '/usage?by=provider&from=2026-10-20&to=2026-10-20&format=json&table=breakdown')).json()) as {
      tables: { rows: { group: string; cacheHit: number | null }[] }[];
    };
    const ratio = (provider: string) => json.tables[0]?.rows.find((row) => row.group === provider)?.cacheHit;
    // 20 October: only the two coding-agent rows (20,000 input, 500,000 read, 30,000 written each).
    expect(ratio('anthropic')).toBeCloseTo(500_000 / 550_000, 12);
    const all = (await (await get(handler, '/usage?by=provider&format=json&table=breakdown')).json()) as typeof json;
    expect(all.tables[0]?.rows.find((row) => row.group === 'mistral')?.cacheHit).toBeNull();
  });

  it('masks key ids in the breakdown by API key', async () => {
    const csv = await (await get(handler, '/usage?by=api_key&format=csv')).text();
    for (const key of SEEDED_API_KEYS) expect(csv).not.toContain(key);
    expect(csv).toContain(`…${SEEDED_API_KEYS[0].slice(-4)} #`);
  });

  it('filters with GET parameters and refuses bad ones with the field named', async () => {
    const json = (await (await get(handler, '/usage?provider=anthropic&by=user&format=json&table=breakdown')).json()) as { tables: { rows: { group: string }[] }[] };
    expect(json.tables[0]?.rows.map((row) => row.group).sort()).toEqual(['(none)', 'carol']);
    const bad = await get(handler, '/usage?from=2026-13-01');
    expect(bad.status).toBe(400);
    expect(await bad.text()).toContain('from: must be a date written YYYY-MM-DD');
    expect((await get(handler, '/usage?by=secret')).status).toBe(400);
    expect((await get(handler, '/?format=xml')).status).toBe(400);
  });

  it('reconciles billed against computed with the gap', async () => {
    const json = (await (await get(handler, '/reconciliation?from=2026-10-15&to=2026-10-19&format=json')).json()) as {
      tables: { rows: { day: string; provider: string; billed: string; computed: string; gap: string; verdict: string }[] }[];
    };
    const rows = json.tables[0]?.rows.filter((row) => (row.day === '2026-10-17' || row.day === '2026-10-18') && row.provider === 'openai');
    // The gateway's Anthropic usage is computed but never billed by that source.
    expect(json.tables[0]?.rows.find((row) => row.provider === 'anthropic')?.verdict).toBe('computed, not billed');
    expect(rows).toEqual([
      expect.objectContaining({ day: '2026-10-17', billed: '3.6', computed: '3', gap: '-16.67', verdict: 'drift' }),
      expect.objectContaining({ day: '2026-10-18', billed: '3', computed: '3', gap: '0.00', verdict: 'aligned' }),
    ]);
  });

  it('shows sources with why they are stale, and coding agents by machine and project', async () => {
    const sources = await (await get(handler, '/sources?format=csv')).text();
    expect(sources).toContain('openai,openai_usage,stale');
    expect(sources).toContain('never succeeded; last run failed: HTTP 401 from the OpenAI usage API: invalid admin key (key redacted)');
    expect(sources).toMatch(/copilot,copilot,paused/);
    const agents = (await (await get(handler, '/agents?format=json&table=agents')).json()) as { tables: { rows: Record<string, unknown>[] }[] };
    expect(agents.tables[0]?.rows).toEqual([
      expect.objectContaining({ machine: 'alice@laptop', project: 'utt', model: 'claude-sonnet-4-5', covered: String(11 * 2.25), spend: null }),
      expect.objectContaining({ machine: 'bob@desktop', project: 'website', covered: String(11 * 2.25), spend: null }),
    ]);
  });

  it('answers the JSON API', async () => {
    const index = (await (await get(handler, '/api/v1')).json()) as { endpoints: { path: string }[] };
    expect(index.endpoints.map((endpoint) => endpoint.path)).toEqual([
      '/api/v1/spend-series',
      '/api/v1/breakdown',
      '/api/v1/freshness',
      '/api/v1/reconciliation',
      '/api/v1/calls',
      '/api/v1/tags',
      '/api/v1/budgets',
      '/api/v1/quotas',
    ]);
    const series = (await (await get(handler, '/api/v1/spend-series?by=provider&from=2026-10-19&to=2026-10-19')).json()) as { rows: unknown[] };
    expect(series.rows).toEqual([
      expect.objectContaining({ day: '2026-10-19', provider: 'anthropic', spendUsd: '1.5', coveredUsd: '4.5' }),
      expect.objectContaining({ day: '2026-10-19', provider: 'mistral', spendUsd: null, unpricedTokens: 6000 }),
      expect.objectContaining({ day: '2026-10-19', provider: 'openai', spendUsd: '30' }),
    ]);
    const breakdown = (await (await get(handler, '/api/v1/breakdown?by=account,api_key&from=2026-10-01')).json()) as { rows: Record<string, unknown>[] };
    expect(JSON.stringify(breakdown)).not.toContain(SEEDED_API_KEYS[0]);
    const freshness = (await (await get(handler, '/api/v1/freshness')).json()) as { sources: { source: string; state: string }[] };
    expect(freshness.sources.map((source) => [source.source, source.state])).toEqual([
      ['__heartbeat__', 'fresh'],
      ['claude-code', 'fresh'],
      ['copilot', 'paused'],
      ['gateway', 'fresh'],
      ['openai', 'stale'],
      ['subscriptions', 'fresh'],
    ]);
    const reconciliation = (await (await get(handler, '/api/v1/reconciliation?from=2026-10-18&to=2026-10-18')).json()) as { rows: unknown[] };
    expect(reconciliation.rows).toEqual([
      expect.objectContaining({ day: '2026-10-18', provider: 'anthropic', billedUsd: null, computedUsd: '1.5' }),
      expect.objectContaining({ day: '2026-10-18', provider: 'mistral', billedUsd: null, computedUsd: null, unpricedRows: 1 }),
      expect.objectContaining({ day: '2026-10-18', provider: 'openai', billedUsd: '3', computedUsd: '3', gapPercent: '0.00' }),
    ]);
    expect((await get(handler, '/api/v1/nothing')).status).toBe(404);
  });

  it('charts the largest API keys apart and the rest as "other", with each day\'s total', async () => {
    // June, away from the other tests' ranges: 12 keys, key i spending i + 1 dollars a day; the smallest only on 1 June.
    const keys = Array.from({ length: 12 }, (_, index) => `key-many-${String(index).padStart(4, '0')}`);
    const rows = keys.flatMap((key, index) =>
      [1, 2, 3]
        .filter((day) => index > 0 || day === 1)
        .map((day) => ({
          source_system: 'litellm', source_instance: 'many', granularity: 'hour' as const, bucket_start: new Date(Date.UTC(2026, 5, day, 12)),
          provider: 'openai', model: 'gpt-5', account: '', api_key: key, user_id: '', labels: {},
          input_tokens: 100, output_tokens: 10, cached_read_tokens: null, cached_write_tokens: null, cached_write_1h_tokens: null,
          reasoning_tokens: null, requests: 1, cost_usd: String(index + 1), cost_source: 'computed' as const, measurement_basis: 'exact' as const,
        })),
    );
    await store.writeSourceWindow({ source: 'many-keys', sourceSystem: 'litellm', rows });
    const json = (await (await get(handler, '/usage?by=api_key&from=2026-06-01&to=2026-06-03&format=json&table=daily')).json()) as {
      tables: { columns: { key: string; label: string }[]; rows: Record<string, string | null>[] }[];
    };
    const [table] = json.tables;
    const labels = table?.columns.map((column) => column.label) ?? [];
    expect(labels[0]).toBe('Day');
    expect(labels.slice(-2)).toEqual(['other (4)', 'Total']);
    expect(labels).toHaveLength(1 + 8 + 1 + 1);
    for (const key of keys) expect(JSON.stringify(json)).not.toContain(key);
    const other = table?.columns.find((column) => column.label === 'other (4)')?.key ?? '';
    // Keys 1-4 ($1 on 1 June only, $2, $3, $4) are the rest; keys 5-12 are drawn on their own.
    expect(table?.rows.map((row) => [row.day, row[other], row.total])).toEqual([
      ['2026-06-01', '10', String((12 * 13) / 2)],
      ['2026-06-02', '9', String((12 * 13) / 2 - 1)],
      ['2026-06-03', '9', String((12 * 13) / 2 - 1)],
    ]);
  });

  it('shows days in the configured reporting time zone', async () => {
    const tokyo = createDashboardHandler({ store, now: () => SEED_NOW, timeZone: 'Asia/Tokyo' });
    const body = await (await get(tokyo, '/usage?from=2026-10-19&to=2026-10-19&format=json&table=daily')).text();
    expect(body).toContain('"timeZone": "Asia/Tokyo"');
    const html = await (await get(tokyo, '/')).text();
    expect(html).toContain('Times and days in <strong>Asia/Tokyo</strong> · as of 2026-10-21');
    expect(() => createDashboardHandler({ store, timeZone: 'Nowhere/Special' })).toThrow(/timeZone/);
  });

  describe('security', () => {
    it('refuses foreign Host headers (DNS rebinding) and anything but GET', async () => {
      expect((await get(handler, '/', { host: 'attacker.example' })).status).toBe(403);
      expect((await get(handler, '/', { host: 'localhost:8787' })).status).toBe(200);
      expect((await get(handler, '/', { host: 'utt.localhost' })).status).toBe(200);
      expect((await get(handler, '/', { host: '[::1]:8787' })).status).toBe(200);
      const allowed = createDashboardHandler({ store, now: () => SEED_NOW, allowedHosts: ['utt.internal'] });
      expect((await get(allowed, '/sources', { host: 'utt.internal' })).status).toBe(200);
      for (const method of ['POST', 'PUT', 'DELETE', 'PATCH']) {
        const response = await handler(new Request('http://127.0.0.1/', { method, headers: { host: '127.0.0.1' } }));
        expect(response.status, method).toBe(405);
      }
    });

    it('needs the token: bearer for curl, exchanged once for an HttpOnly SameSite=Strict cookie', async () => {
      const guarded = createDashboardHandler({ store, now: () => SEED_NOW, token: TOKEN });
      const missing = await get(guarded, '/');
      expect(missing.status).toBe(401);
      expect(await missing.text()).not.toContain(TOKEN);
      expect((await get(guarded, '/', { authorization: 'Bearer wrong-token-000000000000' })).status).toBe(401);
      expect((await get(guarded, '/api/v1/freshness', { authorization: `Bearer ${TOKEN}` })).status).toBe(200);
      expect((await get(guarded, '/?token=wrong-token-000000000000')).status).toBe(401);
      const exchange = await get(guarded, `/usage?by=model&token=${TOKEN}`);
      expect(exchange.status).toBe(303);
      expect(exchange.headers.get('location')).toBe('/usage?by=model');
      const cookie = exchange.headers.get('set-cookie') ?? '';
      expect(cookie).toMatch(/^utt_session=[0-9a-f]{64}; HttpOnly; SameSite=Strict; Path=\/$/);
      expect(cookie).not.toContain(TOKEN);
      const session = cookie.split(';')[0] ?? '';
      expect((await get(guarded, '/usage?by=model', { cookie: session })).status).toBe(200);
      expect((await get(guarded, '/usage', { cookie: 'utt_session=forged' })).status).toBe(401);
      expect((await get(guarded, '/', { cookie: session, host: 'evil.example' })).status).toBe(403);
      expect(() => createDashboardHandler({ store, token: 'short' })).toThrow(/token/);
    });

    it('mounts under a base path', async () => {
      const mounted = createDashboardHandler({ store, now: () => SEED_NOW, basePath: '/utt' });
      const body = await (await get(mounted, '/utt/sources')).text();
      expect(body).toContain('href="/utt/style.css"');
      expect(body).toContain('href="/utt/usage"');
      expect((await get(mounted, '/sources')).status).toBe(404);
    });
  });
});
