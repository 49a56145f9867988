import type { UsageRow } from '@utt/core';
import { beforeEach, describe, expect, it } from 'vitest';
import { openStore } from './open-store';
import { clearTables, TEST_BACKENDS, useTestStore } from './test-support/test-backends';
import { testDatabaseUrl } from './test-support/test-database-url';
import { usageRow } from './test-support/usage-rows';
import { trimZeros, type UsageBreakdownQuery, type UsageDimension, usageBreakdown } from './usage-breakdown';
import { pricingCoverage, unpricedModels, unpricedModelTotals, usageDimensionValues } from './usage-quality';
import { usageRollupSql } from './usage-rollup';
import type { UsageStore } from './usage-store';

const HOUR = 3_600_000;
const START = Date.UTC(2025, 2, 30, 18); // 18:00 UTC on 30 March: the rows span a month end and Berlin's DST change

function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1_103_515_245 + 12_345) % 2_147_483_648;
    return state / 2_147_483_648;
  };
}

function pick<T>(next: () => number, values: readonly T[]): T {
  return values[Math.floor(next() * values.length)] as T;
}

function maybe(next: () => number, value: number): number | null {
  const roll = next();
  return roll < 0.2 ? null : roll < 0.3 ? 0 : value;
}

/** Hourly rows over every dimension a page groups by, with subscription-covered, unpriced and provider-priced rows. */
function rows(seed: number, hours: number, sourceSystem: string): UsageRow[] {
  const next = random(seed);
  const result: UsageRow[] = [];
  for (let hour = 0; hour < hours; hour++) {
    for (const user of ['alice', 'bob']) {
      const roll = next();
      const priced = roll >= 0.25;
      const labels: Record<string, string> = {};
      if (next() < 0.5) labels.project = pick(next, ['utt', 'web']);
      if (next() < 0.3) labels.billing = 'subscription';
      if (next() < 0.3) labels.team = pick(next, ['a', 'b']);
      result.push(
        usageRow({
          source_system: sourceSystem,
          source_instance: pick(next, ['', 'laptop']),
          bucket_start: new Date(START + hour * HOUR),
          provider: pick(next, ['openai', 'anthropic']),
          model: pick(next, ['m1', 'm2']),
          account: pick(next, ['', 'acme']),
          api_key: pick(next, ['key_1', 'key_2']),
          user_id: user,
          labels,
          input_tokens: maybe(next, Math.floor(next() * 1e6)),
          output_tokens: maybe(next, Math.floor(next() * 1e4)),
          cached_read_tokens: maybe(next, Math.floor(next() * 1e5)),
          cached_write_tokens: maybe(next, Math.floor(next() * 1e4)),
          reasoning_tokens: maybe(next, Math.floor(next() * 1e3)),
          requests: maybe(next, Math.floor(next() * 50)),
          ...(priced
            ? {
                cost_usd: (roll * 10).toFixed(roll < 0.6 ? 2 : 9),
                cost_source: roll < 0.4 ? ('provider' as const) : ('computed' as const),
                ...(roll < 0.4 ? {} : { price_ref: pick(next, ['genai-prices@1:x', 'override:x']) }),
              }
            : { unpriced_reason: pick(next, ['no_price', 'missing_rate:cacheWrite1h']) }),
        }),
      );
    }
  }
  return result;
}

/** Two monthly fees, and usage a plan covers. */
const FEES: UsageRow[] = [
  usageRow({ source_system: 'subscription', granularity: 'month', bucket_start: new Date(Date.UTC(2025, 2, 1)), provider: 'anthropic', model: '', account: 'acme', labels: { subscription: 'team' }, cost_usd: '100', cost_source: 'fixed', measurement_basis: 'derived_estimate' }),
  usageRow({ source_system: 'subscription', granularity: 'month', bucket_start: new Date(Date.UTC(2025, 3, 1)), provider: 'anthropic', model: '', account: 'acme', labels: { subscription: 'team', billing: 'subscription' }, cost_usd: '100.50', cost_source: 'fixed', measurement_basis: 'derived_estimate' }),
];

