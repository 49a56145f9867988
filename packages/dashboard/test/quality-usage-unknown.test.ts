import type { TrackedCallV1 } from '@utt/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDashboardHandler, type DashboardHandler } from '../src/index';
import { USAGE_UNKNOWN_NOTE } from '../src/pages/quality-page';
import { openTestStore, TEST_BACKEND_NAMES, type TestStore } from './test-stores';

const NOW = new Date('2026-10-20T15:00:00Z');

function call(index: number, hour: string, overrides: Partial<TrackedCallV1>): TrackedCallV1 {
  return {
    specificationVersion: 'v1',
    eventId: `9c1e0000-0000-4000-8000-${String(index).padStart(12, '0')}`,
    sourceSystem: 'support-bot',
    sourceInstance: 'web-1',
    occurredAt: new Date(`2026-10-20T${hour}:10:00Z`),
    provider: 'anthropic',
    model: 'claude-haiku-4-5',
    operation: 'messages',
    inputTokens: 1000,
    outputTokens: 200,
    cachedReadTokens: null,
    cachedWriteTokens: null,
    cachedWrite1hTokens: null,
    reasoningTokens: null,
    webSearches: null,
    serviceTier: '',
    latencyMs: 500,
    streaming: true,
    responseId: null,
    threadId: null,
    agentId: null,
    tags: {},
    labels: {},
    usageOrigin: 'stream',
    costUsd: '0.002000',
    priceRef: 'override:anthropic/claude-haiku-4-5',
    unpricedReason: null,
    ...overrides,
  };
}

const CUT: Partial<TrackedCallV1> = { inputTokens: null, outputTokens: null, latencyMs: null, usageOrigin: 'unknown', costUsd: null, priceRef: null };

describe.each(TEST_BACKEND_NAMES)('the Data quality page on %s, for hours with calls whose usage never arrived', (backend) => {
  let testStore: TestStore;
  let handler: DashboardHandler;

  beforeAll(async () => {
    testStore = await openTestStore(backend);
    await testStore.store.writeTrackedCalls([
      // 10:00: a priced call and a stream cut before its usage: the hour lacks a cost for want of usage, not of a price.
      call(1, '10', {}),
      call(2, '10', CUT),
      // 11:00: a call of a model without a price: the hour lacks a price.
      call(3, '11', { model: 'claude-unreleased', costUsd: null, priceRef: null, unpricedReason: 'no_price' }),
    ]);
    handler = createDashboardHandler({ store: testStore.store, now: () => NOW });
  });
  afterAll(async () => {
    await testStore?.dispose();
  });

  it('does not send you to add a price for an hour that only lacks usage, and still does for one that lacks a price', async () => {
    const response = await handler(new Request('http://127.0.0.1:8787/quality?format=json&table=unpriced', { headers: { host: '127.0.0.1:8787' } }));
    const json = (await response.json()) as { tables: { rows: Record<string, string | number | null>[] }[] };
    const rows = json.tables[0]?.rows ?? [];
    expect(rows.map((row) => [row.model, row.reason, row.tokens])).toEqual([
      ['claude-haiku-4-5', 'calls_unpriced:1/2:usage_unknown', 1200],
      ['claude-unreleased', 'calls_unpriced:1/1:no_price', 1200],
    ]);
    expect(rows[0]?.explain).toBe(USAGE_UNKNOWN_NOTE);
    expect(rows[1]?.explain).not.toBe(USAGE_UNKNOWN_NOTE);
  });
});
