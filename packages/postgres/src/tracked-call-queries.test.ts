import type { TrackedCallV1 } from '@utt/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { listTrackedCalls, trackedCallDimensionValues, trackedCallSummary, trackedTagBreakdown, trackedTagKeys, trackedTagValues } from './tracked-call-queries';
import { TEST_BACKENDS, useTestStore } from './test-support/test-backends';
import { trackedCallV1 } from './test-support/tracked-call';

const T0 = new Date('2026-11-03T10:00:00Z');
let sequence = 0;

function call(overrides: Partial<TrackedCallV1> = {}): TrackedCallV1 {
  sequence += 1;
  // Event ids in the order the calls were made: listings that tie on time fall back to them.
  return trackedCallV1({
    eventId: `00000000-0000-4000-8000-${String(sequence).padStart(12, '0')}`,
    sourceSystem: 'support-bot',
    occurredAt: T0,
    model: 'gpt-5',
    tags: { feature: 'chat', tenant: 'acme' },
    costUsd: '0.002',
    priceRef: 'override:openai/gpt-5',
    ...overrides,
  });
}

/**
 * 30 calls a minute apart, two of them at the very same instant (the keyset
 * must order them by event id), plus calls that exercise every filter.
 */
const CALLS: TrackedCallV1[] = [
  ...Array.from({ length: 30 }, (_, index) =>
    call({ occurredAt: new Date(T0.getTime() + index * 60_000), tags: { feature: index % 3 === 0 ? 'search' : 'chat', tenant: index % 2 === 0 ? 'acme' : 'globex' } }),
  ),
  call({ occurredAt: new Date(T0.getTime() + 29 * 60_000), tags: { feature: 'chat', tenant: 'acme' } }),
  call({ occurredAt: new Date(T0.getTime() + 45 * 60_000), tags: {}, costUsd: '0.5', inputTokens: 1000, outputTokens: 200 }),
  call({
    occurredAt: new Date(T0.getTime() + 50 * 60_000),
    provider: 'anthropic',
    model: 'claude-sonnet-4-5',
    streaming: true,
    usageOrigin: 'unknown',
    inputTokens: null,
    outputTokens: null,
    costUsd: null,
    priceRef: null,
    latencyMs: null,
    tags: { feature: 'summarise' },
  }),
  call({ occurredAt: new Date(T0.getTime() + 55 * 60_000), sourceSystem: 'billing-api', model: 'gpt-unpriced', costUsd: null, priceRef: null, unpricedReason: 'no_price', tags: { tenant: 'initech' } }),
  call({ occurredAt: new Date(T0.getTime() - 2 * 86_400_000), tags: { feature: 'chat' } }),
];