const ROW_TOKENS = 'COALESCE(input_tokens, 0) + COALESCE(cached_read_tokens, 0) + COALESCE(cached_write_tokens, 0) + COALESCE(output_tokens, 0)';
const COVERED = "(cost_source IS DISTINCT FROM 'fixed' AND COALESCE(labels->>'billing', '') = 'subscription')";
const RAW_DIMENSIONS: Record<UsageDimension, string> = {
  source: "source_system || CASE WHEN source_instance <> '' THEN '/' || source_instance ELSE '' END",
  source_system: 'source_system',
  provider: 'provider',
  model: 'model',
  account: 'account',
  api_key: 'api_key',
  user: 'user_id',
  machine: 'source_instance',
  project: "COALESCE(labels->>'project', '')",
};

/** usageBreakdown as it was before the roll-ups: one GROUP BY over the raw rows. */
async function rawBreakdown(store: UsageStore, query: UsageBreakdownQuery): Promise<unknown[]> {
  const zone = query.timeZone ?? 'UTC';
  const params: unknown[] = [zone];
  // Hours by their local start; a provider's UTC day and month rows by their calendar date.
  const localTime = `(CASE WHEN granularity = 'hour' THEN bucket_start AT TIME ZONE $1::text ELSE bucket_start AT TIME ZONE 'UTC' END)`;
  const conditions = ['true'];
  if (query.since) {
    params.push(query.since);
    conditions.push(`(CASE WHEN granularity <> 'hour' THEN ${localTime} >= ($${params.length}::timestamptz AT TIME ZONE $1::text) ELSE bucket_start >= $${params.length}::timestamptz END)`);
  }
  if (query.until) {
    params.push(query.until);
    conditions.push(`(CASE WHEN granularity <> 'hour' THEN ${localTime} < ($${params.length}::timestamptz AT TIME ZONE $1::text) ELSE bucket_start < $${params.length}::timestamptz END)`);
  }
  for (const [values, column] of [
    [query.providers, 'provider'],
    [query.users, 'user_id'],
    [query.accounts, 'account'],
    [query.sourceSystems, 'source_system'],
    [query.models, 'model'],
  ] as const) {
    if (values && values.length > 0) conditions.push(`${column} = ANY($${params.push([...values])}::text[])`);
  }
  const period = query.period === undefined ? 'NULL::text' : `to_char(date_trunc('${query.period}', ${localTime}), '${query.period === 'day' ? 'YYYY-MM-DD' : 'YYYY-MM'}')`;
  const groups = query.by.map((dimension, index) => `${RAW_DIMENSIONS[dimension]} AS g${index}`);
  const groupBy = ['1', ...query.by.map((_, index) => String(index + 3))];
  const unpriced = `cost_usd IS NULL AND ${ROW_TOKENS} > 0`;
  const result = await store.client.query<Record<string, unknown>>(
    `SELECT ${period} AS period, $1::text AS time_zone, ${[...groups, ''].join(', ')}
            SUM(input_tokens)::bigint AS input_tokens, SUM(output_tokens)::bigint AS output_tokens,
            SUM(cached_read_tokens)::bigint AS cached_read_tokens, SUM(cached_write_tokens)::bigint AS cached_write_tokens,
            SUM(cached_write_1h_tokens)::bigint AS cached_write_1h_tokens, SUM(reasoning_tokens)::bigint AS reasoning_tokens,
            SUM(requests)::bigint AS requests,
            SUM(COALESCE(input_tokens, 0) + cached_read_tokens + COALESCE(cached_write_tokens, 0))::bigint AS cache_reporting_input_tokens,
            SUM(cost_usd) FILTER (WHERE NOT ${COVERED})::text AS spend_usd,
            SUM(cost_usd) FILTER (WHERE cost_source IS DISTINCT FROM 'fixed' AND NOT ${COVERED})::text AS metered_usd,
            SUM(cost_usd) FILTER (WHERE cost_source = 'fixed')::text AS flat_fee_usd,
            SUM(cost_usd) FILTER (WHERE ${COVERED})::text AS covered_usd,
            COUNT(*) FILTER (WHERE ${unpriced}) AS unpriced_rows,
            COALESCE(SUM(${ROW_TOKENS}) FILTER (WHERE ${unpriced}), 0)::bigint AS unpriced_tokens,
            COUNT(*) AS row_count
     FROM "${store.schema}".token_usage WHERE ${conditions.join(' AND ')}
     GROUP BY ${groupBy.join(', ')} ORDER BY ${groupBy.join(', ')}`,
    params,
  );
  return result.map((row) => ({
    period: row.period,
    groups: query.by.map((_, index) => row[`g${index}`]),
    inputTokens: row.input_tokens,
    outputTokens: row.output_tokens,
    cachedReadTokens: row.cached_read_tokens,
    cachedWriteTokens: row.cached_write_tokens,
    cachedWrite1hTokens: row.cached_write_1h_tokens,
    reasoningTokens: row.reasoning_tokens,
    requests: row.requests,
    cacheReportingInputTokens: row.cache_reporting_input_tokens,
    spendUsd: trimZeros(row.spend_usd as string | null),
    meteredUsd: trimZeros(row.metered_usd as string | null),
    flatFeeUsd: trimZeros(row.flat_fee_usd as string | null),
    coveredUsd: trimZeros(row.covered_usd as string | null),
    unpricedRows: Number(row.unpriced_rows),
    unpricedTokens: Number(row.unpriced_tokens),
    rowCount: Number(row.row_count),
  }));
}

