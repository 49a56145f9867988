import type { TrackedCallV1 } from '@utt/core';
import { listTrackedCalls, trackedCallSummary, trackedTagKeys, trackedTagValues, type UsageStore } from '@utt/postgres';
import { readBudgetStatus } from '@utt/tracker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDashboardHandler, type DashboardHandler } from '../src/index';
import { SEED_NOW, seedDashboard } from './seed-dashboard';
import { FORMULA_TAG, seedLedger } from './seed-ledger';
import { openTestStore, TEST_BACKEND_NAMES, type TestStore } from './test-stores';

function get(handler: DashboardHandler, path: string): Promise<Response> {
  return handler(new Request(`http://127.0.0.1:8787${path}`, { headers: { host: '127.0.0.1:8787' } }));
}

type TableJson = { tables: { id: string; rows: Record<string, string | number | null>[] }[] };
const LAST_30_DAYS = { since: new Date('2026-09-21T00:00:00Z'), until: new Date('2026-10-21T00:00:00Z') };

describe.each(TEST_BACKEND_NAMES)('calls, tags and quotas pages on %s', (backend) => {
  let testStore: TestStore;
  let store: UsageStore;
  let handler: DashboardHandler;

  beforeAll(async () => {
    testStore = await openTestStore(backend);
    store = testStore.store;
    await seedDashboard(store);
    await seedLedger(store);
    handler = createDashboardHandler({ store, now: () => SEED_NOW, quota: { staleAfterMs: 20 * 60_000 } });
  });
  afterAll(async () => {
    await testStore?.dispose();
  });

  it('puts the new pages in the navigation, each showing the time zone', async () => {
    for (const path of ['/calls', '/tags', '/quotas']) {
      const response = await get(handler, path);
      expect(response.status, path).toBe(200);
      const body = await response.text();
      expect(body, path).toContain('Times and days in <strong>UTC</strong>');
      for (const link of ['/calls', '/tags', '/quotas']) expect(body).toContain(`href="${link}"`);
      expect(body).toContain(`href="${path}" aria-current="page"`);
    }
  });

  it('pages through the calls newest first, as the store lists them, every call once', async () => {
    const seen: string[] = [];
    let path = '/calls?format=json&limit=25';
    for (let guard = 0; guard < 20; guard += 1) {
      const json = (await (await get(handler, path)).json()) as TableJson;
      const rows = json.tables[0]?.rows ?? [];
      for (const row of rows) seen.push(String(row.time));
      const html = await (await get(handler, path.replace('format=json&', ''))).text();
      const older = /href="([^"]*before=[^"]*)" rel="next"/.exec(html)?.[1];
      if (older === undefined) break;
      path = `${older.replaceAll('&amp;', '&').replace('/calls?', '/calls?format=json&')}`;
    }
    const all = await listTrackedCalls(store, { ...LAST_30_DAYS, limit: 500 });
    expect(seen).toHaveLength(140);
    expect(seen).toEqual(all.calls.map((call) => call.occurredAt.toISOString().slice(0, 19).replace('T', ' ')));
  });

  it('filters by tag, origin, provider and untagged, and the API agrees with the page', async () => {
    const page = (await (await get(handler, '/calls?format=json&tag=feature%3Dsearch&provider=anthropic&limit=200')).json()) as TableJson;
    const expected = await listTrackedCalls(store, { ...LAST_30_DAYS, tags: { feature: 'search' }, providers: ['anthropic'], limit: 200 });
    expect(page.tables[0]?.rows.length).toBe(expected.calls.length);
    expect(page.tables[0]?.rows.every((row) => String(row.tags).includes('feature=search') && row.provider === 'anthropic')).toBe(true);
    const api = (await (await get(handler, '/api/v1/calls?origin=unknown')).json()) as { calls: { usageOrigin: string; inputTokens: null }[]; summary: { calls: number } };
    expect(api.calls.length).toBeGreaterThan(0);
    expect(api.calls.every((call) => call.usageOrigin === 'unknown' && call.inputTokens === null)).toBe(true);
    expect(api.summary.calls).toBe(api.calls.length);
    const untagged = (await (await get(handler, '/calls?format=json&untagged=1&limit=200')).json()) as TableJson;
    expect(untagged.tables[0]?.rows.length).toBe(14);
    expect(untagged.tables[0]?.rows.every((row) => row.tags === null)).toBe(true);
    expect((await get(handler, '/calls?tag=nonsense')).status).toBe(400);
    expect((await get(handler, '/calls?before=bogus')).status).toBe(400);
    expect((await get(handler, '/calls?limit=9999')).status).toBe(400);
  });

  it('exports the calls page as CSV with the formula tag defused', async () => {
    const csv = await (await get(handler, `/calls?format=csv&tag=${encodeURIComponent(`tenant=${FORMULA_TAG}`)}`)).text();
    const lines = csv.trim().split('\r\n');
    expect(lines[0]).toMatch(/^Time \(UTC\),Application,Provider,Model,Operation,Tags,/);
    expect(lines.length).toBeGreaterThan(1);
    // The tags cell starts with "feature=…", so the formula sits inside text; the tag-values export has it first.
    const values = await (await get(handler, '/tags?key=tenant&format=csv&table=tag-values')).text();
    expect(values).toContain(`'${FORMULA_TAG}`);
    expect(values).not.toMatch(new RegExp(`(^|\\r\\n)${FORMULA_TAG.replace(/[|!'()]/g, '\\$&')}`));
  });

  it('breaks calls down by tag key and value with the untagged share, as the store sums them', async () => {
    const json = (await (await get(handler, '/tags?format=json&key=tenant')).json()) as TableJson;
    const summary = await trackedCallSummary(store, LAST_30_DAYS);
    const keys = await trackedTagKeys(store, LAST_30_DAYS);
    const values = await trackedTagValues(store, 'tenant', LAST_30_DAYS);
    expect(json.tables[0]?.rows.map((row) => [row.key, row.calls, row.cost])).toEqual(keys.map((key) => [key.key, key.calls, key.costUsd]));
    const valueRows = json.tables[1]?.rows ?? [];
    expect(valueRows.map((row) => [row.value, row.calls, row.cost])).toEqual(values.map((value) => [value.value ?? '(no tenant tag)', value.calls, value.costUsd]));
    expect(valueRows.reduce((sum, row) => sum + Number(row.calls), 0)).toBe(summary.calls);
    expect(valueRows.at(-1)).toMatchObject({ value: '(no tenant tag)', calls: summary.untaggedCalls, callShare: summary.untaggedCalls / summary.calls });
    const html = await (await get(handler, '/tags')).text();
    expect(html).toContain(`${((summary.untaggedCalls / summary.calls) * 100).toFixed(1)} %`);
  });

  it('shows untagged calls and incomplete streams on the Data quality page', async () => {
    const json = (await (await get(handler, '/quality?format=json&table=tracked-calls')).json()) as TableJson;
    const summary = await trackedCallSummary(store, LAST_30_DAYS);
    const row = (check: string) => json.tables[0]?.rows.find((candidate) => candidate.check === check);
    expect(row('Untagged calls')?.calls).toBe(summary.untaggedCalls);
    expect(row('Incomplete streams')?.calls).toBe(summary.incompleteCalls);
    expect(summary.incompleteCalls).toBe(6);
    expect(row('Unpriced calls')?.calls).toBe(summary.unpricedCalls);
  });

  it('shows each quota window with pace, reset, staleness and the rotation order', async () => {
    const json = (await (await get(handler, '/quotas?format=json')).json()) as TableJson;
    const windows = json.tables.find((table) => table.id === 'windows')?.rows ?? [];
    const teamA5h = windows.find((row) => row.window === 'anthropic · team-a · 5h');
    // 3 of 5 hours elapsed: an even pace would be at 60 %; 30 % used is 30 points in reserve.
    expect(teamA5h).toMatchObject({ used: 0.3, severity: 'OK', fresh: 'fresh', resetsAt: '2026-10-20 17:00', resetsIn: '2h 0m' });
    expect(Number(teamA5h?.expected)).toBeCloseTo(0.6, 6);
    expect(Number(teamA5h?.pace)).toBeCloseTo(-0.3, 6);
    expect(windows.find((row) => row.window === 'anthropic · team-b · 5h')).toMatchObject({ severity: 'CRITICAL' });
    expect(windows.find((row) => row.window === 'openai · plus@example.com · 7d')?.fresh).toMatch(/^stale: not confirmed for 2h 0m$/);
    const rotation = json.tables.find((table) => table.id === 'rotation')?.rows ?? [];
    expect(rotation[0]).toMatchObject({ rank: 1, account: 'anthropic · team-a', group: 'available', headroom: 0.6 });
    const resets = json.tables.find((table) => table.id === 'resets')?.rows ?? [];
    expect(resets.map((row) => row.window)).toEqual(['5h', '5h', '7d', '7d', '7d']);
    const api = (await (await get(handler, '/api/v1/quotas?account=team-b')).json()) as { overall: string; windows: { account: string }[]; paceRule: string };
    expect(api.overall).toBe('CRITICAL');
    expect(api.windows.every((window) => window.account === 'team-b')).toBe(true);
    expect(api.paceRule).toContain('expected = time elapsed');
    const html = await (await get(handler, '/quotas')).text();
    expect(html).toContain('Pace: expected = time elapsed');
  });

  it('shows each budget on the Overview: period total, limit, percent, forecast and state, as readBudgetStatus computes them', async () => {
    const budgets = [
      { name: 'all-spend', period: 'month' as const, limitUsd: 1000 },
      { name: 'anthropic-daily', period: 'day' as const, limitUsd: 0.015, scope: { provider: 'anthropic' } },
    ];
    const withBudgets = createDashboardHandler({ store, now: () => SEED_NOW, budgets });
    const expected = await readBudgetStatus(store, budgets, { now: SEED_NOW, timeZone: 'UTC' });
    const json = (await (await get(withBudgets, '/?format=json&table=budgets')).json()) as TableJson;
    expect(json.tables[0]?.rows).toEqual(
      expected.map((line) => ({
        budget: line.budget,
        period: expect.stringMatching(new RegExp(`^${line.period}: `)),
        spent: String(Math.round(line.spentUsd * 1e6) / 1e6),
        limit: String(line.limitUsd),
        percent: line.percent / 100,
        forecast: line.forecastBasis === 'too_early' ? null : String(Math.round(line.forecastUsd * 1e6) / 1e6),
        state: line.state,
        unpriced: line.unpricedRows,
      })),
    );
    // The seeded month has calls of a model without a price: its spent is a lower bound, and the row says so.
    expect(expected[0]?.unpricedRows).toBeGreaterThan(0);
    // A $0.015 limit and its sub-cent spend keep their digits (they read "$0.02" and "$0.01").
    const page = await (await get(withBudgets, '/')).text();
    expect(page).toContain('$0.015');
    expect(expected[1]?.spentUsd.toFixed(4)).toBe('0.0127');
    expect(page).toContain('>$0.013<');
    expect(json.tables[0]?.rows[0]).toMatchObject({ budget: 'all-spend', period: 'month: 2026-10-01 00:00 to 2026-11-01 00:00' });
    // At 15:00, today's $0.0127 of tracked Anthropic calls is under $0.015 but heads past it by midnight; the coding-agent
    // usage a subscription covers is not spent, so it does not count.
    expect(expected[1]?.state).toBe('forecast over');
    const html = await (await get(withBudgets, '/')).text();
    expect(html).toContain('anthropic-daily is forecast over its limit');
    const api = (await (await get(withBudgets, '/api/v1/budgets')).json()) as { budgets: { budget: string; state: string }[] };
    expect(api.budgets.map((line) => [line.budget, line.state])).toEqual(expected.map((line) => [line.budget, line.state]));
    // Five minutes into the day, the day budget has no forecast yet (its few minutes' rate, stretched, read as many times
    // the spend): the table says so, and the row is not "forecast over".
    const dayStart = Date.UTC(SEED_NOW.getUTCFullYear(), SEED_NOW.getUTCMonth(), SEED_NOW.getUTCDate());
    const early = createDashboardHandler({ store, now: () => new Date(dayStart + 5 * 60_000), budgets });
    const earlyRows = ((await (await get(early, '/?format=json&table=budgets')).json()) as TableJson).tables[0]?.rows ?? [];
    expect(earlyRows.find((row) => row.budget === 'anthropic-daily')).toMatchObject({ forecast: null });
    expect(await (await get(early, '/')).text()).toContain('too early');
    // Without budgets the table says how to add them.
    expect(await (await get(handler, '/')).text()).toContain('No day or month budgets configured');
    expect(() => createDashboardHandler({ store, budgets: [{ period: 'month', limitUsd: -1 }] })).toThrow(/budgets\[0\]\.limitUsd/);
  });
});

