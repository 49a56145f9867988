import { randomBytes } from 'node:crypto';
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { openStore, type UsageStore } from '@utt/postgres';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { rowsPerPriceSource } from './rows-per-price-source';
import { unpricedModels } from './unpriced-models';

// PGlite always; PostgreSQL too when UTT_TEST_DATABASE_URL is set.
const backends = [{ name: 'pglite' }, ...(process.env.UTT_TEST_DATABASE_URL ? [{ name: 'postgres' }] : [])];

// Rows that tell the listings' rules apart: unpriced rows with and without a reason (and one whose reason is the
// text a missing reason prints as), with tokens, with zero tokens and with none; priced rows; computed rows priced
// per request, by several sources and versions, and one with an empty price_ref; provider-priced rows with a ref.
const ROWS: ReadonlyArray<readonly [string, string, number | null, number | null, number | null, string | null, string | null, string | null, string | null]> = [
  // provider, model, input, output, cached_read, cost_usd, cost_source, price_ref, unpriced_reason
  ['fakeai', 'alpha', 100, 20, null, null, null, null, 'no_price'],
  ['fakeai', 'alpha', 5, null, 7, null, null, null, 'no_price'],
  ['fakeai', 'alpha', 1, 1, 1, null, null, null, null],
  ['fakeai', 'alpha', 2, 0, null, null, null, null, 'not recorded'],
  ['fakeai', 'alpha', 0, 0, 0, null, null, null, 'missing_rate:output'],
  ['fakeai', 'alpha', null, null, null, null, null, null, 'no_price'],
  ['fakeai', '', 9, 1, null, null, null, null, 'no_model'],
  ['fakeai', 'beta', 3, 4, null, null, null, null, 'per-request:no_price'],
  ['openai', 'gpt-4o', 10, 10, 0, '0.001', 'computed', 'genai-prices@0.1.8:openai/gpt-4o@base', null],
  ['openai', 'gpt-4o', 11, 10, 0, '0.002', 'computed', 'genai-prices@0.1.8:openai/gpt-4o@base', null],
  ['openai', 'gpt-5', 12, 10, 0, '0.003', 'computed', 'genai-prices@0.1.7:openai/gpt-5@base', null],
  ['acme', 'tiered', 13, 10, null, '0.004', 'computed', 'per-request:config:acme/tiered@base|config:acme/tiered@base;tier>200000', null],
  ['acme', 'tiered', 14, 10, null, '0.005', 'computed', 'config:acme/tiered@base', null],
  ['acme', 'plain', 15, 10, null, '0.006', 'computed', '', null],
  ['acme', 'plain', 16, 10, null, '0.007', 'computed', null, null],
  ['anthropic', 'claude', 17, 10, null, '0.008', 'provider', 'invoice:2026-10', null],
  ['anthropic', 'claude', 18, 10, null, '0.009', 'fixed', null, null],
];

/**
 * The yardstick: unpriced rows (cost NULL, more than 0 tokens, as `utt report` counts them) grouped straight from the
 * raw rows, a missing reason (NULL or '') shown as "not recorded". With `anyTokenColumn`, the rule the listing had
 * before it read the roll-ups: a row counted when any token column is not NULL, even if every one is 0.
 */
async function rawUnpriced(store: UsageStore, { anyTokenColumn = false } = {}) {
  const rowTokens = 'COALESCE(input_tokens, 0) + COALESCE(output_tokens, 0) + COALESCE(cached_read_tokens, 0) + COALESCE(cached_write_tokens, 0)';
  const hasTokens = anyTokenColumn ? 'COALESCE(input_tokens, output_tokens, cached_read_tokens, cached_write_tokens) IS NOT NULL' : `${rowTokens} > 0`;
  const rows = await store.client.query<{ provider: string; model: string; reason: string; row_count: string | number; tokens: string }>(
    `SELECT provider, model, COALESCE(NULLIF(unpriced_reason, ''), 'not recorded') AS reason, COUNT(*) AS row_count, SUM(${rowTokens})::text AS tokens
     FROM "${store.schema}".token_usage
     WHERE cost_usd IS NULL AND ${hasTokens}
     GROUP BY 1, 2, 3 ORDER BY 1, 2, 3`,
  );
  return rows.map((row) => ({ provider: row.provider, model: row.model, reason: row.reason, rows: Number(row.row_count), tokens: Number(row.tokens) }));
}

/** The count per price source prices-command.ts ran before, the source cut out of every row's price_ref. */
async function rawRowsPerPriceSource(store: UsageStore) {
  const rows = await store.client.query<{ source_label: string; row_count: string | number }>(
    `SELECT split_part(regexp_replace(price_ref, '^per-request:', ''), ':', 1) AS source_label, COUNT(*)::bigint AS row_count
     FROM "${store.schema}".token_usage WHERE cost_source = 'computed' AND price_ref IS NOT NULL GROUP BY 1 ORDER BY 1`,
  );
  return rows.map((row) => ({ sourceLabel: row.source_label, rows: Number(row.row_count) }));
}

