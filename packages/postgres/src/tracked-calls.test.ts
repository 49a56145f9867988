import { randomBytes } from 'node:crypto';
import type { TrackedCallV1 } from '@utt/core';
import { beforeEach, describe, expect, it } from 'vitest';
import { openStore } from './open-store';
import { TEST_BACKENDS, useTestStore } from './test-support/test-backends';
import { trackedCallV1 } from './test-support/tracked-call';
import { storeTables } from './schema-name';
import { createTrackerSink, lacksOnlyUsage, parseTrackedCellReason, recomputeTrackedCells } from './tracked-calls';
import type { UsageStore } from './usage-store';

const HOUR = new Date('2026-11-03T10:00:00Z');
const OPENAI_ID = 'chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT';

/** Response ids and whether each identifies a call: the same table is in @utt/tracker's response-identity.test.ts. */
const RESPONSE_IDS: Record<string, boolean> = {
  'chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT': true,
  resp_67ccd2bed1ec8190b14f964abc0542670bb6a6b452d3795b: true,
  msg_01XFDUDYJgAACzvnptvVoYEL: true,
  ZnFdaLbCLJ6qnvgPs5ye0Qc: true,
  'chatcmpl-6a3b1c2d-1234-4567-89ab-cdef01234567': true,
  'gen-1733550000-AbCdEfGhIjKlMnOpQrSt': true,
  '8c2d5b0e4f6a4d2b': true,
  'chatcmpl-537': false,
  'chatcmpl-0': false,
  msg_01XyZ: false,
  'chatcmpl-Str456': false,
  'g-resp-1': false,
  'chatcmpl-8c2d5b0e4f6a4d2': false,
  'chatcmpl-ü-ü-ü-ü-ü-ü-ü-ü-ü-ü-ü-ü-ü-ü-ü-ü-ü-ü': false,
  'chatcmpl-üa1b2c3d4e5f6a7b8c9d': true,
  'abc-def_ghi-jkl_mno-pqr': false,
  'abc-def_ghi-jkl_mno-pqrs': true,
  'abcdefghijklmno': false,
  '': false,
};

function call(overrides: Partial<TrackedCallV1> = {}): TrackedCallV1 {
  return trackedCallV1({ occurredAt: new Date(HOUR.getTime() + 60_000), tags: { tenant: 'acme', user: 'u1' }, labels: { tenant: 'acme' }, ...overrides });
}

type Cell = {
  labels: Record<string, string>;
  input_tokens: number | null;
  output_tokens: number | null;
  cached_read_tokens: number | null;
  requests: number | null;
  cost_usd: string | null;
  cost_source: string | null;
  unpriced_reason: string | null;
  granularity: string;
};

async function cells(store: UsageStore): Promise<Cell[]> {
  return store.client.query<Cell>(
    `SELECT labels, input_tokens, output_tokens, cached_read_tokens, requests, cost_usd::text AS cost_usd, cost_source, unpriced_reason, granularity
     FROM "${store.schema}".token_usage ORDER BY labels::text, bucket_start, source_system`,
  );
}

async function callCount(store: UsageStore): Promise<number> {
  const [row] = await store.client.query<{ n: number }>(`SELECT COUNT(*)::int AS n FROM "${store.schema}".tracked_call`);
  return row?.n ?? 0;
}

describe('a tracker cell\'s unpriced_reason', () => {
  it('reads back what the roll-up writes, colons in a pricing reason included', () => {
    expect(parseTrackedCellReason('calls_unpriced:1/2:no_price')).toEqual({ calls: 1, requests: 2, usageUnknownCalls: 0, reason: 'no_price' });
    expect(parseTrackedCellReason('calls_unpriced:1/12:usage_unknown')).toEqual({ calls: 1, requests: 12, usageUnknownCalls: 1, reason: null });
    expect(parseTrackedCellReason('calls_unpriced:3/9:usage_unknown:2;missing_rate:cache_read')).toEqual({ calls: 3, requests: 9, usageUnknownCalls: 2, reason: 'missing_rate:cache_read' });
    expect(parseTrackedCellReason('no_price')).toBeUndefined();
    expect(parseTrackedCellReason(null)).toBeUndefined();
    expect(lacksOnlyUsage('calls_unpriced:1/12:usage_unknown')).toBe(true);
    expect(lacksOnlyUsage('calls_unpriced:3/9:usage_unknown:2;missing_rate:cache_read')).toBe(false);
    expect(lacksOnlyUsage('calls_unpriced:1/2:no_price')).toBe(false);
    expect(lacksOnlyUsage('no_price')).toBe(false);
    expect(lacksOnlyUsage(null)).toBe(false);
  });
});