const BERLIN_MIDNIGHT_31 = new Date('2025-03-30T22:00:00Z');
const QUERIES: UsageBreakdownQuery[] = [
  { by: [] },
  { by: ['provider', 'model'], period: 'day' },
  { by: ['source'], period: 'month' },
  { by: ['api_key'], period: 'day', since: new Date(START + 5.5 * HOUR), until: new Date(START + 40.25 * HOUR) },
  { by: ['user', 'account'], period: 'day', since: new Date(Date.UTC(2025, 2, 31)), until: new Date(Date.UTC(2025, 3, 2)) },
  { by: ['machine', 'project', 'model'], period: 'day', sourceSystems: ['alpha'], users: ['alice'] },
  { by: ['account'], accounts: ['acme'], since: new Date(START + 6 * HOUR), until: new Date(START + 7 * HOUR) },
  // A zone the roll-up keeps after addRollupTimeZone, with the DST change inside the range.
  { by: ['provider'], period: 'day', timeZone: 'Europe/Berlin', since: BERLIN_MIDNIGHT_31, until: new Date('2025-04-01T22:00:00Z') },
  { by: ['user', 'project'], period: 'month', timeZone: 'Europe/Berlin' },
  // A zone no roll-up keeps: raw rows.
  { by: ['model'], period: 'day', timeZone: 'Asia/Kolkata', since: new Date('2025-03-30T18:30:00Z') },
];

