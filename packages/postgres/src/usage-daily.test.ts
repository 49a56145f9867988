import type { UsageRow } from '@utt/core';
import { beforeEach, describe, expect, it } from 'vitest';
import type { ReportQuery } from './report';
import { clearTables, TEST_BACKENDS, useTestStore } from './test-support/test-backends';
import { usageRow } from './test-support/usage-rows';
import type { UsageStore } from './usage-store';

const HOUR = 3_600_000;
const START = Date.UTC(2025, 2, 30, 20); // 20:00 on 30 March, so the rows span three days and a month end

/** A deterministic pseudo-random stream, so a failure reproduces. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1_103_515_245 + 12_345) % 2_147_483_648;
    return state / 2_147_483_648;
  };
}

function maybe(next: () => number, value: number): number | null {
  const roll = next();
  return roll < 0.2 ? null : roll < 0.3 ? 0 : value;
}

function rows(seed: number, count: number, sourceSystem: string): UsageRow[] {
  const next = random(seed);
  return Array.from({ length: count }, (_, index) => {
    const cost = next();
    return usageRow({
      source_system: sourceSystem,
      bucket_start: new Date(START + index * HOUR),
      provider: next() < 0.5 ? 'openai' : 'anthropic',
      model: next() < 0.5 ? 'm1' : 'm2',
      input_tokens: maybe(next, Math.floor(next() * 1e6)),
      output_tokens: maybe(next, Math.floor(next() * 1e4)),
      cached_read_tokens: maybe(next, Math.floor(next() * 1e5)),
      requests: maybe(next, Math.floor(next() * 50)),
      // Every fourth hour under a plan: its cost is covered, not spend.
      labels: index % 4 === 0 ? { billing: 'subscription' } : {},
      ...(cost < 0.3 ? {} : { cost_usd: (cost * 10).toFixed(cost < 0.6 ? 2 : 9), cost_source: 'computed' as const }),
    });
  });
}

/** The same report computed from the raw rows alone, as report.ts did before the roll-up. */
async function rawReport(store: UsageStore, query: ReportQuery): Promise<unknown[]> {
  // The roll-up's groupings; a label report reads raw rows already.
  const groups = ({ source: ['source_system', 'source_instance'], provider: ['provider'], model: ['model'] } as Record<string, string[]>)[query.by];
  if (!groups) throw new Error(`no raw report for --by ${query.by}`);
  const conditions = ['true'];
  const params: Date[] = [];
  if (query.since) conditions.push(`bucket_start >= $${params.push(query.since)}`);
  if (query.until) conditions.push(`bucket_start < $${params.push(query.until)}`);
  const covered = "cost_source IS DISTINCT FROM 'fixed' AND labels->>'billing' = 'subscription'";
  const tokens = 'COALESCE(input_tokens, 0) + COALESCE(cached_read_tokens, 0) + COALESCE(cached_write_tokens, 0) + COALESCE(output_tokens, 0)';
  return store.client.query(
    `SELECT date_trunc('${query.period}', bucket_start AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' AS period_start, ${groups.join(', ')},
            SUM(input_tokens)::bigint AS input_tokens, SUM(output_tokens)::bigint AS output_tokens,
            SUM(cached_read_tokens)::bigint AS cached_read_tokens, SUM(requests)::bigint AS requests,
            trim_scale(SUM(cost_usd) - COALESCE(SUM(cost_usd) FILTER (WHERE ${covered}), 0))::text AS cost_usd,
            trim_scale(SUM(cost_usd) FILTER (WHERE ${covered}))::text AS covered_usd,
            COUNT(*) FILTER (WHERE cost_usd IS NULL AND ${tokens} > 0) AS unpriced_rows,
            COUNT(*) AS row_count
     FROM "${store.schema}".token_usage WHERE ${conditions.join(' AND ')}
     GROUP BY 1, ${groups.join(', ')} ORDER BY 1, ${groups.join(', ')}`,
    params,
  );
}

