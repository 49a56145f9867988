import { beforeEach, describe, expect, it } from 'vitest';
import { clearTables, TEST_BACKENDS, useTestStore } from './test-support/test-backends';
import { trackedCallV1 } from './test-support/tracked-call';
import { usageRow } from './test-support/usage-rows';
import type { UsageStore } from './usage-store';
import type { VerificationCheck, VerifySource } from './verify';

const SOURCES: VerifySource[] = [
  { name: 'copilot', sourceSystem: 'copilot', cacheTokens: 'none', enabled: true, paused: false },
  { name: 'gateway', sourceSystem: 'litellm', cacheTokens: 'read', enabled: true, paused: false },
  { name: 'anthropic', sourceSystem: 'anthropic_api', cacheTokens: 'read_write', enabled: true, paused: false },
  { name: 'cursor', sourceSystem: 'subscription', cacheTokens: 'none', enabled: true, paused: true },
  { name: 'old', sourceSystem: 'openai_api', cacheTokens: 'none', enabled: false, paused: false },
];

const NOW = new Date('2025-03-02T00:05:00Z');
const DAY = new Date('2025-03-01T00:00:00Z');

/** A database that passes every check. */
async function writeHealthyCycle(store: UsageStore): Promise<void> {
  const write = (source: string, sourceSystem: string, rows: ReturnType<typeof usageRow>[]) =>
    store.writeSourceWindow({
      source,
      sourceSystem,
      rows,
      watermark: { at: new Date('2025-03-02T00:00:00Z'), granularity: 'day' },
      status: { status: 'ok' },
      now: NOW,
    });
  await write('copilot', 'copilot', [usageRow({ source_system: 'copilot', granularity: 'day', bucket_start: DAY, input_tokens: 10 })]);
  await write('gateway', 'litellm', [
    usageRow({ source_system: 'litellm', granularity: 'day', bucket_start: DAY, input_tokens: 10, cached_read_tokens: 0 }),
  ]);
  await write('anthropic', 'anthropic_api', [
    usageRow({
      source_system: 'anthropic_api',
      granularity: 'day',
      bucket_start: DAY,
      input_tokens: 10,
      output_tokens: 5,
      reasoning_tokens: 5,
      cached_read_tokens: 0,
      cached_write_tokens: 4,
      cached_write_1h_tokens: 4,
      cost_usd: '0.01',
      cost_source: 'provider',
    }),
  ]);
  await store.recordSourceStatus({ source: 'cursor', sourceSystem: 'subscription', status: 'paused', now: NOW });
  await store.heartbeat(NOW);
}

function failing(checks: readonly VerificationCheck[]): VerificationCheck[] {
  return checks.filter((check) => !check.ok);
}