describe.each(TEST_BACKENDS)('roll-up-backed breakdowns on $name', (backend) => {
  const store = useTestStore(backend);
  beforeEach(() => clearTables(store()));

  async function expectEqualRaw(): Promise<void> {
    for (const query of QUERIES) {
      expect(await usageBreakdown(store(), query), JSON.stringify(query)).toEqual(await rawBreakdown(store(), query));
    }
    const ranges: { since?: Date; until?: Date; timeZone?: string }[] = [
      {},
      { since: new Date(START + 5.5 * HOUR), until: new Date(START + 40.25 * HOUR) },
      { since: BERLIN_MIDNIGHT_31 },
      // Local days of a kept zone, and of one no roll-up keeps; a month row counts by its UTC month.
      { since: BERLIN_MIDNIGHT_31, until: new Date('2025-04-01T22:00:00Z'), timeZone: 'Europe/Berlin' },
      { since: new Date('2025-03-31T07:00:00Z'), timeZone: 'America/Los_Angeles' },
    ];
    for (const range of ranges) {
      const local = `(CASE WHEN granularity = 'hour' THEN bucket_start AT TIME ZONE $3::text ELSE bucket_start AT TIME ZONE 'UTC' END)`;
      const conditions = `($1::timestamptz IS NULL OR ${local} >= $1::timestamptz AT TIME ZONE $3::text) AND ($2::timestamptz IS NULL OR ${local} < $2::timestamptz AT TIME ZONE $3::text)`;
      const params = [range.since ?? null, range.until ?? null, range.timeZone ?? 'UTC'];
      const unpriced = await store().client.query<{ provider: string; model: string; reason: string | null; rows: number; tokens: number; last: Date }>(
        `SELECT provider, model, unpriced_reason AS reason, COUNT(*)::int AS rows, SUM(${ROW_TOKENS})::bigint AS tokens, MAX(bucket_start) AS last
         FROM "${store().schema}".token_usage WHERE ${conditions} AND cost_usd IS NULL AND ${ROW_TOKENS} > 0
         GROUP BY 1, 2, 3 ORDER BY tokens DESC, provider, model`,
        params,
      );
      expect(await unpricedModels(store(), range)).toEqual(
        unpriced.map((row) => ({ provider: row.provider, model: row.model, reason: row.reason, rows: row.rows, tokens: Number(row.tokens), lastBucketStart: row.last })),
      );
      expect(await unpricedModelTotals(store(), range)).toEqual(
        unpriced.map((row) => ({ provider: row.provider, model: row.model, reason: row.reason, rows: row.rows, tokens: Number(row.tokens) })),
      );
      const coverage = await store().client.query<{ cost_source: string | null; price_source: string; basis: string; rows: number; tokens: number; cost: string | null }>(
        `SELECT cost_source, COALESCE(substring(price_ref from '^[^@:;]+'), '') AS price_source, measurement_basis AS basis,
                COUNT(*)::int AS rows, SUM(${ROW_TOKENS})::bigint AS tokens, SUM(cost_usd)::text AS cost
         FROM "${store().schema}".token_usage WHERE ${conditions} GROUP BY 1, 2, 3 ORDER BY 1 NULLS LAST, 2, 3`,
        params,
      );
      expect(await pricingCoverage(store(), range)).toEqual(
        coverage.map((row) => ({ costSource: row.cost_source, priceSource: row.price_source, measurementBasis: row.basis, rows: row.rows, tokens: Number(row.tokens), costUsd: trimZeros(row.cost) })),
      );
      const values = await store().client.query<{ source_system: string; provider: string; model: string }>(
        `SELECT DISTINCT source_system, provider, model FROM "${store().schema}".token_usage WHERE ${conditions}`,
        params,
      );
      const sorted = (items: string[]) => [...new Set(items)].sort();
      expect(await usageDimensionValues(store(), range)).toEqual({
        sourceSystems: sorted(values.map((row) => row.source_system)),
        providers: sorted(values.map((row) => row.provider)),
        models: sorted(values.map((row) => row.model).filter((model) => model !== '')),
      });
    }
  }

  it('answers every page query with the totals of the raw rows through upserts, imports, updates and deletes', async () => {
    expect(await store().listRollupTimeZones()).toEqual(['UTC']);
    await store().writeSourceWindow({ source: 'a', sourceSystem: 'alpha', rows: rows(1, 40, 'alpha') });
    await store().writeSourceWindow({ source: 'fees', sourceSystem: 'subscription', rows: FEES });
    // A provider's UTC day rows, which keep their calendar date in every zone.
    await store().writeSourceWindow({ source: 'daily', sourceSystem: 'daily_api', rows: [0, 1, 2].map((offset) => usageRow({ source_system: 'daily_api', granularity: 'day', bucket_start: new Date(Date.UTC(2025, 2, 30 + offset)), provider: 'openai', model: 'm1', user_id: 'alice', input_tokens: 10 ** offset, cost_usd: String(offset + 1), cost_source: 'provider' })) });
    // Added after rows exist: the zone is backfilled, then kept by the triggers.
    expect(await store().addRollupTimeZone('Europe/Berlin')).toEqual({ added: true });
    expect(await store().addRollupTimeZone('Europe/Berlin')).toEqual({ added: false });
    expect(await store().listRollupTimeZones()).toEqual(['UTC', 'Europe/Berlin']);
    await store().writeSourceWindow({ source: 'b', sourceSystem: 'beta', rows: rows(2, 30, 'beta') });
    await expectEqualRaw();

    // A replay with revised numbers (invariant 1), then the same replay again.
    await store().writeSourceWindow({ source: 'a', sourceSystem: 'alpha', rows: rows(3, 35, 'alpha') });
    await store().writeSourceWindow({ source: 'a', sourceSystem: 'alpha', rows: rows(3, 35, 'alpha') });
    await expectEqualRaw();

    async function* events() {
      for (let index = 0; index < 300; index++) {
        yield {
          line: index + 2,
          granularity: 'hour' as const,
          bucket_start: new Date(START + (index % 30) * HOUR),
          provider: 'openai',
          model: 'm1',
          account: 'acme',
          api_key: `key_${index % 4}`,
          user_id: `u${index % 3}`,
          labels: (index % 5 === 0 ? { billing: 'subscription', project: 'imported' } : {}) as Record<string, string>,
          input_tokens: index,
          output_tokens: null,
          cached_read_tokens: index % 3 === 0 ? 0 : null,
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
    // Importing the same file again replaces its cells.
    await store().importUsageEvents({ sourceSystem: 'manual', sourceInstance: 'f.csv', events: events() });
    await expectEqualRaw();

    // Writers that are not the store: hand-written UPDATEs (labels and prices too) and DELETEs.
    const table = `"${store().schema}".token_usage`;
    await store().client.exec(`UPDATE ${table} SET cost_usd = NULL, cost_source = NULL, price_ref = NULL, unpriced_reason = 'repriced', output_tokens = 7 WHERE model = 'm2' AND source_system = 'beta'`);
    await store().client.exec(`UPDATE ${table} SET labels = labels || '{"billing":"subscription","project":"moved"}' WHERE user_id = 'bob' AND source_system = 'alpha'`);
    await store().client.exec(`DELETE FROM ${table} WHERE source_system = 'alpha' AND bucket_start < '2025-03-31T05:00:00Z'`);
    await expectEqualRaw();

    // Keys whose rows are all gone leave no roll-up row behind.
    await store().client.exec(`DELETE FROM ${table} WHERE source_system = 'beta'`);
    for (const rollup of ['token_usage_daily_detail', 'token_usage_daily_by_user']) {
      const [left] = await store().client.query<{ n: number }>(`SELECT count(*)::int AS n FROM "${store().schema}".${rollup} WHERE source_system = 'beta'`);
      expect(left?.n, rollup).toBe(0);
    }
    await expectEqualRaw();

    await store().client.exec(`TRUNCATE ${table}`);
    expect(await usageBreakdown(store(), { by: ['user'] })).toEqual([]);
  });

  it('keeps the computed rows per source and price_ref equal to a count of the raw rows through every kind of write (0018)', async () => {
    const table = `"${store().schema}".token_usage`;
    async function expectCountsEqualRaw(step: string): Promise<void> {
      const kept = await store().client.query<{ source_system: string; source_instance: string; price_ref: string; row_count: number }>(
        `SELECT source_system, source_instance, price_ref, row_count::int AS row_count FROM "${store().schema}".token_usage_price_ref_rows ORDER BY 1, 2, 3`,
      );
      const raw = await store().client.query<{ source_system: string; source_instance: string; price_ref: string; row_count: number }>(
        `SELECT source_system, source_instance, price_ref, count(*)::int AS row_count FROM ${table}
         WHERE cost_source = 'computed' AND price_ref IS NOT NULL GROUP BY 1, 2, 3 ORDER BY 1, 2, 3`,
      );
      // Equal, and no key left behind at zero.
      expect(kept, step).toEqual(raw);
    }

    await store().writeSourceWindow({ source: 'a', sourceSystem: 'alpha', rows: rows(1, 40, 'alpha') });
    await store().writeSourceWindow({ source: 'b', sourceSystem: 'beta', rows: rows(2, 30, 'beta') });
    await store().writeSourceWindow({ source: 'fees', sourceSystem: 'subscription', rows: FEES });
    await expectCountsEqualRaw('inserts');
    expect((await store().client.query<{ n: number }>(`SELECT count(*)::int AS n FROM "${store().schema}".token_usage_price_ref_rows`))[0]?.n).toBeGreaterThan(2);

    // Upserts: a replay with revised numbers and prices (both halves of INSERT … ON CONFLICT), then the same replay again.
    await store().writeSourceWindow({ source: 'a', sourceSystem: 'alpha', rows: rows(3, 45, 'alpha') });
    await store().writeSourceWindow({ source: 'a', sourceSystem: 'alpha', rows: rows(3, 45, 'alpha') });
    await expectCountsEqualRaw('upserts');

    // A reprice in place, as `utt reprice` writes it: a new source version for some rows, unpriced for others.
    await store().client.exec(`UPDATE ${table} SET price_ref = replace(price_ref, 'genai-prices@1', 'genai-prices@2'), cost_usd = cost_usd * 2
                               WHERE cost_source = 'computed' AND user_id = 'alice'`);
    await store().client.exec(`UPDATE ${table} SET cost_usd = NULL, cost_source = NULL, price_ref = NULL, unpriced_reason = 'no_price'
                               WHERE source_system = 'beta' AND model = 'm2'`);
    await store().client.exec(`UPDATE ${table} SET cost_usd = 1, cost_source = 'computed', price_ref = 'override:y', unpriced_reason = NULL
                               WHERE cost_usd IS NULL AND source_system = 'alpha' AND granularity = 'hour'`);
    // Updates that change no price: nothing to apply.
    await store().client.exec(`UPDATE ${table} SET output_tokens = 7 WHERE source_system = 'alpha'`);
    await store().client.exec(`UPDATE ${table} SET source_instance = 'moved' WHERE source_system = 'alpha' AND source_instance = 'laptop'`);
    await expectCountsEqualRaw('updates');

    // Deletes, down to keys whose rows are all gone.
    await store().client.exec(`DELETE FROM ${table} WHERE source_system = 'alpha' AND bucket_start < '2025-03-31T05:00:00Z'`);
    await expectCountsEqualRaw('a partial delete');
    await store().client.exec(`DELETE FROM ${table} WHERE source_system = 'beta'`);
    await expectCountsEqualRaw('a whole source deleted');
    expect(await store().client.query(`SELECT 1 FROM "${store().schema}".token_usage_price_ref_rows WHERE source_system = 'beta'`)).toEqual([]);

    await store().client.exec(`TRUNCATE ${table}`);
    await expectCountsEqualRaw('truncate');
    await store().writeSourceWindow({ source: 'b', sourceSystem: 'beta', rows: rows(4, 10, 'beta') });
    await expectCountsEqualRaw('inserts after a truncate');
  });

  it('drops a kept zone: its rows go, writes stop keeping it, and adding it again backfills it exactly once', async () => {
    const counts = async () =>
      store().client.query<{ rollup: string; n: number }>(
        `SELECT 'detail' AS rollup, count(*)::int AS n FROM "${store().schema}".token_usage_daily_detail WHERE time_zone = 'Asia/Tokyo'
         UNION ALL SELECT 'by_user', count(*)::int FROM "${store().schema}".token_usage_daily_by_user WHERE time_zone = 'Asia/Tokyo'`,
      );
    await store().writeSourceWindow({ source: 'a', sourceSystem: 'alpha', rows: rows(1, 40, 'alpha') });
    await store().addRollupTimeZone('Asia/Tokyo');
    expect((await counts()).every((row) => row.n > 0)).toBe(true);

    expect(await store().dropRollupTimeZone('Asia/Tokyo')).toEqual({ dropped: true });
    expect(await store().dropRollupTimeZone('Asia/Tokyo')).toEqual({ dropped: false });
    expect(await store().listRollupTimeZones()).not.toContain('Asia/Tokyo');
    await store().writeSourceWindow({ source: 'b', sourceSystem: 'beta', rows: rows(2, 30, 'beta') });
    expect((await counts()).map((row) => row.n)).toEqual([0, 0]);

    // Rows written while the zone was dropped are in the backfill, and nothing is left over to count twice.
    await store().addRollupTimeZone('Asia/Tokyo');
    for (const query of [
      { by: ['provider', 'model'], period: 'day', timeZone: 'Asia/Tokyo' },
      { by: ['user', 'project'], period: 'month', timeZone: 'Asia/Tokyo' },
      { by: ['api_key'], period: 'day', timeZone: 'Asia/Tokyo' },
    ] satisfies UsageBreakdownQuery[]) {
      expect(await usageBreakdown(store(), query), JSON.stringify(query)).toEqual(await rawBreakdown(store(), query));
    }
    expect((await usageRollupSql(store(), { timeZone: 'Asia/Tokyo', needs: ['provider'] })).source).toBe('by_user');
    await expect(store().dropRollupTimeZone('UTC')).rejects.toThrow(/UTC is always kept/);
  });

  it("places a provider's UTC day row on its calendar date in every zone, as budgets count it, from raw rows and from the roll-ups", async () => {
    // A provider's daily rows (the 14th, 15th and 16th of October) and an hourly row late on the local 15th in Los Angeles.
    const day = (date: string, cost: string) =>
      usageRow({ source_system: 'openai_api', granularity: 'day', bucket_start: new Date(`${date}T00:00:00Z`), provider: 'openai', model: 'm1', input_tokens: 100, cost_usd: cost, cost_source: 'provider' });
    await store().writeSourceWindow({
      source: 'openai',
      sourceSystem: 'openai_api',
      rows: [
        day('2025-10-14', '1'),
        day('2025-10-15', '2'),
        day('2025-10-16', '4'),
        usageRow({ source_system: 'openai_api', bucket_start: new Date('2025-10-16T06:00:00Z'), provider: 'openai', model: 'm1', input_tokens: 5, cost_usd: '0.5', cost_source: 'provider' }),
      ],
    });
    const zone = 'America/Los_Angeles';
    // The local 15th in Los Angeles: 07:00 UTC on the 15th to 07:00 UTC on the 16th.
    const fifteenth = { since: new Date('2025-10-15T07:00:00Z'), until: new Date('2025-10-16T07:00:00Z') };
    const [budgetDay] = await store().readSpend([{ start: fifteenth.since, end: fifteenth.until, scope: {}, calendar: { period: 'day', timeZone: zone } }]);
    expect(budgetDay).toBe('2.5');
    for (const kept of [false, true]) {
      if (kept) await store().addRollupTimeZone(zone);
      expect((await usageRollupSql(store(), { timeZone: zone, needs: ['provider'] })).source).toBe(kept ? 'by_user' : 'raw');
      const days = await usageBreakdown(store(), { by: [], period: 'day', timeZone: zone });
      expect(days.map((row) => [row.period, row.spendUsd]), `zone kept: ${kept}`).toEqual([
        ['2025-10-14', '1'],
        ['2025-10-15', '2.5'],
        ['2025-10-16', '4'],
      ]);
      const [onTheFifteenth] = await usageBreakdown(store(), { by: [], timeZone: zone, ...fifteenth });
      expect(onTheFifteenth?.spendUsd, `zone kept: ${kept}`).toBe(budgetDay);
      // A range cut mid-day: the day rows whose date is inside it, the hours that start inside it.
      const [cut] = await usageBreakdown(store(), { by: [], timeZone: zone, since: new Date('2025-10-15T20:00:00Z'), until: new Date('2025-10-17T01:00:00Z') });
      expect(cut?.spendUsd, `zone kept: ${kept}`).toBe('4.5');
    }
  });

  it('reads whole days from the roll-ups and only the partial days from raw rows', async () => {
    const plan = (query: Parameters<typeof usageRollupSql>[1]) => usageRollupSql(store(), query).then((result) => result.source);
    expect(await plan({ timeZone: 'UTC', needs: ['provider', 'model'] })).toBe('daily');
    expect(await plan({ timeZone: 'UTC', needs: ['user_id', 'project'] })).toBe('by_user');
    expect(await plan({ timeZone: 'UTC', needs: ['api_key'] })).toBe('detail');
    expect(await plan({ timeZone: 'UTC', needs: ['price_source'] })).toBe('detail');
    expect(await plan({ timeZone: 'America/New_York', needs: ['provider'] })).toBe('raw');
    await store().addRollupTimeZone('America/New_York');
    expect(await plan({ timeZone: 'America/New_York', needs: ['provider'] })).toBe('by_user');
    // Less than a whole day: nothing for a roll-up to answer.
    expect(await plan({ timeZone: 'UTC', needs: [], since: new Date(START), until: new Date(START + 3 * HOUR) })).toBe('raw');
    await expect(store().addRollupTimeZone('Mars/Olympus')).rejects.toThrow(/timeZone/);
  });
  /**
   * The three roll-ups as kept by the triggers equal the same tables summed
   * afresh from the raw rows by the statements the migrations backfill them
   * with (0010's, one kept zone at a time).
   */
  async function expectRollupsEqualRecount(): Promise<void> {
    const schema = `"${store().schema}"`;
    const snapshot = async () => ({
      daily: await store().client.query(`SELECT * FROM ${schema}.token_usage_daily ORDER BY day_start, granularity, source_system, source_instance, provider, model`),
      detail: await store().client.query(`SELECT * FROM ${schema}.token_usage_daily_detail ORDER BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15`),
      byUser: await store().client.query(`SELECT * FROM ${schema}.token_usage_daily_by_user ORDER BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11`),
    });
    const kept = await snapshot();
    expect(kept.daily.length).toBeGreaterThan(0);
    await store().client.transaction(async (tx) => {
      await tx.exec(`TRUNCATE ${schema}.token_usage_daily, ${schema}.token_usage_daily_detail, ${schema}.token_usage_daily_by_user`);
      const raw = `SELECT 1 AS sign, * FROM ${schema}.token_usage`;
      const [daily] = await tx.query<{ statement: string }>(`SELECT ${schema}.token_usage_daily_statement($1) AS statement`, [raw]);
      await tx.query(daily?.statement as string);
      for (const zone of await tx.query<{ time_zone: string }>(`SELECT time_zone FROM ${schema}.token_usage_rollup_zones ORDER BY time_zone`)) {
        const [detail] = await tx.query<{ statement: string }>(
          `SELECT ${schema}.token_usage_daily_detail_statement($1, format('SELECT %L::text AS time_zone', $2::text)) AS statement`,
          [raw, zone.time_zone],
        );
        await tx.query(detail?.statement as string);
      }
    });
    expect(await snapshot()).toEqual(kept);
  }

  it('keeps all three roll-ups equal to a recount of the raw rows, whichever way an INSERT is summed (0012)', async () => {
    const table = `"${store().schema}".token_usage`;
    // A source's first rows (days without roll-up rows), then more hours of the same days and new ones.
    await store().writeSourceWindow({ source: 'a', sourceSystem: 'alpha', rows: rows(5, 20, 'alpha') });
    await expectRollupsEqualRecount();
    await store().writeSourceWindow({ source: 'a', sourceSystem: 'alpha', rows: rows(6, 45, 'alpha') });
    await store().writeSourceWindow({ source: 'fees', sourceSystem: 'subscription', rows: FEES });
    await expectRollupsEqualRecount();
    // One statement whose rows of one detail key differ in granularity (an hour, its day, its month).
    await store().client.exec(`
      INSERT INTO ${table} (source_system, granularity, bucket_start, provider, model, input_tokens, output_tokens, cost_usd, cost_source, measurement_basis)
      VALUES ('mixed', 'hour', '2025-04-02T05:00:00Z', 'openai', 'm1', 10, NULL, 0.5, 'computed', 'exact'),
             ('mixed', 'day', '2025-04-02T00:00:00Z', 'openai', 'm1', 20, 3, NULL, NULL, 'exact'),
             ('mixed', 'month', '2025-04-01T00:00:00Z', 'openai', 'm1', NULL, 4, 0.25, 'computed', 'exact'),
             ('mixed', 'hour', '2025-04-01T23:00:00Z', 'openai', 'm1', 0, 0, 0.125, 'provider', 'exact')`);
    await expectRollupsEqualRecount();
    // A kept zone that sorts before UTC: summed from the new rows, zone by zone, before UTC's three.
    await store().addRollupTimeZone('America/Chicago');
    await store().writeSourceWindow({ source: 'b', sourceSystem: 'beta', rows: rows(7, 30, 'beta') });
    await expectRollupsEqualRecount();
    // One that sorts after UTC: 0010's statements, in their order.
    await store().addRollupTimeZone('WET');
    await store().writeSourceWindow({ source: 'c', sourceSystem: 'gamma', rows: rows(8, 30, 'gamma') });
    await store().writeSourceWindow({ source: 'a', sourceSystem: 'alpha', rows: rows(9, 50, 'alpha') });
    await expectRollupsEqualRecount();
    await store().dropRollupTimeZone('WET');
    await store().dropRollupTimeZone('America/Chicago');
    await store().client.exec(`DELETE FROM ${table} WHERE source_system = 'gamma'`);
    await store().writeSourceWindow({ source: 'c', sourceSystem: 'gamma', rows: rows(10, 30, 'gamma') });
    await expectRollupsEqualRecount();
  });

  it.runIf(backend.name === 'postgres')('sums a day first written by two transactions at once exactly once (0012)', async () => {
    const other = await openStore({ url: testDatabaseUrl() as string, schema: store().schema, migrate: false });
    try {
      // Rows of one detail key (they differ only in a label the roll-ups drop), in a day with no roll-up row.
      const cell = (session: string, input: number) =>
        usageRow({ source_system: 'race', bucket_start: new Date(START), provider: 'openai', model: 'm1', labels: { session }, input_tokens: input, cost_usd: '0.5', cost_source: 'computed' });
      // Both writers add the day's first roll-up rows: the second's upsert waits on the first's new detail row, then adds to it.
      let second: Promise<unknown> | undefined;
      await store().client.transaction(async (tx) => {
        await tx.query(
          `INSERT INTO "${store().schema}".token_usage (source_system, granularity, bucket_start, provider, model, labels, input_tokens, cost_usd, cost_source, measurement_basis)
           VALUES ('race', 'hour', $1, 'openai', 'm1', '{"session":"0"}', 5, 0.5, 'computed', 'exact')`,
          [new Date(START)],
        );
        second = other.writeSourceWindow({ source: 'race', sourceSystem: 'race', rows: [cell('1', 7), cell('2', 11)] });
        await new Promise((resolve) => setTimeout(resolve, 300));
      });
      await second;
      await expectRollupsEqualRecount();
    } finally {
      await other.close();
    }
  });
});
