import { randomUUID } from 'node:crypto';
import { ConfigValidationError, type TrackedCallV1 } from '@utt/core';
import { describe, expect, it } from 'vitest';
import { openTestStore, STORE_BACKENDS } from '../test-support/test-store';
import { readBudgetStatus } from './budget-status';

function trackedCall(overrides: { tenant: string; costUsd: string; provider?: string; occurredAt?: Date }): TrackedCallV1 {
  return {
    specificationVersion: 'v1',
    eventId: randomUUID(),
    sourceSystem: 'billing-api',
    sourceInstance: 'web-1',
    occurredAt: overrides.occurredAt ?? new Date('2026-11-15T09:30:00Z'),
    provider: overrides.provider ?? 'openai',
    model: 'gpt-4o-mini',
    operation: 'chat.completions',
    inputTokens: 1000,
    outputTokens: 100,
    cachedReadTokens: 0,
    cachedWriteTokens: null,
    cachedWrite1hTokens: null,
    reasoningTokens: 0,
    webSearches: null,
    serviceTier: '',
    latencyMs: 200,
    streaming: false,
    responseId: null,
    threadId: null,
    agentId: null,
    tags: { tenant: overrides.tenant },
    labels: { tenant: overrides.tenant },
    usageOrigin: 'response',
    costUsd: overrides.costUsd,
    priceRef: 'test',
    unpricedReason: null,
  };
}

describe.each(STORE_BACKENDS)('readBudgetStatus on $name', (backend) => {
  it('totals each day and month budget over every source, one line per tag value seen within the scope', async () => {
    const { store, dispose } = await openTestStore(backend);
    try {
      await store.writeTrackedCalls([
        trackedCall({ tenant: 'acme', costUsd: '3' }),
        trackedCall({ tenant: 'acme', costUsd: '2' }),
        trackedCall({ tenant: 'globex', costUsd: '1' }),
        // Only on Anthropic: no line under an OpenAI-scoped tenant budget.
        trackedCall({ tenant: 'initech', costUsd: '0.5', provider: 'anthropic' }),
        // Last month.
        trackedCall({ tenant: 'acme', costUsd: '50', occurredAt: new Date('2026-10-31T10:00:00Z') }),
      ]);
      await store.writeSourceWindow({
        source: 'openai-admin',
        sourceSystem: 'openai',
        rows: [
          {
            source_system: 'openai', source_instance: '', granularity: 'day', bucket_start: new Date('2026-11-14T00:00:00Z'), provider: 'openai', model: 'gpt-4o',
            account: '', api_key: '', user_id: '', labels: {}, input_tokens: 10, output_tokens: 10, cached_read_tokens: null, cached_write_tokens: null,
            cached_write_1h_tokens: null, reasoning_tokens: null, requests: 1, cost_usd: '20', cost_source: 'provider', measurement_basis: 'provider_aggregate',
          },
        ],
      });
      const status = await readBudgetStatus(
        store,
        [
          { name: 'org-monthly', period: 'month', limitUsd: 100, softThreshold: 0.2 },
          { name: 'app-daily', period: 'day', limitUsd: 10, scope: { source: 'billing-api' } },
          { name: 'tenant-daily', period: 'day', limitUsd: 4, scope: { provider: 'openai', tags: { tenant: '*' } } },
          { name: 'per-call', period: 'call', limitUsd: 0.5, behavior: 'block' },
        ],
        { now: new Date('2026-11-15T12:00:00Z') },
      );
      expect(status.map((line) => [line.budget, line.scopeValues, line.spentUsd, line.crossed, line.state])).toEqual([
        ['org-monthly', {}, 26.5, 'soft', 'soft'],
        ['app-daily', {}, 6.5, null, 'forecast over'],
        ['tenant-daily', { tenant: 'acme' }, 5, 'limit', 'OVER'],
        ['tenant-daily', { tenant: 'globex' }, 1, null, 'ok'],
      ]);
      const appDaily = status[1];
      expect(appDaily?.periodStart).toBe('2026-11-15T00:00:00.000Z');
      expect(appDaily?.periodEnd).toBe('2026-11-16T00:00:00.000Z');
      expect(appDaily?.percent).toBeCloseTo(65, 9);
      // Half the day gone: the forecast doubles the spend.
      expect(appDaily?.forecastUsd).toBeCloseTo(13, 9);

      const berlin = await readBudgetStatus(store, [{ period: 'month', limitUsd: 1000 }], { now: new Date('2026-11-15T12:00:00Z'), timeZone: 'Europe/Berlin' });
      expect(berlin.map((line) => [line.budget, line.periodStart, line.state])).toEqual([['month', '2026-10-31T23:00:00.000Z', 'ok']]);
    } finally {
      await dispose();
    }
  });
});

describe('readBudgetStatus input', () => {
  const ledger = { readSpend: async () => ['0'], readLabelValues: async () => [] };
  it('names the budget field and the time zone that are wrong', async () => {
    await expect(readBudgetStatus(ledger, [{ period: 'week' as 'day', limitUsd: 5 }])).rejects.toThrow(/budgets\[0\]\.period/);
    await expect(readBudgetStatus(ledger, [{ period: 'day', limitUsd: 5 }], { timeZone: 'Mars/Olympus' })).rejects.toBeInstanceOf(ConfigValidationError);
  });
});