async function rolledUpReport(store: UsageStore, query: ReportQuery): Promise<unknown[]> {
  const rows = await store.report(query);
  return rows.map((row) => ({
    period_start: row.periodStart,
    ...(query.by === 'source' ? { source_system: row.sourceSystem, source_instance: row.sourceInstance } : {}),
    ...(query.by === 'provider' ? { provider: row.provider } : {}),
    ...(query.by === 'model' ? { model: row.model } : {}),
    input_tokens: row.inputTokens,
    output_tokens: row.outputTokens,
    cached_read_tokens: row.cachedReadTokens,
    requests: row.requests,
    cost_usd: row.costUsd,
    covered_usd: row.coveredUsd,
    unpriced_rows: row.unpricedRows,
    row_count: row.rowCount,
  }));
}

const QUERIES: ReportQuery[] = [
  { period: 'day', by: 'source' },
  { period: 'month', by: 'model' },
  { period: 'day', by: 'provider', since: new Date(START + 5.5 * HOUR), until: new Date(START + 40.25 * HOUR) },
  { period: 'day', by: 'model', since: new Date(START + 6 * HOUR), until: new Date(START + 7 * HOUR) },
  { period: 'month', by: 'source', since: new Date(Date.UTC(2025, 2, 31)), until: new Date(Date.UTC(2025, 3, 1, 13)) },
  { period: 'day', by: 'source', until: new Date(Date.UTC(2025, 2, 31)) },
  // From a midnight to mid-day, from mid-day to a midnight, and open at one end with the other mid-day.
  { period: 'day', by: 'model', since: new Date(START + 4 * HOUR), until: new Date(START + 17 * HOUR) },
  { period: 'day', by: 'provider', since: new Date(START + 13 * HOUR), until: new Date(START + 28 * HOUR) },
  { period: 'month', by: 'model', since: new Date(START + 30 * HOUR) },
  { period: 'day', by: 'source', until: new Date(START + 50.5 * HOUR) },
];