describe.each(TEST_BACKENDS)('verify on $name', (backend) => {
  const store = useTestStore(backend);
  beforeEach(async () => {
    await clearTables(store());
    await store().client.exec(['tracked_call', 'tracked_cell_carry', 'tracked_call_horizon'].map((table) => `DELETE FROM "${store().schema}".${table};`).join('\n'));
  });

  it('passes a healthy database and lists every check', async () => {
    await writeHealthyCycle(store());
    const checks = await store().verify({ sources: SOURCES });
    expect(failing(checks)).toEqual([]);
    expect(checks.map((check) => check.name)).toEqual([
      'rows:copilot',
      'rows:litellm',
      'rows:anthropic_api',
      'cache-null:copilot',
      'cache-null:litellm',
      'cache-null:subscription',
      'cache-null:openai_api',
      'cached-write-1h-within-cached-write',
      'reasoning-within-output',
      'no-negative-counters',
      'cost-with-cost-source',
      'watermarks-aligned',
      'tracked-cells-equal-calls',
      'status:copilot',
      'status:gateway',
      'status:anthropic',
      'status:cursor',
      'heartbeat',
    ]);
  });

  it('fails on an empty database: no rows, no status rows, no heartbeat', async () => {
    const names = failing(await store().verify({ sources: SOURCES })).map((check) => check.name);
    expect(names).toEqual([
      'rows:copilot',
      'rows:litellm',
      'rows:anthropic_api',
      'status:copilot',
      'status:gateway',
      'status:anthropic',
      'status:cursor',
      'heartbeat',
    ]);
  });

  it('catches cached_read_tokens = 0 from a source that reports no cache (invariant 2)', async () => {
    await writeHealthyCycle(store());
    await store().writeSourceWindow({
      source: 'copilot',
      sourceSystem: 'copilot',
      rows: [usageRow({ source_system: 'copilot', granularity: 'day', bucket_start: DAY, input_tokens: 10, cached_read_tokens: 0 })],
    });
    expect(failing(await store().verify({ sources: SOURCES }))).toEqual([
      {
        name: 'cache-null:copilot',
        ok: false,
        detail: 'copilot reports no cache data, so these must be NULL, not 0: 1 rows set cached_read_tokens (1 of them to 0)',
      },
    ]);
  });

  it('catches cache writes from a source that reports cache reads only', async () => {
    await writeHealthyCycle(store());
    await store().writeSourceWindow({
      source: 'gateway',
      sourceSystem: 'litellm',
      rows: [usageRow({ source_system: 'litellm', granularity: 'day', bucket_start: DAY, cached_read_tokens: 3, cached_write_tokens: 0 })],
    });
    expect(failing(await store().verify({ sources: SOURCES })).map((check) => check.name)).toEqual(['cache-null:litellm']);
  });

  it('catches rows that break the counter and cost rules', async () => {
    await writeHealthyCycle(store());
    await store().writeSourceWindow({
      source: 'anthropic',
      sourceSystem: 'anthropic_api',
      rows: [
        usageRow({ source_system: 'anthropic_api', granularity: 'day', bucket_start: DAY, model: 'a', cached_write_tokens: 1, cached_write_1h_tokens: 2 }),
        usageRow({ source_system: 'anthropic_api', granularity: 'day', bucket_start: DAY, model: 'b', output_tokens: 1, reasoning_tokens: 2 }),
        usageRow({ source_system: 'anthropic_api', granularity: 'day', bucket_start: DAY, model: 'c', cost_usd: '1' }),
      ],
    });
    expect(failing(await store().verify({ sources: SOURCES }))).toEqual([
      { name: 'cached-write-1h-within-cached-write', ok: false, detail: '1 rows with cached_write_1h_tokens > cached_write_tokens' },
      { name: 'reasoning-within-output', ok: false, detail: '1 rows with reasoning_tokens > output_tokens' },
      { name: 'cost-with-cost-source', ok: false, detail: '1 rows where exactly one of cost_usd and cost_source is set' },
    ]);
  });

  it('catches a watermark off its bucket boundary', async () => {
    await writeHealthyCycle(store());
    // Only a hand edit or an older writer can leave one; the store refuses to.
    await store().client.query(`UPDATE "${store().schema}".rollup_watermark SET watermark = $1 WHERE source = 'gateway'`, [
      new Date('2025-03-02T00:30:00Z'),
    ]);
    expect(failing(await store().verify({ sources: SOURCES }))).toEqual([
      {
        name: 'watermarks-aligned',
        ok: false,
        detail: 'not on a UTC boundary of their granularity: gateway (day, 2025-03-02T00:30:00.000Z)',
      },
    ]);
  });

  /** A tracked ledger of every kind of cell: priced, unpriced, usage unknown, cache buckets at 0 and NULL, two hours. */
  async function writeTrackedLedger(): Promise<void> {
    const at = (iso: string) => new Date(iso);
    const calls = [
      trackedCallV1({ labels: { tenant: 'acme' }, cachedReadTokens: 0, cachedWriteTokens: 40, cachedWrite1hTokens: 10 }),
      trackedCallV1({ labels: { tenant: 'acme' }, inputTokens: 7, costUsd: '0.0070' }),
      trackedCallV1({ labels: { tenant: 'globex' }, costUsd: null, priceRef: null, unpricedReason: 'no_price' }),
      trackedCallV1({ labels: { tenant: 'globex' }, usageOrigin: 'unknown', inputTokens: null, outputTokens: null, costUsd: null, priceRef: null, unpricedReason: 'usage_unknown' }),
      trackedCallV1({ occurredAt: at('2026-11-03T11:59:59.999Z'), reasoningTokens: 4, responseId: 'chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT' }),
      trackedCallV1({ occurredAt: at('2026-11-04T09:00:00Z'), sourceSystem: 'other-app', model: '' }),
    ];
    await store().writeTrackedCalls(calls);
    // Retried, and one response recorded again under another event id.
    await store().writeTrackedCalls(calls);
    await store().writeTrackedCalls([trackedCallV1({ occurredAt: at('2026-11-03T11:59:59.999Z'), reasoningTokens: 4, responseId: 'chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT' })]);
  }

  it('passes a tracked ledger whose cells are their calls, after writes, retries, a reprice and a prune', async () => {
    await writeHealthyCycle(store());
    await writeTrackedLedger();
    const trackedCheck = async () => (await store().verify({ sources: SOURCES })).find((check) => check.name === 'tracked-cells-equal-calls');
    expect(await trackedCheck()).toMatchObject({ ok: true });
    // Repriced: the globex call gets a price, the acme one loses its.
    const ids = await store().client.query<{ event_id: string; labels: Record<string, string>; cost_usd: string | null }>(
      `SELECT event_id, labels, cost_usd::text FROM "${store().schema}".tracked_call WHERE source_system = 'billing-api' AND bucket_start = '2026-11-03T10:00:00Z'`,
    );
    await store().setTrackedCallCosts(
      ids.map((row) =>
        row.labels.tenant === 'globex' && row.cost_usd === null
          ? { eventId: row.event_id, costUsd: '0.25', priceRef: 'config:x', unpricedReason: null }
          : row.cost_usd === '0.0070'
            ? { eventId: row.event_id, costUsd: null, priceRef: null, unpricedReason: 'no_price' }
            : { eventId: row.event_id, costUsd: row.cost_usd, priceRef: row.cost_usd === null ? null : 'config:x', unpricedReason: row.cost_usd === null ? 'usage_unknown' : null },
      ),
    );
    expect(await trackedCheck()).toMatchObject({ ok: true });
    // Pruned a call at a time (the 10:00 hour, and billing-api's 11:00 one): carry + remaining calls still equal the cells.
    await store().pruneTrackedCalls({ before: new Date('2026-11-03T11:00:00Z'), batchSize: 1 });
    expect(await trackedCheck()).toMatchObject({ ok: true });
    await store().pruneTrackedCalls({ before: new Date('2026-11-05T00:00:00Z'), sourceSystem: 'billing-api', batchSize: 2 });
    expect(await trackedCheck()).toMatchObject({ ok: true });
    const [{ calls } = { calls: -1 }] = await store().client.query<{ calls: number }>(`SELECT COUNT(*)::int AS calls FROM "${store().schema}".tracked_call`);
    expect(calls).toBe(1);
  });

  it('reports a tracked cell changed by hand: the cell, what its calls give and what it holds, NULL told from 0', async () => {
    await writeHealthyCycle(store());
    await writeTrackedLedger();
    await store().pruneTrackedCalls({ before: new Date('2026-11-03T11:00:00Z'), sourceSystem: 'billing-api', batchSize: 1 });
    const schema = `"${store().schema}"`;
    await store().client.exec(`
      UPDATE ${schema}.token_usage SET input_tokens = input_tokens + 1, cached_read_tokens = NULL, cost_usd = 0.5
        WHERE source_system = 'billing-api' AND labels = '{"tenant":"acme"}';
      UPDATE ${schema}.token_usage SET reasoning_tokens = 0, requests = 3
        WHERE source_system = 'billing-api' AND bucket_start = '2026-11-03T11:00:00Z';
      UPDATE ${schema}.token_usage SET unpriced_reason = 'calls_unpriced:1/2:no_price'
        WHERE source_system = 'billing-api' AND labels = '{"tenant":"globex"}';
      DELETE FROM ${schema}.token_usage WHERE source_system = 'other-app';
      INSERT INTO ${schema}.token_usage (source_system, source_instance, granularity, bucket_start, provider, model, input_tokens, requests, measurement_basis)
        VALUES ('billing-api', 'host-2', 'hour', '2026-11-03T12:00:00Z', 'openai', 'gpt-test', 5, 1, 'exact');
    `);
    const [check, ...others] = failing(await store().verify({ sources: SOURCES }));
    expect(others).toEqual([]);
    expect(check?.name).toBe('tracked-cells-equal-calls');
    expect(check?.detail).toBe(
      "5 hourly cells of tracked applications are not the sum of their calls and pruned calls' carry: " +
        'billing-api/host-1 2026-11-03T10:00:00.000Z openai/gpt-test {tenant=acme}: input_tokens expected 107, stored 108, cached_read_tokens expected 0, stored NULL, cost_usd expected 0.0080, stored 0.5; ' +
        'billing-api/host-1 2026-11-03T10:00:00.000Z openai/gpt-test {tenant=globex}: unpriced_reason expected calls_unpriced:2/2:usage_unknown:1;no_price, stored calls_unpriced:1/2:no_price; ' +
        'billing-api/host-1 2026-11-03T11:00:00.000Z openai/gpt-test: reasoning_tokens expected 4, stored 0, requests expected 1, stored 3; ' +
        "billing-api/host-2 2026-11-03T12:00:00.000Z openai/gpt-test: a cell without calls or a carry (stored input_tokens 5, requests 1); " +
        "other-app/host-1 2026-11-04T09:00:00.000Z openai/'': no cell for its calls",
    );
  });
});
