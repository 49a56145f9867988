import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { unpricedModels, usageBreakdown, type UsageStore } from '@utt/postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expandGrafanaQuery, type GrafanaVariables, interpolateVariables, rfc3339Nano } from './grafana-macros';
import { seedDashboard } from './seed-dashboard';
import { openTestStore, TEST_BACKEND_NAMES, type TestStore } from './test-stores';

const FILE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../contrib/grafana/utt-dashboard.json');

type Target = { refId: string; format: 'table' | 'time_series'; rawSql: string; rawQuery: boolean; datasource: { type: string; uid: string } };
type Panel = { id: number; type: string; title: string; description: string; datasource: { type: string; uid: string }; gridPos: { x: number; y: number; w: number; h: number }; targets: Target[] };
type Variable = { name: string; type: string; query: string; multi?: boolean; includeAll?: boolean };
type Dashboard = {
  __inputs: { name: string; type: string; pluginId: string }[];
  schemaVersion: number;
  timezone: string;
  uid: string;
  panels: Panel[];
  templating: { list: Variable[] };
};

const dashboard = JSON.parse(readFileSync(FILE, 'utf8')) as Dashboard;
const panelByTitle = (title: string): Panel => {
  const panel = dashboard.panels.find((candidate) => candidate.title === title);
  if (!panel) throw new Error(`no panel "${title}"`);
  return panel;
};

/** The range the test dashboard shows: 1 September to the end of 20 October 2026, UTC. */
const RANGE = { from: new Date('2026-09-01T00:00:00Z'), to: new Date('2026-10-20T23:59:59.999Z') };
const UNTIL = new Date('2026-10-21T00:00:00Z');

describe('the Grafana dashboard JSON', () => {
  it('is a Classic model Grafana 10.4 to 13 import, in UTC', () => {
    expect(dashboard.schemaVersion).toBeGreaterThanOrEqual(36);
    expect(dashboard.schemaVersion).toBeLessThanOrEqual(42);
    expect(dashboard.timezone).toBe('utc');
    expect(dashboard.uid).toMatch(/^[A-Za-z0-9_-]{8,40}$/);
    expect(dashboard).not.toHaveProperty('spec');
  });

  it('works for both UI import (__inputs) and file provisioning (a data-source variable)', () => {
    expect(dashboard.__inputs).toEqual([expect.objectContaining({ name: 'DS_POSTGRES', type: 'datasource', pluginId: 'grafana-postgresql-datasource' })]);
    expect(dashboard.templating.list.find((variable) => variable.name === 'DS_POSTGRES')).toMatchObject({ type: 'datasource', query: 'grafana-postgresql-datasource' });
    for (const panel of dashboard.panels) {
      expect(panel.datasource, panel.title).toEqual({ type: 'grafana-postgresql-datasource', uid: '${DS_POSTGRES}' });
      for (const target of panel.targets) expect(target.datasource, panel.title).toEqual(panel.datasource);
    }
  });

  it('has the panels and variables the issue lists, laid out on the 24-column grid', () => {
    expect(dashboard.panels.map((panel) => panel.title)).toEqual([
      'Spend in range',
      'Unpriced tokens in range',
      'Spend per day by provider',
      'Spend per day by model',
      'Tokens per day by bucket',
      'Cache hit ratio per day by provider',
      'Cost by source',
      'Freshness',
      'Reconciliation: billed vs computed',
      'Unpriced usage',
    ]);
    expect(new Set(dashboard.panels.map((panel) => panel.id)).size).toBe(dashboard.panels.length);
    for (const panel of dashboard.panels) {
      expect(panel.gridPos.x + panel.gridPos.w, panel.title).toBeLessThanOrEqual(24);
      expect(panel.description.length, panel.title).toBeGreaterThan(20);
    }
    const variables = dashboard.templating.list.filter((variable) => variable.type === 'query');
    expect(variables.map((variable) => [variable.name, variable.multi, variable.includeAll])).toEqual([
      ['source', true, true],
      ['provider', true, true],
      ['model', true, true],
    ]);
  });

  it('expands variables with Grafana sqlstring quoting', () => {
    expect(interpolateVariables('IN (${model:sqlstring}) AND ${s:raw}.t', { model: ["O'Brien", 'gpt-5'], s: 'utt' })).toBe("IN ('O''Brien','gpt-5') AND utt.t");
    expect(rfc3339Nano(new Date('2026-10-20T23:59:59.990Z'))).toBe('2026-10-20T23:59:59.99Z');
    expect(() => interpolateVariables('${nope:sqlstring}', {})).toThrow(/not a dashboard variable/);
  });
});