describe.each(TEST_BACKENDS)('token_usage_daily on $name', (backend) => {
  const store = useTestStore(backend);
  beforeEach(() => clearTables(store()));

  async function expectReportsEqualRaw(): Promise<void> {
    for (const query of QUERIES) {
      expect(await rolledUpReport(store(), query), JSON.stringify(query)).toEqual(await rawReport(store(), query));
    }
  }

  it('stays equal to the raw rows through inserts, replacing upserts, imports, updates and deletes by any writer', async () => {
    await store().writeSourceWindow({ source: 'a', sourceSystem: 'alpha', rows: rows(1, 60, 'alpha') });
    await store().writeSourceWindow({ source: 'b', sourceSystem: 'beta', rows: rows(2, 60, 'beta') });
    await expectReportsEqualRaw();

    // A replay with revised numbers (invariant 1), then the same replay again.
    await store().writeSourceWindow({ source: 'a', sourceSystem: 'alpha', rows: rows(3, 45, 'alpha') });
    await store().writeSourceWindow({ source: 'a', sourceSystem: 'alpha', rows: rows(3, 45, 'alpha') });
    await expectReportsEqualRaw();

    async function* events() {
      for (let index = 0; index < 500; index++) {
        yield {
          line: index + 2,
          granularity: 'hour' as const,
          bucket_start: new Date(START + (index % 30) * HOUR),
          provider: 'openai',
          model: 'm1',
          account: '',
          api_key: '',
          user_id: `u${index % 3}`,
          labels: {},
          input_tokens: index,
          output_tokens: null,
          cached_read_tokens: null,
          cached_write_tokens: null,
          cached_write_1h_tokens: null,
          reasoning_tokens: null,
          requests: 1,
          cost_usd: index % 2 === 0 ? '0.001' : null,
          measurement_basis: 'exact' as const,
        };
      }
    }
    await store().importUsageEvents({ sourceSystem: 'manual', sourceInstance: 'f.csv', events: events() });
    await expectReportsEqualRaw();

    // Writers that are not the store: a hand-written UPDATE and DELETE.
    await store().client.exec(`UPDATE "${store().schema}".token_usage SET cost_usd = NULL, cost_source = NULL, output_tokens = 7 WHERE model = 'm2' AND source_system = 'beta'`);
    await store().client.exec(`UPDATE "${store().schema}".token_usage SET labels = '{"billing":"subscription"}' WHERE model = 'm1' AND source_system = 'beta'`);
    await store().client.exec(`DELETE FROM "${store().schema}".token_usage WHERE source_system = 'alpha' AND bucket_start < '2025-03-31T05:00:00Z'`);
    await expectReportsEqualRaw();

    // A key whose rows are all gone leaves no daily row behind.
    await store().client.exec(`DELETE FROM "${store().schema}".token_usage WHERE source_system = 'beta'`);
    const [left] = await store().client.query<{ n: number }>(`SELECT count(*)::int AS n FROM "${store().schema}".token_usage_daily WHERE source_system = 'beta'`);
    expect(left?.n).toBe(0);
    await expectReportsEqualRaw();

    await store().client.exec(`TRUNCATE "${store().schema}".token_usage`);
    expect(await store().report({ period: 'day', by: 'source' })).toEqual([]);
  });

  it('reconciles from the roll-up with the totals of the raw rows, partial days included', async () => {
    await store().writeSourceWindow({ source: 'a', sourceSystem: 'alpha', rows: rows(5, 60, 'alpha') });
    await store().client.exec(
      `INSERT INTO "${store().schema}".provider_cost (source_system, bucket_start, provider, line_item, amount_usd) VALUES ('alpha', '2025-03-31', 'openai', 'usage', 1)`,
    );
    for (const [since, until] of [
      [undefined, undefined],
      [new Date(START + 5.5 * HOUR), new Date(START + 40.25 * HOUR)],
      [new Date(START + 6 * HOUR), new Date(START + 7 * HOUR)],
    ] as const) {
      const reconciled = await store().reconcile({ since, until });
      const raw = await store().client.query<{ day: Date; provider: string; computed: string | null; unpriced: number }>(
        `SELECT date_trunc('day', bucket_start AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' AS day, provider,
                trim_scale(SUM(cost_usd))::text AS computed,
                COUNT(*) FILTER (WHERE cost_usd IS NULL AND COALESCE(input_tokens, 0) + COALESCE(cached_read_tokens, 0) + COALESCE(cached_write_tokens, 0) + COALESCE(output_tokens, 0) > 0)::int AS unpriced
         FROM "${store().schema}".token_usage
         WHERE ($1::timestamptz IS NULL OR bucket_start >= $1) AND ($2::timestamptz IS NULL OR bucket_start < $2)
         GROUP BY 1, 2 ORDER BY 1, 2`,
        [since ?? null, until ?? null],
      );
      const computedDays = reconciled.filter((row) => row.computedUsd !== null || row.unpricedRows > 0);
      expect(computedDays.map((row) => [row.day, row.provider, row.computedUsd, row.unpricedRows])).toEqual(
        raw.map((row) => [row.day, row.provider, row.computed, row.unpriced]),
      );
    }
  });

  it('counts what verify checks without reading raw rows', async () => {
    await store().writeSourceWindow({
      source: 'a',
      sourceSystem: 'alpha',
      rows: [usageRow({ source_system: 'alpha', bucket_start: new Date(START), output_tokens: 3, reasoning_tokens: 5, cached_read_tokens: 0 })],
    });
    const checks = await store().verify({ sources: [{ name: 'a', sourceSystem: 'alpha', cacheTokens: 'none', enabled: true, paused: false }] });
    expect(checks.find((check) => check.name === 'rows:alpha')).toMatchObject({ ok: true, detail: '1 rows for source_system alpha' });
    expect(checks.find((check) => check.name === 'reasoning-within-output')).toMatchObject({ ok: false, detail: '1 rows with reasoning_tokens > output_tokens' });
    expect(checks.find((check) => check.name === 'cache-null:alpha')).toMatchObject({ ok: false });
  });
});
