import { randomUUID } from 'node:crypto';
import { ConfigValidationError, type TrackedCallV1 } from '@utt/core';
import { describe, expect, it } from 'vitest';
import { openTestStore, STORE_BACKENDS } from '../test-support/test-store';
import { readBudgetStatus } from './budget-status';

function trackedCall(overrides: { tenant: string; costUsd: string; provider?: string; occurredAt?: Date; sourceSystem?: string }): TrackedCallV1 {
  return {
    specificationVersion: 'v1',
    eventId: randomUUID(),
    sourceSystem: overrides.sourceSystem ?? 'billing-api',
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

// A fresh migrated PGlite takes a while on a loaded machine.
describe.each(STORE_BACKENDS)('readBudgetStatus on $name', { timeout: 90_000 }, (backend) => {
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

  it('forecasts flat fees as paid and extrapolates only the rest of the spend', async () => {
    const { store, dispose } = await openTestStore(backend);
    try {
      await store.writeTrackedCalls([trackedCall({ tenant: 'acme', costUsd: '2', occurredAt: new Date('2026-11-02T09:30:00Z') })]);
      // A seat fee paid on the 1st: spend of the month, not a daily rate.
      await store.writeSourceWindow({
        source: 'seats',
        sourceSystem: 'seats',
        rows: [
          {
            source_system: 'seats', source_instance: '', granularity: 'day', bucket_start: new Date('2026-11-01T00:00:00Z'), provider: 'openai', model: '',
            account: '', api_key: '', user_id: '', labels: { billing: 'subscription' }, input_tokens: null, output_tokens: null, cached_read_tokens: null,
            cached_write_tokens: null, cached_write_1h_tokens: null, reasoning_tokens: null, requests: null, cost_usd: '30', cost_source: 'fixed', measurement_basis: 'exact',
          },
        ],
      });
      // Three of November's 30 days gone: $2 of usage runs at $20 a month.
      const [line] = await readBudgetStatus(store, [{ name: 'org-monthly', period: 'month', limitUsd: 60 }], { now: new Date('2026-11-04T00:00:00Z') });
      expect(line?.spentUsd).toBe(32);
      expect(line?.forecastUsd).toBeCloseTo(50, 9);
      // Extrapolating the fee too would read $320 and "forecast over".
      expect(line?.state).toBe('ok');
    } finally {
      await dispose();
    }
  });

  it('does not extrapolate a few minutes into the period: the forecast is the spend so far until a tenth of the period has passed', async () => {
    const { store, dispose } = await openTestStore(backend);
    try {
      await store.writeTrackedCalls([trackedCall({ tenant: 'acme', costUsd: '1', occurredAt: new Date('2026-11-15T00:02:00Z') })]);
      const budgets = [
        { name: 'daily', period: 'day' as const, limitUsd: 10 },
        { name: 'monthly', period: 'month' as const, limitUsd: 100 },
      ];
      // Five minutes into the day: a straight line would read $288 and "forecast over".
      const early = await readBudgetStatus(store, budgets, { now: new Date('2026-11-15T00:05:00Z') });
      expect(early.map((line) => [line.budget, line.spentUsd, line.forecastUsd, line.forecastBasis, line.forecastFrom, line.state])).toEqual([
        ['daily', 1, 1, 'too_early', '2026-11-15T02:24:00.000Z', 'ok'],
        ['monthly', 1, early[1]?.forecastUsd, 'linear', '2026-11-04T00:00:00.000Z', 'ok'],
      ]);
      // Two weeks in, the month is extrapolated: 30 days ÷ (14 days 5 min).
      expect(early[1]?.forecastUsd).toBeCloseTo(43_200 / 20_165, 9);
      // From 02:24 the day's spend is extrapolated: $1 in 2.4 h is $10 a day; a cent more is over.
      const atTenth = await readBudgetStatus(store, budgets.slice(0, 1), { now: new Date('2026-11-15T02:24:00Z') });
      expect(atTenth.map((line) => [line.forecastBasis, line.state])).toEqual([['linear', 'ok']]);
      expect(atTenth[0]?.forecastUsd).toBeCloseTo(10, 9);
      await store.writeTrackedCalls([trackedCall({ tenant: 'acme', costUsd: '0.01', occurredAt: new Date('2026-11-15T00:03:00Z') })]);
      expect((await readBudgetStatus(store, budgets.slice(0, 1), { now: new Date('2026-11-15T02:24:00Z') }))[0]?.state).toBe('forecast over');
      // Early spend past the limit is OVER whatever the forecast.
      await store.writeTrackedCalls([trackedCall({ tenant: 'acme', costUsd: '20', occurredAt: new Date('2026-11-15T00:04:00Z') })]);
      const over = await readBudgetStatus(store, budgets.slice(0, 1), { now: new Date('2026-11-15T00:05:00Z') });
      expect(over.map((line) => [line.forecastUsd, line.forecastBasis, line.state])).toEqual([[21.01, 'too_early', 'OVER']]);
    } finally {
      await dispose();
    }
  });
});

/** A provider's own row (a UTC day or month bucket), as an admin-API collector writes it. */
function providerRow(sourceSystem: string, granularity: 'day' | 'month', bucketStart: string, costUsd: string) {
  return {
    source_system: sourceSystem, source_instance: '', granularity, bucket_start: new Date(bucketStart), provider: 'openai', model: 'gpt-4o',
    account: '', api_key: '', user_id: '', labels: {}, input_tokens: 10, output_tokens: 10, cached_read_tokens: null, cached_write_tokens: null,
    cached_write_1h_tokens: null, reasoning_tokens: null, requests: 1, cost_usd: costUsd, cost_source: 'provider' as const, measurement_basis: 'provider_aggregate' as const,
  };
}

describe.each(STORE_BACKENDS)('budget periods in a reporting time zone on $name', { timeout: 90_000 }, (backend) => {
  it('counts hourly cells by their local hour, and UTC day and month rows by their calendar date (America/Los_Angeles, Asia/Kolkata)', async () => {
    const { store, dispose } = await openTestStore(backend);
    try {
      // Los Angeles (UTC−8 in November): local Nov 15 is 08:00Z on the 15th to 08:00Z on the 16th.
      await store.writeTrackedCalls([
        trackedCall({ sourceSystem: 'la', tenant: 'a', costUsd: '1', occurredAt: new Date('2026-11-15T07:30:00Z') }), // local Nov 14, 23:30
        trackedCall({ sourceSystem: 'la', tenant: 'a', costUsd: '2', occurredAt: new Date('2026-11-15T09:30:00Z') }), // local Nov 15, 01:30
        trackedCall({ sourceSystem: 'la', tenant: 'a', costUsd: '4', occurredAt: new Date('2026-11-16T07:30:00Z') }), // local Nov 15, 23:30
      ]);
      await store.writeSourceWindow({
        source: 'la-admin',
        sourceSystem: 'la',
        rows: [
          // Named Nov 15 by the provider: local Nov 15, though it starts at local Nov 14, 16:00.
          providerRow('la', 'day', '2026-11-15T00:00:00Z', '20'),
          // Named Nov 16: not local Nov 15, though it starts at local Nov 15, 16:00.
          providerRow('la', 'day', '2026-11-16T00:00:00Z', '40'),
          providerRow('la', 'day', '2026-11-30T00:00:00Z', '8'),
          // Named Dec 1 (starts at local Nov 30, 16:00) and Oct 31: not November.
          providerRow('la', 'day', '2026-12-01T00:00:00Z', '16'),
          providerRow('la', 'day', '2026-10-31T00:00:00Z', '500'),
        ],
      });
      await store.writeSourceWindow({
        source: 'la-billing',
        sourceSystem: 'la',
        rows: [providerRow('la', 'month', '2026-11-01T00:00:00Z', '100'), providerRow('la', 'month', '2026-10-01T00:00:00Z', '1000')],
      });
      const la = await readBudgetStatus(
        store,
        [
          { name: 'day', period: 'day', limitUsd: 1000, scope: { source: 'la' } },
          { name: 'month', period: 'month', limitUsd: 1000, scope: { source: 'la' } },
        ],
        { now: new Date('2026-11-15T20:00:00Z'), timeZone: 'America/Los_Angeles' },
      );
      expect(la.map((line) => [line.budget, line.periodStart, line.spentUsd])).toEqual([
        // $2 + $4 of the local day's hours + the Nov 15 row; the November month row never counts toward a day.
        ['day', '2026-11-15T08:00:00.000Z', 26],
        // Hours $1 + $2 + $4, days Nov 15, 16 and 30 ($68), the November month row ($100).
        ['month', '2026-11-01T07:00:00.000Z', 175],
      ]);

      // Kolkata (UTC+05:30): local Nov 15 is 18:30Z on the 14th to 18:30Z on the 15th; the tracked hour that
      // straddles local midnight is split by its calls' times (18:45Z is local 00:15).
      await store.writeTrackedCalls([
        trackedCall({ sourceSystem: 'in', tenant: 'a', costUsd: '1', occurredAt: new Date('2026-11-14T18:45:00Z') }), // cell 18:00Z (local 23:30), call local Nov 15, 00:15
        trackedCall({ sourceSystem: 'in', tenant: 'a', costUsd: '8', occurredAt: new Date('2026-11-14T18:15:00Z') }), // the same cell, local Nov 14, 23:45
        trackedCall({ sourceSystem: 'in', tenant: 'a', costUsd: '2', occurredAt: new Date('2026-11-14T19:10:00Z') }), // cell 19:00Z = local Nov 15, 00:30
      ]);
      await store.writeSourceWindow({
        source: 'in-admin',
        sourceSystem: 'in',
        rows: [providerRow('in', 'day', '2026-11-14T00:00:00Z', '40'), providerRow('in', 'day', '2026-11-15T00:00:00Z', '20')],
      });
      const kolkata = await readBudgetStatus(store, [{ name: 'day', period: 'day', limitUsd: 1000, scope: { source: 'in' } }], {
        now: new Date('2026-11-15T12:00:00Z'),
        timeZone: 'Asia/Kolkata',
      });
      // $1 + $2 of the calls, $20 of the provider's Nov 15 row; not the $8 of local Nov 14 (the 18:00Z cell counted by its start, on Nov 14, read $22).
      expect(kolkata.map((line) => [line.budget, line.periodStart, line.spentUsd])).toEqual([['day', '2026-11-14T18:30:00.000Z', 23]]);

      // Beirut skips midnight on 2026-03-29 (00:00 → 01:00): that day is the provider's Mar 29 row and nothing of the 28th.
      await store.writeSourceWindow({
        source: 'lb-admin',
        sourceSystem: 'lb',
        rows: [providerRow('lb', 'day', '2026-03-28T00:00:00Z', '40'), providerRow('lb', 'day', '2026-03-29T00:00:00Z', '2')],
      });
      const beirut = await readBudgetStatus(store, [{ name: 'day', period: 'day', limitUsd: 1000, scope: { source: 'lb' } }], {
        now: new Date('2026-03-29T12:00:00Z'),
        timeZone: 'Asia/Beirut',
      });
      expect(beirut.map((line) => [line.budget, line.periodStart, line.spentUsd])).toEqual([['day', '2026-03-28T22:00:00.000Z', 2]]);
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
