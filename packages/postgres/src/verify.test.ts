import { beforeEach, describe, expect, it } from 'vitest';
import { clearTables, TEST_BACKENDS, useTestStore } from './test-support/test-backends';
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
  beforeEach(() => clearTables(store()));

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
});