describe.each(TEST_BACKEND_NAMES)('every Grafana panel on %s', (backend) => {
  let testStore: TestStore;
  let store: UsageStore;
  let allValues: GrafanaVariables;

  const run = async <T>(sql: string, variables: GrafanaVariables = allValues): Promise<T[]> =>
    store.client.query<T>(expandGrafanaQuery(sql, variables, RANGE));

  beforeAll(async () => {
    testStore = await openTestStore(backend);
    store = testStore.store;
    await seedDashboard(store);
    // "All" in Grafana (no custom all value) expands to every option of the variable's own query, in order.
    const variables: Record<string, string | string[]> = { utt_schema: store.schema };
    for (const variable of dashboard.templating.list.filter((candidate) => candidate.type === 'query')) {
      const rows = await store.client.query<Record<string, string>>(expandGrafanaQuery(variable.query, variables, RANGE));
      variables[variable.name] = rows.map((row) => String(Object.values(row)[0]));
    }
    allValues = variables;
  });
  afterAll(async () => {
    await testStore?.dispose();
  });

  it('fills the variables from the data', () => {
    expect(allValues).toMatchObject({
      source: ['claude_code', 'litellm', 'subscription'],
      provider: ['anthropic', 'mistral', 'openai'],
      model: ['(none)', '=HYPERLINK("http://evil.example")', 'claude-sonnet-4-5', 'gpt-5'],
    });
  });

  it('runs every panel, time series with a time column first', async () => {
    for (const panel of dashboard.panels) {
      for (const target of panel.targets) {
        expect(target.rawQuery, panel.title).toBe(true);
        const rows = await run<Record<string, unknown>>(target.rawSql);
        expect(rows.length, panel.title).toBeGreaterThan(0);
        if (target.format === 'time_series') expect(Object.keys(rows[0] ?? {})[0], panel.title).toBe('time');
      }
    }
  });

  it('spend stats and spend per day equal the store breakdown (flat fees once, covered usage not spend)', async () => {
    const [stat] = await run<{ spend_usd: string }>(panelByTitle('Spend in range').targets[0]!.rawSql);
    const [total] = await usageBreakdown(store, { by: [], since: RANGE.from, until: UNTIL });
    expect(Number(stat?.spend_usd)).toBe(Number(total?.spendUsd));
    const [unpriced] = await run<{ unpriced_tokens: number }>(panelByTitle('Unpriced tokens in range').targets[0]!.rawSql);
    expect(Number(unpriced?.unpriced_tokens)).toBe(total?.unpricedTokens);

    for (const [title, dimension] of [
      ['Spend per day by provider', 'provider'],
      ['Spend per day by model', 'model'],
    ] as const) {
      const rows = await run<{ time: number; metric: string; spend_usd: string }>(panelByTitle(title).targets[0]!.rawSql);
      const expected = (await usageBreakdown(store, { by: [dimension], period: 'day', since: RANGE.from, until: UNTIL }))
        .filter((row) => row.spendUsd !== null)
        .map((row) => [row.period, row.groups[0] || '(none)', Number(row.spendUsd)]);
      const actual = rows.map((row) => [new Date(Number(row.time) * 1000).toISOString().slice(0, 10), row.metric, Number(row.spend_usd)]);
      expect(actual, title).toEqual(expected);
    }
  });

  it('tokens per day by bucket equal `utt report` (store.report) per day', async () => {
    const rows = await run<{ time: number; input: number; 'cache read': number; 'cache write': number; output: number }>(panelByTitle('Tokens per day by bucket').targets[0]!.rawSql);
    const report = await store.report({ period: 'day', by: 'source', since: RANGE.from, until: UNTIL });
    const perDay = new Map<string, [number, number, number, number]>();
    for (const row of report) {
      const day = row.periodStart.toISOString().slice(0, 10);
      const sums = perDay.get(day) ?? [0, 0, 0, 0];
      perDay.set(day, [sums[0] + (row.inputTokens ?? 0), sums[1] + (row.cachedReadTokens ?? 0), sums[2] + (row.cachedWriteTokens ?? 0), sums[3] + (row.outputTokens ?? 0)]);
    }
    const actual = new Map(
      rows.map((row) => [
        new Date(Number(row.time) * 1000).toISOString().slice(0, 10),
        [Number(row.input ?? 0), Number(row['cache read'] ?? 0), Number(row['cache write'] ?? 0), Number(row.output ?? 0)],
      ]),
    );
    // Days with only flat fees carry no tokens: the panel draws nothing there, the report a row of nulls.
    for (const [day, sums] of perDay) if (sums.every((value) => value === 0)) perDay.delete(day);
    for (const [day, sums] of actual) if (sums.every((value) => value === 0)) actual.delete(day);
    expect(actual).toEqual(perDay);
    expect(actual.size).toBe(50);
  });

  it('cache hit ratio, cost by source and unpriced usage equal the store', async () => {
    const ratios = await run<{ time: number; metric: string; cache_hit_ratio: number }>(panelByTitle('Cache hit ratio per day by provider').targets[0]!.rawSql);
    const breakdown = await usageBreakdown(store, { by: ['provider'], period: 'day', since: RANGE.from, until: UNTIL });
    for (const row of ratios) {
      const day = new Date(Number(row.time) * 1000).toISOString().slice(0, 10);
      const expected = breakdown.find((candidate) => candidate.period === day && candidate.groups[0] === row.metric);
      expect(Number(row.cache_hit_ratio)).toBeCloseTo((expected?.cachedReadTokens ?? 0) / (expected?.cacheReportingInputTokens ?? 1), 12);
    }
    expect(ratios.some((row) => row.metric === 'mistral')).toBe(false);

    const bySource = await run<{ source: string; spend_usd: string | null; flat_fee_usd: string | null; covered_usd: string | null; unpriced_tokens: number }>(
      panelByTitle('Cost by source').targets[0]!.rawSql,
    );
    const expected = await usageBreakdown(store, { by: ['source'], since: RANGE.from, until: UNTIL });
    const num = (value: string | null | undefined) => (value === null || value === undefined ? null : Number(value));
    expect(bySource.map((row) => [row.source, num(row.spend_usd), num(row.flat_fee_usd), num(row.covered_usd), Number(row.unpriced_tokens)]).sort()).toEqual(
      expected.map((row) => [row.groups[0], num(row.spendUsd), num(row.flatFeeUsd), num(row.coveredUsd), row.unpricedTokens]).sort(),
    );

    const unpriced = await run<{ provider: string; model: string; tokens: number; rows: number }>(panelByTitle('Unpriced usage').targets[0]!.rawSql);
    expect(unpriced.map((row) => [row.provider, row.model, Number(row.tokens), Number(row.rows)])).toEqual(
      (await unpricedModels(store, { since: RANGE.from, until: UNTIL })).map((row) => [row.provider, row.model, row.tokens, row.rows]),
    );
  });

  it('freshness and reconciliation equal the store', async () => {
    const freshness = await run<{ source: string; status: string; watermark: Date | null }>(panelByTitle('Freshness').targets[0]!.rawSql);
    const statuses = await store.listStatus();
    expect(freshness.map((row) => [row.source, row.status])).toEqual(statuses.map((status) => [status.source, status.status]));
    expect(freshness.find((row) => row.source === 'gateway')?.watermark).toEqual(new Date('2026-10-20T14:00:00Z'));

    const reconciliation = await run<{ day: Date; source_system: string; provider: string; billed_usd: string | null; computed_usd: string | null; gap_percent: string | null }>(
      panelByTitle('Reconciliation: billed vs computed').targets[0]!.rawSql,
    );
    const expected = await store.reconcile({ since: RANGE.from, until: UNTIL });
    const num = (value: string | null) => (value === null ? null : Number(value));
    const key = (day: Date, system: string, provider: string) => `${day.toISOString()} ${system} ${provider}`;
    expect(new Map(reconciliation.map((row) => [key(row.day, row.source_system, row.provider), [num(row.billed_usd), num(row.computed_usd), num(row.gap_percent)]]))).toEqual(
      new Map(expected.map((row) => [key(row.day, row.sourceSystem, row.provider), [num(row.billedUsd), num(row.computedUsd), num(row.gapPercent)]])),
    );
  });

  it('filters with multi-value variables', async () => {
    const variables = { ...allValues, provider: ['openai', 'anthropic'], model: ['gpt-5', "it's-not-there"] };
    const [stat] = await run<{ spend_usd: string }>(panelByTitle('Spend in range').targets[0]!.rawSql, variables);
    const [expected] = await usageBreakdown(store, { by: [], providers: ['openai', 'anthropic'], models: ['gpt-5'], since: RANGE.from, until: UNTIL });
    expect(Number(stat?.spend_usd)).toBe(Number(expected?.spendUsd));
    // 49 days of two $1.50 OpenAI hours, the last one ten times as much.
    expect(Number(stat?.spend_usd)).toBe(48 * 3 + 30);
  });
});