describe.each(TEST_BACKENDS)('tracked calls on $name', (backend) => {
  const store = useTestStore(backend);
  beforeEach(() =>
    store().client.exec(['token_usage', 'tracked_call', 'tracked_cell_carry', 'tracked_call_horizon'].map((table) => `DELETE FROM "${store().schema}".${table};`).join('\n')),
  );

  it('keeps each hourly cell equal to the sum of its calls, NULL where no call reported a count', async () => {
    const batch = [call(), call({ inputTokens: 50, outputTokens: 5, costUsd: '0.0005' }), call({ labels: { tenant: 'globex' }, tags: { tenant: 'globex' } })];
    await store().writeTrackedCalls(batch);
    expect(await cells(store())).toEqual([
      { labels: { tenant: 'acme' }, input_tokens: 150, output_tokens: 15, cached_read_tokens: null, requests: 2, cost_usd: '0.0015', cost_source: 'computed', unpriced_reason: null, granularity: 'hour' },
      { labels: { tenant: 'globex' }, input_tokens: 100, output_tokens: 10, cached_read_tokens: null, requests: 1, cost_usd: '0.001', cost_source: 'computed', unpriced_reason: null, granularity: 'hour' },
    ]);
  });

  it('writes nothing twice when a batch is retried, or a response is recorded again (invariant 1), and says what it skipped', async () => {
    const batch = [call({ responseId: OPENAI_ID }), call()];
    expect(await store().writeTrackedCalls(batch)).toEqual({ inserted: 2, alreadyStored: 0, sameResponse: 0, refused: 0 });
    const first = await cells(store());
    expect(await store().writeTrackedCalls(batch)).toEqual({ inserted: 0, alreadyStored: 2, sameResponse: 0, refused: 0 });
    expect(await store().writeTrackedCalls([call({ responseId: OPENAI_ID })])).toEqual({ inserted: 0, alreadyStored: 0, sameResponse: 1, refused: 0 });
    expect(await cells(store())).toEqual(first);
    expect(await callCount(store())).toBe(2);
  });

  it('stores every call of a server that reuses response ids (Ollama: chatcmpl-0…998), and a distinct call under a reused long id', async () => {
    const calls = Array.from({ length: 2500 }, (_, index) => call({ provider: 'ollama', responseId: `chatcmpl-${index % 999}`, inputTokens: 10, outputTokens: 1 }));
    const results = [];
    for (let offset = 0; offset < calls.length; offset += 500) results.push(await store().writeTrackedCalls(calls.slice(offset, offset + 500)));
    expect(results.reduce((sum, result) => sum + result.inserted, 0)).toBe(2500);
    // A long id answered again with other counts (a proxy's counter after a restart, a mock's constant id) is another call.
    expect(await store().writeTrackedCalls([call({ responseId: OPENAI_ID }), call({ responseId: OPENAI_ID, inputTokens: 7 })])).toMatchObject({ inserted: 2 });
    expect(await callCount(store())).toBe(2502);
    const [cell] = (await cells(store())).filter((row) => row.input_tokens === 25_000);
    expect(cell).toMatchObject({ requests: 2500, output_tokens: 2500 });
  });

  it('trusts a response id as an identity by the rule of @utt/tracker (response-identity.ts)', async () => {
    const rows = await store().client.query<{ id: string; distinctive: boolean }>(
      `SELECT id, length(regexp_replace(regexp_replace(id, '^[A-Za-z]+[-_]', ''), '[^A-Za-z0-9]', '', 'g')) >= 16 AS distinctive
       FROM unnest($1::text[]) AS id`,
      [Object.keys(RESPONSE_IDS)],
    );
    expect(Object.fromEntries(rows.map((row) => [row.id, row.distinctive]))).toEqual(RESPONSE_IDS);
  });

  it('marks a cell with an unpriced call unpriced (never a partial $ figure)', async () => {
    await store().writeTrackedCalls([call(), call({ model: 'gpt-test', costUsd: null, priceRef: null, unpricedReason: 'no_price' })]);
    const [cell] = await cells(store());
    expect(cell).toMatchObject({ requests: 2, cost_usd: null, cost_source: null, unpriced_reason: 'calls_unpriced:1/2:no_price' });
  });

  it('marks a cell with a call whose usage never arrived unpriced, before and after a retry and a prune, while budgets keep its known spend', async () => {
    const unknownUsage = (overrides: Partial<TrackedCallV1> = {}) =>
      call({ usageOrigin: 'unknown', streaming: true, inputTokens: null, outputTokens: null, costUsd: null, priceRef: null, unpricedReason: 'usage_unknown', ...overrides });
    const priced = Array.from({ length: 11 }, () => call({ costUsd: '0.5' }));
    const batch = [...priced, unknownUsage()];
    // Mixed with a call that has tokens and no price; and an hour of nothing but a cut stream.
    const mixed = [call({ labels: { tenant: 'globex' } }), call({ labels: { tenant: 'globex' }, costUsd: null, priceRef: null, unpricedReason: 'missing_rate:cache_read' }), unknownUsage({ labels: { tenant: 'globex' } })];
    const alone = unknownUsage({ labels: { tenant: 'initech' } });
    // A stream cut after Anthropic's message_start: its input counts arrived, its output never did.
    const cutAfterStart = unknownUsage({ labels: { tenant: 'umbrella' }, provider: 'anthropic', model: 'claude-test', inputTokens: 25, cachedWriteTokens: 500 });
    await store().writeTrackedCalls([...batch, ...mixed, alone, cutAfterStart, call({ labels: { tenant: 'umbrella' }, provider: 'anthropic', model: 'claude-test', costUsd: '0.5' })]);
    const expected = [
      { labels: { tenant: 'acme' }, requests: 12, input_tokens: 1100, cost_usd: null, cost_source: null, unpriced_reason: 'calls_unpriced:1/12:usage_unknown' },
      { labels: { tenant: 'globex' }, requests: 3, input_tokens: 200, cost_usd: null, cost_source: null, unpriced_reason: 'calls_unpriced:2/3:usage_unknown:1;missing_rate:cache_read' },
      { labels: { tenant: 'initech' }, requests: 1, input_tokens: null, cost_usd: null, cost_source: null, unpriced_reason: 'calls_unpriced:1/1:usage_unknown' },
      { labels: { tenant: 'umbrella' }, requests: 2, input_tokens: 125, cost_usd: null, cost_source: null, unpriced_reason: 'calls_unpriced:1/2:usage_unknown' },
    ];
    expect(await cells(store())).toMatchObject(expected);
    const sink = createTrackerSink(store());
    const day = { start: new Date('2026-11-03T00:00:00Z'), end: new Date('2026-11-04T00:00:00Z') };
    const queries = [
      { ...day, scope: {} },
      { ...day, scope: { labels: { tenant: 'acme' } } },
      { ...day, scope: { labels: { tenant: 'globex' } } },
      { ...day, scope: { labels: { tenant: 'initech' } } },
      { ...day, scope: { labels: { tenant: 'umbrella' } } },
    ];
    // What the priced calls cost is spent: a budget never reads it as $0 because one call of the hour has no cost.
    expect((await sink.readSpend?.(queries))?.map(Number)).toEqual([6.001, 5.5, 0.001, 0, 0.5]);
    const before = await cells(store());
    expect(await store().writeTrackedCalls([...batch, ...mixed, alone])).toMatchObject({ inserted: 0, alreadyStored: 16 });
    expect(await cells(store())).toEqual(before);
    // Pruned a call at a time (carry rows of one call each, then added up), then a late call of the hour: the same cells.
    await store().pruneTrackedCalls({ before: new Date('2026-11-04T00:00:00Z'), batchSize: 1 });
    expect(await callCount(store())).toBe(0);
    expect(await cells(store())).toEqual(before);
    expect((await sink.readSpend?.(queries))?.map(Number)).toEqual([6.001, 5.5, 0.001, 0, 0.5]);
    // The carry alone gives the same cells back: it kept how many calls had no usage.
    const carried = await store().client.query<{ provider: string; model: string; labels: Record<string, string>; unpriced_calls: number; usage_unknown_calls: number; unpriced_reason: string | null }>(
      `SELECT provider, model, labels, unpriced_calls::int, usage_unknown_calls::int, unpriced_reason FROM "${store().schema}".tracked_cell_carry ORDER BY labels::text`,
    );
    expect(carried).toEqual([
      { provider: 'openai', model: 'gpt-test', labels: { tenant: 'acme' }, unpriced_calls: 0, usage_unknown_calls: 1, unpriced_reason: null },
      { provider: 'openai', model: 'gpt-test', labels: { tenant: 'globex' }, unpriced_calls: 1, usage_unknown_calls: 1, unpriced_reason: 'missing_rate:cache_read' },
      { provider: 'openai', model: 'gpt-test', labels: { tenant: 'initech' }, unpriced_calls: 0, usage_unknown_calls: 1, unpriced_reason: null },
      { provider: 'anthropic', model: 'claude-test', labels: { tenant: 'umbrella' }, unpriced_calls: 0, usage_unknown_calls: 1, unpriced_reason: null },
    ]);
    const tracked = (row: (typeof carried)[number]) => ({ source_system: 'billing-api', source_instance: 'host-1', bucket_start: HOUR.toISOString(), provider: row.provider, model: row.model, labels: row.labels });
    await store().client.transaction((tx) => recomputeTrackedCells(tx, storeTables(store().schema), carried.map(tracked)));
    expect(await cells(store())).toEqual(before);
  });

  it('keeps cells equal to their calls under concurrent writers', async () => {
    // PGlite is one connection (it serialises the writes); on PostgreSQL the second writer is a second pool.
    const url = process.env.UTT_TEST_DATABASE_URL;
    const second = store().client.kind === 'postgres' && url ? await openStore({ url, schema: store().schema, migrate: false }) : store();
    try {
      const batches = Array.from({ length: 12 }, (_, index) => Array.from({ length: 5 }, () => call({ inputTokens: index + 1, outputTokens: 1, costUsd: '0.000001' })));
      await Promise.all(batches.map((batch, index) => (index % 2 === 0 ? store() : second).writeTrackedCalls(batch)));
      const [cell] = await cells(store());
      expect(cell).toMatchObject({ requests: 60, input_tokens: 5 * ((12 * 13) / 2), output_tokens: 60 });
      expect(Number(cell?.cost_usd)).toBe(0.00006);
    } finally {
      if (second !== store()) await second.close();
    }
  });

  it('prunes old calls in batches while their cells and the budgets reading them keep their totals; a retried pruned call is refused, not counted twice', async () => {
    const old = Array.from({ length: 7 }, (_, index) => call({ inputTokens: index + 1, costUsd: `0.00${index + 1}`, responseId: `chatcmpl-${index}` }));
    const recent = call({ occurredAt: new Date('2026-11-04T10:00:00Z') });
    await store().writeTrackedCalls([...old, recent, call({ sourceSystem: 'other-app' })]);
    const sink = createTrackerSink(store());
    const day = { start: new Date('2026-11-03T00:00:00Z'), end: new Date('2026-11-04T00:00:00Z'), scope: { sourceSystem: 'billing-api' } };
    const before = await cells(store());
    const spendBefore = await sink.readSpend?.([day]);
    const pruned = await store().pruneTrackedCalls({ before: new Date('2026-11-04T00:00:00Z'), sourceSystem: 'billing-api', batchSize: 3 });
    expect(pruned).toEqual({ deleted: 7, batches: 3 });
    expect(await callCount(store())).toBe(2);
    expect(await cells(store())).toEqual(before);
    expect(await sink.readSpend?.([day])).toEqual(spendBefore);
    // The batch written again after the prune (a retry, a replay): its rows are gone, so only the horizon stops it.
    expect(await sink.write([...old, recent])).toEqual({ alreadyStored: 1, sameResponse: 0, refused: 7 });
    await expect(store().writeTrackedCalls([call({ inputTokens: 1 })])).resolves.toEqual({ inserted: 0, alreadyStored: 0, sameResponse: 0, refused: 1 });
    expect(await cells(store())).toEqual(before);
    expect(await sink.readSpend?.([day])).toEqual(spendBefore);
    // Another application's calls of that hour are not behind its horizon; a later hour is written as ever.
    await expect(store().writeTrackedCalls([call({ sourceSystem: 'other-app' }), call({ occurredAt: new Date('2026-11-04T11:00:00Z') })])).resolves.toEqual({ inserted: 2, alreadyStored: 0, sameResponse: 0, refused: 0 });
    // The horizon never moves back, and a prune with nothing left to delete changes nothing.
    await expect(store().pruneTrackedCalls({ before: new Date('2026-11-02T00:00:00Z'), sourceSystem: 'billing-api' })).resolves.toEqual({ deleted: 0, batches: 0 });
    await expect(store().writeTrackedCalls([call({ occurredAt: new Date('2026-11-03T23:30:00Z') })])).resolves.toMatchObject({ refused: 1 });
  });

  it('prunes every application when none is named, and records a horizon only for those whose calls it pruned', async () => {
    await store().writeTrackedCalls([call(), call({ inputTokens: 5, costUsd: '0.5' }), call({ sourceSystem: 'other-app', occurredAt: new Date('2026-11-03T12:00:00Z') })]);
    const before = await cells(store());
    await store().pruneTrackedCalls({ before: new Date('2026-11-03T11:00:00Z'), batchSize: 1 });
    expect(await callCount(store())).toBe(1);
    expect(await cells(store())).toEqual(before);
    const horizons = await store().client.query<{ source_system: string; pruned_before: Date }>(
      `SELECT source_system, pruned_before FROM "${store().schema}".tracked_call_horizon ORDER BY source_system`,
    );
    expect(horizons.map((row) => [row.source_system, new Date(row.pruned_before).toISOString()])).toEqual([['billing-api', '2026-11-03T11:00:00.000Z']]);
  });

  it('reports tracked spend by tag (a label dimension)', async () => {
    await store().writeTrackedCalls([call(), call({ labels: { tenant: 'globex' }, costUsd: '0.25' }), call({ labels: {}, costUsd: '1' })]);
    const rows = await store().report({ period: 'day', by: 'label', label: 'tenant' });
    expect(rows.map((row) => [row.key, row.label, row.costUsd, row.requests])).toEqual([
      ['', '', '1', 1],
      ['acme', 'acme', '0.001', 1],
      ['globex', 'globex', '0.25', 1],
    ]);
    await expect(store().report({ period: 'day', by: 'label' })).rejects.toThrow(/query\.label/);
  });

  it('reads spend for budgets over every source in scope, through the tracker sink', async () => {
    await store().writeTrackedCalls([call(), call({ labels: { tenant: 'globex' }, provider: 'anthropic', model: 'claude-test', costUsd: '0.25' })]);
    await store().writeSourceWindow({
      source: 'openai-admin',
      sourceSystem: 'openai',
      rows: [
        {
          source_system: 'openai', source_instance: '', granularity: 'day', bucket_start: new Date('2026-11-03T00:00:00Z'), provider: 'openai', model: 'gpt-test',
          account: '', api_key: '', user_id: '', labels: {}, input_tokens: 1, output_tokens: 1, cached_read_tokens: null, cached_write_tokens: null,
          cached_write_1h_tokens: null, reasoning_tokens: null, requests: 1, cost_usd: '2', cost_source: 'provider', measurement_basis: 'provider_aggregate',
        },
      ],
    });
    // A subscription's fee is spent; the usage it covers (priced at API rates) is not spent a second time.
    await store().writeSourceWindow({
      source: 'claude-max',
      sourceSystem: 'claude-code',
      rows: [
        {
          source_system: 'claude-code', source_instance: '', granularity: 'day', bucket_start: new Date('2026-11-03T00:00:00Z'), provider: 'anthropic', model: '',
          account: '', api_key: '', user_id: '', labels: { billing: 'subscription' }, input_tokens: null, output_tokens: null, cached_read_tokens: null,
          cached_write_tokens: null, cached_write_1h_tokens: null, reasoning_tokens: null, requests: null, cost_usd: '3', cost_source: 'fixed', measurement_basis: 'exact',
        },
        {
          source_system: 'claude-code', source_instance: '', granularity: 'day', bucket_start: new Date('2026-11-03T00:00:00Z'), provider: 'anthropic', model: 'claude-test',
          account: '', api_key: '', user_id: '', labels: { billing: 'subscription' }, input_tokens: 1000, output_tokens: 1000, cached_read_tokens: null,
          cached_write_tokens: null, cached_write_1h_tokens: null, reasoning_tokens: null, requests: 1, cost_usd: '40', cost_source: 'computed', measurement_basis: 'exact',
        },
      ],
    });
    const sink = createTrackerSink(store());
    const day = { start: new Date('2026-11-03T00:00:00Z'), end: new Date('2026-11-04T00:00:00Z') };
    const spend = await sink.readSpend?.([
      { ...day, scope: {} },
      { ...day, scope: { sourceSystem: 'billing-api' } },
      { ...day, scope: { provider: 'OpenAI' } },
      { ...day, scope: { labels: { tenant: 'globex' } } },
      { start: new Date('2026-11-04T00:00:00Z'), end: new Date('2026-11-05T00:00:00Z'), scope: {} },
      { ...day, scope: {}, flatFeesOnly: true },
    ]);
    expect(spend?.map(Number)).toEqual([5.251, 0.251, 2.001, 0.25, 0, 3]);
  });

  it("counts a model budget's snapshots: a request names gpt-test, the response (and so the cell) gpt-test-2026-01-15", async () => {
    await store().writeTrackedCalls([
      call({ model: 'gpt-test-2026-01-15', costUsd: '0.5' }),
      call({ model: 'gpt-test', costUsd: '0.25' }),
      call({ model: 'gpt-test-mini-2026-01-15', costUsd: '4' }),
      call({ model: 'gpt-test-2025-06-01', costUsd: '2' }),
      call({ provider: 'anthropic', model: 'claude-test-20260115', costUsd: '8', labels: { tenant: 'globex' } }),
    ]);
    const day = { start: new Date('2026-11-03T00:00:00Z'), end: new Date('2026-11-04T00:00:00Z') };
    const spend = await store().readSpend([
      { ...day, scope: { model: 'gpt-test' } },
      { ...day, scope: { model: 'gpt-test-2026-01-15' } },
      { ...day, scope: { model: 'gpt-test-mini' } },
      { ...day, scope: { model: 'claude-test' } },
      { ...day, scope: { model: 'gpt' } },
    ]);
    // gpt-test covers its snapshots (0.5 + 0.25 + 2), never gpt-test-mini's; a snapshot scope covers the alias too, not another snapshot.
    expect(spend.map(Number)).toEqual([2.75, 0.75, 4, 8, 0]);
    const tenants = await store().readLabelValues({ ...day, keys: ['tenant'], scope: { model: 'claude-test' } });
    expect(tenants).toEqual([{ tenant: 'globex' }]);
  });

  it('stores calls whose tags PostgreSQL could not take as they are (a NUL, a lone surrogate, a label value past the index limit), and budgets still find their spend', async () => {
    // Random text does not compress: 4,000 of its characters in a label make an index entry past B-tree's 2,704 bytes.
    const longTenant = randomBytes(3000).toString('base64');
    const batch = [
      call({ labels: { tenant: longTenant }, tags: { tenant: longTenant }, costUsd: '0.5' }),
      call({ labels: { tenant: 'nul\u0000byte' }, tags: { tenant: 'nul\u0000byte', 'key\u0000': 'x' }, threadId: 'thread\u0000', costUsd: '0.25' }),
      call({ labels: { tenant: 'half \ud83d pair' }, tags: { tenant: 'half \ud83d pair', note: 'cut \udc00 here, whole 😀' }, agentId: 'agent\ud800', costUsd: '0.125' }),
      call(),
    ];
    expect(await store().writeTrackedCalls(batch)).toEqual({ inserted: 4, alreadyStored: 0, sameResponse: 0, refused: 0 });
    // A retry of the same batch (the tracker's, after a lost answer) lands in the same cells and adds nothing.
    expect(await store().writeTrackedCalls(batch)).toEqual({ inserted: 0, alreadyStored: 4, sameResponse: 0, refused: 0 });
    const stored = await cells(store());
    expect(stored.map((cell) => [cell.requests, cell.cost_usd])).toEqual(expect.arrayContaining([[1, '0.5'], [1, '0.25'], [1, '0.125'], [1, '0.001']]));
    expect(stored).toHaveLength(4);
    const tenants = stored.map((cell) => cell.labels.tenant as string);
    expect(tenants).toContain('nul\ufffdbyte');
    expect(tenants).toContain('half \ufffd pair');
    // The long value is shortened in the cell, the same way every time (a prefix and a digest), and kept whole on its call.
    const shortened = tenants.find((tenant) => tenant.startsWith(longTenant.slice(0, 40))) as string;
    expect(Buffer.byteLength(shortened)).toBeLessThanOrEqual(200);
    const stalls = await store().client.query<{ tenant: string; thread_id: string | null; agent_id: string | null; note: string | null }>(
      `SELECT tags->>'tenant' AS tenant, thread_id, agent_id, tags->>'note' AS note FROM "${store().schema}".tracked_call WHERE cost_usd IN (0.5, 0.25, 0.125) ORDER BY cost_usd DESC`,
    );
    expect(stalls).toEqual([
      { tenant: longTenant, thread_id: null, agent_id: null, note: null },
      { tenant: 'nul\ufffdbyte', thread_id: 'thread\ufffd', agent_id: null, note: null },
      { tenant: 'half \ufffd pair', thread_id: null, agent_id: 'agent\ufffd', note: 'cut \ufffd here, whole 😀' },
    ]);
    const day = { start: new Date('2026-11-03T00:00:00Z'), end: new Date('2026-11-04T00:00:00Z') };
    // A budget scoped by the tag's value as the call carried it reads the shortened cell; the values a `*` budget lists read back the same.
    const spend = await store().readSpend([
      { ...day, scope: { labels: { tenant: longTenant } } },
      { ...day, scope: { labels: { tenant: shortened } } },
      { ...day, scope: { labels: { tenant: 'nul\u0000byte' } } },
      { ...day, scope: { labels: { tenant: 'half \ud83d pair' } } },
    ]);
    expect(spend.map(Number)).toEqual([0.5, 0.5, 0.25, 0.125]);
    const values = await store().readLabelValues({ ...day, keys: ['tenant'], scope: { labels: { tenant: longTenant } } });
    expect(values).toEqual([{ tenant: shortened }]);
  });

  it('splits the hours a local day cuts in a zone whose offset is not a whole hour by the calls\' own times, while they are stored (Kolkata, Kathmandu, Adelaide)', async () => {
    const at = (iso: string, costUsd: string | null, overrides: Partial<TrackedCallV1> = {}) =>
      call({ sourceSystem: 'in', occurredAt: new Date(iso), costUsd, ...(costUsd === null ? { priceRef: null, unpricedReason: 'no_price' } : {}), ...overrides });
    await store().writeTrackedCalls([
      at('2026-11-14T18:10:00Z', '1'), // Kolkata Nov 14, 23:40
      at('2026-11-14T18:45:00Z', '2'), // Nov 15, 00:15: the same UTC hour, the next local day
      at('2026-11-14T18:50:00Z', null), // no price: nothing to count, the cell's priced calls still count
      at('2026-11-14T19:10:00Z', '4'),
      at('2026-11-15T18:20:00Z', '8'), // Nov 15, 23:50
      at('2026-11-15T18:40:00Z', '16'), // Nov 16, 00:10
    ]);
    // Another source's hourly rows have no calls to split: they count by the hour they start in, as before.
    const gatewayHour = (bucketStart: string, costUsd: string) => ({
      source_system: 'gw', source_instance: '', granularity: 'hour' as const, bucket_start: new Date(bucketStart), provider: 'openai', model: 'gpt-test',
      account: '', api_key: '', user_id: '', labels: { tenant: 'acme' }, input_tokens: 1, output_tokens: 1, cached_read_tokens: null, cached_write_tokens: null,
      cached_write_1h_tokens: null, reasoning_tokens: null, requests: 1, cost_usd: costUsd, cost_source: 'provider' as const, measurement_basis: 'provider_aggregate' as const,
    });
    await store().writeSourceWindow({ source: 'gw', sourceSystem: 'gw', rows: [gatewayHour('2026-11-14T18:00:00Z', '100'), gatewayHour('2026-11-15T18:00:00Z', '200')] });
    const sink = createTrackerSink(store());
    const kolkataDay = { start: new Date('2026-11-14T18:30:00Z'), end: new Date('2026-11-15T18:30:00Z'), calendar: { period: 'day' as const, timeZone: 'Asia/Kolkata' } };
    const spend = async (queries: Parameters<UsageStore['readSpend']>[0]) => (await sink.readSpend?.(queries))?.map(Number);
    expect(await spend([
      { ...kolkataDay, scope: { sourceSystem: 'in' } },
      { ...kolkataDay, scope: {} },
      // Kolkata's November: from Oct 31, 18:30Z.
      { start: new Date('2026-10-31T18:30:00Z'), end: new Date('2026-11-30T18:30:00Z'), scope: { sourceSystem: 'in' }, calendar: { period: 'month', timeZone: 'Asia/Kolkata' } },
      // Kathmandu (UTC+05:45): Nov 15 is 18:15Z to 18:15Z (the 18:10Z call is its Nov 14, the 18:20Z one its Nov 16).
      { start: new Date('2026-11-14T18:15:00Z'), end: new Date('2026-11-15T18:15:00Z'), scope: { sourceSystem: 'in' }, calendar: { period: 'day', timeZone: 'Asia/Kathmandu' } },
      // Adelaide (UTC+10:30 in November): Nov 15 is 13:30Z to 13:30Z; Nov 16 has the 18:xx calls of the 15th.
      { start: new Date('2026-11-15T13:30:00Z'), end: new Date('2026-11-16T13:30:00Z'), scope: { sourceSystem: 'in' }, calendar: { period: 'day', timeZone: 'Australia/Adelaide' } },
    ])).toEqual([2 + 4 + 8, 2 + 4 + 8 + 200, 31, 2 + 4, 8 + 16]);
    // A tenant whose only spend is the day's first half hour has a line.
    await store().writeTrackedCalls([at('2026-11-14T18:35:00Z', '32', { labels: { tenant: 'initech' } }), at('2026-11-14T18:25:00Z', '64', { labels: { tenant: 'hooli' } })]);
    expect(await store().readLabelValues({ ...kolkataDay, keys: ['tenant'], scope: { sourceSystem: 'in' } })).toEqual([{ tenant: 'acme' }, { tenant: 'initech' }]);
    // Pruned calls leave a carry, not times: their hour counts by its start again (the approximation the README states).
    await store().pruneTrackedCalls({ before: new Date('2026-11-14T19:00:00Z'), sourceSystem: 'in' });
    expect(await spend([{ ...kolkataDay, scope: { sourceSystem: 'in' } }])).toEqual([4 + 8]);
  });
});