describe.each(TEST_BACKENDS)('tracked-call reads on $name', (backend) => {
  const store = useTestStore(backend);
  beforeAll(async () => {
    await store().writeTrackedCalls(CALLS);
  });
  const inRange = { since: T0, until: new Date(T0.getTime() + 3_600_000) };

  it('pages through calls newest first with a keyset cursor, every call exactly once', async () => {
    const seen: string[] = [];
    let before: string | undefined;
    let pages = 0;
    do {
      const page = await listTrackedCalls(store(), { ...inRange, limit: 7, before });
      expect(page.calls.length).toBeLessThanOrEqual(7);
      for (const row of page.calls) seen.push(row.eventId);
      before = page.nextCursor ?? undefined;
      pages += 1;
    } while (before !== undefined && pages < 20);
    const expected = CALLS.filter((item) => item.occurredAt >= inRange.since && item.occurredAt < inRange.until)
      .sort((a, b) => b.occurredAt.getTime() - a.occurredAt.getTime() || (a.eventId < b.eventId ? 1 : -1))
      .map((item) => item.eventId);
    expect(seen).toEqual(expected);
    expect(pages).toBe(Math.ceil(expected.length / 7));
  });

  it('returns the call as written: counters, null cost, tags, and a cursor that round-trips', async () => {
    const { calls } = await listTrackedCalls(store(), { ...inRange, usageOrigins: ['unknown'] });
    expect(calls).toHaveLength(1);
    expect(calls[0]).toMatchObject({ provider: 'anthropic', streaming: true, inputTokens: null, costUsd: null, latencyMs: null, tags: { feature: 'summarise' } });
    expect(calls[0]?.cursor).toMatch(/^2026-11-03T10:50:00\.000000Z_/);
    await expect(listTrackedCalls(store(), { before: 'nonsense' })).rejects.toThrow(/before/);
    await expect(listTrackedCalls(store(), { limit: 501 })).rejects.toThrow(/limit/);
  });

  it('filters by provider, model, application, tag and untagged', async () => {
    const ids = async (filter: Parameters<typeof listTrackedCalls>[1]) => (await listTrackedCalls(store(), { ...inRange, limit: 500, ...filter })).calls.length;
    expect(await ids({ providers: ['anthropic'] })).toBe(1);
    expect(await ids({ models: ['gpt-unpriced'] })).toBe(1);
    expect(await ids({ sourceSystems: ['billing-api'] })).toBe(1);
    expect(await ids({ tags: { feature: 'search' } })).toBe(10);
    expect(await ids({ tags: { feature: 'search', tenant: 'acme' } })).toBe(5);
    expect(await ids({ untaggedOnly: true })).toBe(1);
    expect(await ids({})).toBe(34);
    expect(await ids({ since: undefined })).toBe(35);
  });

  it('sums the calls: cost of priced calls only, unpriced counted apart, untagged and incomplete', async () => {
    const summary = await trackedCallSummary(store(), inRange);
    expect(summary).toEqual({
      calls: 34,
      tokens: 31 * 110 + 1200 + 110,
      costUsd: (31 * 0.002 + 0.5).toFixed(3),
      unpricedCalls: 1,
      untaggedCalls: 1,
      untaggedCostUsd: '0.5',
      incompleteCalls: 1,
      missingLatencyCalls: 1,
      streamingCalls: 1,
    });
    const empty = await trackedCallSummary(store(), { providers: ['nobody'] });
    expect(empty).toMatchObject({ calls: 0, tokens: 0, costUsd: null });
  });

  it('breaks calls down by tag key and by the values of one key, with the calls lacking it', async () => {
    const keys = await trackedTagKeys(store(), inRange);
    expect(keys.map((key) => [key.key, key.calls, key.values])).toEqual([
      ['feature', 32, 3],
      ['tenant', 32, 3],
    ]);
    const values = await trackedTagValues(store(), 'tenant', inRange);
    expect(values.map((value) => [value.value, value.calls, value.costUsd])).toEqual([
      ['acme', 16, '0.032'],
      ['globex', 15, '0.03'],
      ['initech', 1, null],
      [null, 2, '0.5'],
    ]);
    expect(values.reduce((sum, value) => sum + value.calls, 0)).toBe(34);
    expect(values[2]?.unpricedCalls).toBe(1);
    await expect(trackedTagValues(store(), '')).rejects.toThrow(/key/);
  });

  it('reads the Tags page in one statement: the same summary, keys and values, the costliest key by default', async () => {
    const breakdown = await trackedTagBreakdown(store(), inRange);
    expect(breakdown.summary).toEqual(await trackedCallSummary(store(), inRange));
    expect(breakdown.keys).toEqual(await trackedTagKeys(store(), inRange));
    // feature and tenant tie on cost and calls: the first by name.
    expect(breakdown.key).toBe('feature');
    // Against the calls themselves, counted here: calls per feature value, costliest first, the calls without one last.
    const { calls } = await listTrackedCalls(store(), { ...inRange, limit: 500 });
    const counted = new Map<string | null, { calls: number; cost: number }>();
    for (const call of calls) {
      const entry = counted.get(call.tags.feature ?? null) ?? { calls: 0, cost: 0 };
      counted.set(call.tags.feature ?? null, { calls: entry.calls + 1, cost: entry.cost + Number(call.costUsd ?? 0) });
    }
    const expected = [...counted].sort(([a, x], [b, y]) => Number(a === null) - Number(b === null) || y.cost - x.cost || y.calls - x.calls);
    expect(breakdown.values.map((value) => [value.value, value.calls])).toEqual(expected.map(([value, entry]) => [value, entry.calls]));
    expect(breakdown.values.at(-1)).toMatchObject({ value: null, calls: 2 });
    const tenant = await trackedTagBreakdown(store(), inRange, { key: 'tenant' });
    expect(tenant.key).toBe('tenant');
    expect(tenant.values).toEqual(await trackedTagValues(store(), 'tenant', inRange));
    // A key no call has: every call in the row of calls without it.
    expect((await trackedTagBreakdown(store(), inRange, { key: 'region' })).values).toEqual([expect.objectContaining({ value: null, calls: 34 })]);
    const none = await trackedTagBreakdown(store(), { providers: ['nobody'] });
    expect(none).toEqual({ summary: expect.objectContaining({ calls: 0, costUsd: null, untaggedCalls: 0 }), keys: [], key: '', values: [] });
    await expect(trackedTagBreakdown(store(), inRange, { key: '' })).rejects.toThrow(/options.key/);
  });

  it('lists the filter choices present in a range', async () => {
    expect(await trackedCallDimensionValues(store(), inRange)).toEqual({
      sourceSystems: ['billing-api', 'support-bot'],
      providers: ['anthropic', 'openai'],
      models: ['claude-sonnet-4-5', 'gpt-5', 'gpt-unpriced'],
      tagKeys: ['feature', 'tenant'],
    });
  });
});