describe.each(backends)('the database listings of verify and prices check on $name', ({ name }) => {
  let store: UsageStore;
  let cleanUp: () => Promise<void>;

  beforeAll(async () => {
    const schema = `utt_test_${randomBytes(6).toString('hex')}`;
    if (name === 'postgres') {
      const url = process.env.UTT_TEST_DATABASE_URL as string;
      store = await openStore({ url, schema });
      cleanUp = async () => {
        await store.client.exec(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
        await store.close();
      };
    } else {
      const root = await mkdtemp(path.join(tmpdir(), 'utt-listings-'));
      await cp(inject('pgliteTemplate'), path.join(root, 'db'), { recursive: true });
      store = await openStore({ path: path.join(root, 'db'), schema });
      cleanUp = async () => {
        await store.close();
        await rm(root, { recursive: true, force: true });
      };
    }
    await store.client.query(
      `INSERT INTO "${store.schema}".token_usage (source_system, granularity, bucket_start, provider, model, input_tokens, output_tokens,
                                                  cached_read_tokens, cost_usd, cost_source, price_ref, unpriced_reason, measurement_basis)
       SELECT 'listing_test', 'hour', timestamptz '2026-10-01T00:00:00Z' + make_interval(hours => ordinality::int),
              provider, model, input_tokens, output_tokens, cached_read_tokens, cost_usd, cost_source, price_ref, unpriced_reason, 'exact'
       FROM unnest($1::text[], $2::text[], $3::bigint[], $4::bigint[], $5::bigint[], $6::numeric[], $7::text[], $8::text[], $9::text[])
            WITH ORDINALITY AS given(provider, model, input_tokens, output_tokens, cached_read_tokens, cost_usd, cost_source, price_ref, unpriced_reason)`,
      ROWS[0]?.map((_, column) => ROWS.map((row) => row[column])),
    );
    // A second reporting zone: the detail roll-up then holds every row twice (once per zone); the listing must count it once.
    await store.addRollupTimeZone('Asia/Tokyo');
    // Day and month rows (a month row's roll-up day is its UTC month's first), a reason stored as '' and a row whose only
    // tokens are cache writes, written after the zone was added so that the triggers, not the backfill, count them.
    await store.client.query(
      `INSERT INTO "${store.schema}".token_usage (source_system, granularity, bucket_start, provider, model, input_tokens, output_tokens,
                                                  cached_write_tokens, unpriced_reason, measurement_basis)
       VALUES ('listing_test', 'day', '2026-10-02T00:00:00Z', 'fakeai', 'gamma', 4, 1, NULL, 'no_price', 'exact'),
              ('listing_test', 'month', '2026-09-01T00:00:00Z', 'fakeai', 'gamma', 6, NULL, NULL, 'no_price', 'exact'),
              ('listing_test', 'hour', '2026-10-03T23:00:00Z', 'fakeai', 'gamma', NULL, NULL, 8, '', 'exact'),
              ('listing_test', 'hour', '2026-10-03T22:00:00Z', 'fakeai', 'gamma', 0, 0, 0, '', 'exact')`,
    );
  });

  afterAll(async () => {
    await cleanUp();
  });

  it('list the unpriced rows as the raw rows count them, each once, from the roll-ups', async () => {
    const expected = [
      { provider: 'fakeai', model: '', reason: 'no_model', rows: 1, tokens: 10 },
      { provider: 'fakeai', model: 'alpha', reason: 'no_price', rows: 2, tokens: 132 },
      { provider: 'fakeai', model: 'alpha', reason: 'not recorded', rows: 2, tokens: 5 },
      { provider: 'fakeai', model: 'beta', reason: 'per-request:no_price', rows: 1, tokens: 7 },
      { provider: 'fakeai', model: 'gamma', reason: 'no_price', rows: 2, tokens: 11 },
      { provider: 'fakeai', model: 'gamma', reason: 'not recorded', rows: 1, tokens: 8 },
    ];
    expect(await rawUnpriced(store)).toEqual(expected);
    expect(await unpricedModels(store)).toEqual(expected);
    // What is no longer listed: NULL-cost rows whose tokens are all 0 (nothing to price), which the rule before the
    // roll-ups listed with 0 tokens. `utt report` never counted them as unpriced either.
    const before = await rawUnpriced(store, { anyTokenColumn: true });
    expect(before.filter((row) => !expected.some((kept) => JSON.stringify(kept) === JSON.stringify(row)))).toEqual([
      { provider: 'fakeai', model: 'alpha', reason: 'missing_rate:output', rows: 1, tokens: 0 },
      { provider: 'fakeai', model: 'gamma', reason: 'not recorded', rows: 2, tokens: 8 },
    ]);
  });

  it('read the listing from the detail roll-up alone, not from the raw rows', async () => {
    const statements: string[] = [];
    const recording = {
      schema: store.schema,
      client: {
        query: (sql: string, params?: unknown[]) => {
          statements.push(sql);
          return store.client.query(sql, params);
        },
      },
    } as unknown as UsageStore;
    expect((await unpricedModels(recording)).length).toBe(6);
    expect(statements.join('\n')).toContain('.token_usage_daily_detail');
    expect(statements.join('\n')).not.toMatch(/\.token_usage(?!_)/);
  });

  it('count the computed rows per price source as the per-row query did', async () => {
    const expected = [
      { sourceLabel: '', rows: 1 },
      { sourceLabel: 'config', rows: 2 },
      { sourceLabel: 'genai-prices@0.1.7', rows: 1 },
      { sourceLabel: 'genai-prices@0.1.8', rows: 2 },
    ];
    expect(await rawRowsPerPriceSource(store)).toEqual(expected);
    expect(await rowsPerPriceSource(store)).toEqual(expected);
  });
});