describe.each(TEST_BACKEND_NAMES)('untagged calls without a price on %s', (backend) => {
  let testStore: TestStore;
  let handler: DashboardHandler;
  beforeAll(async () => {
    testStore = await openTestStore(backend);
    const call = (index: number): TrackedCallV1 => ({
      specificationVersion: 'v1',
      eventId: `7a1e0000-0000-4000-8000-${String(index).padStart(12, '0')}`,
      sourceSystem: 'support-bot',
      sourceInstance: 'web-1',
      occurredAt: new Date(SEED_NOW.getTime() - (index + 1) * 3_600_000),
      provider: 'openai',
      model: 'gpt-next',
      operation: 'chat.completions',
      inputTokens: 1000,
      outputTokens: 100,
      cachedReadTokens: null,
      cachedWriteTokens: null,
      cachedWrite1hTokens: null,
      reasoningTokens: null,
      webSearches: null,
      serviceTier: '',
      latencyMs: 300,
      streaming: false,
      responseId: null,
      threadId: null,
      agentId: null,
      tags: {},
      labels: {},
      usageOrigin: 'response',
      costUsd: null,
      priceRef: null,
      unpricedReason: 'no_price',
    });
    await testStore.store.writeTrackedCalls([call(0), call(1)]);
    handler = createDashboardHandler({ store: testStore.store, now: () => SEED_NOW });
  });
  afterAll(async () => {
    await testStore?.dispose();
  });

  it('shows their cost as unpriced on the Calls and Tags pages, never as $0.00', async () => {
    const calls = await (await get(handler, '/calls')).text();
    expect(calls).toContain('2 calls, unpriced with no tag');
    expect(calls).not.toContain('$0.00 with no tag');
    const tags = await (await get(handler, '/tags')).text();
    expect(tags).toContain('2 calls with no tag, unpriced');
    expect(tags).not.toContain('calls with no tag, $0.00');
  });
});
