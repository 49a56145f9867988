import { beforeAll, describe, expect, it } from 'vitest';
import { StoreArgumentError } from './store-argument-error';
import { TEST_BACKENDS, useTestStore } from './test-support/test-backends';
import { usageRow } from './test-support/usage-rows';

const DAY_ONE = new Date('2025-03-01T00:00:00Z');
const DAY_TWO = new Date('2025-03-02T00:00:00Z');

describe.each(TEST_BACKENDS)('report on $name', (backend) => {
  const store = useTestStore(backend);

  beforeAll(async () => {
    await store().writeSourceWindow({
      source: 'gateway',
      sourceSystem: 'litellm',
      rows: [
        // Priced, with cache numbers.
        usageRow({
          source_system: 'litellm',
          bucket_start: new Date('2025-03-01T10:00:00Z'),
          provider: 'openai',
          model: 'gpt-4o',
          input_tokens: 3_000_000_000,
          output_tokens: 10,
          cached_read_tokens: 5,
          cost_usd: '0.000000000000000001',
          cost_source: 'computed',
        }),
        // Priced; cache unknown.
        usageRow({
          source_system: 'litellm',
          bucket_start: new Date('2025-03-01T11:00:00Z'),
          provider: 'openai',
          model: 'gpt-4o',
          input_tokens: 3_000_000_000,
          output_tokens: 20,
          cost_usd: '0.000000000000000002',
          cost_source: 'computed',
        }),
        // Tokens but no price: unpriced.
        usageRow({
          source_system: 'litellm',
          bucket_start: new Date('2025-03-01T12:00:00Z'),
          provider: 'ollama',
          model: 'llama3',
          input_tokens: 100,
          output_tokens: 50,
        }),
        usageRow({ source_system: 'litellm', bucket_start: new Date('2025-03-02T12:00:00Z'), provider: 'openai', model: 'gpt-4o', input_tokens: 1 }),
      ],
    });
    await store().writeSourceWindow({
      source: 'chatgpt-team',
      sourceSystem: 'subscription',
      rows: [
        usageRow({
          source_system: 'subscription',
          source_instance: 'team',
          granularity: 'month',
          bucket_start: new Date('2025-03-01T00:00:00Z'),
          provider: 'openai',
          model: 'chatgpt-team',
          cost_usd: '30.00',
          cost_source: 'fixed',
          measurement_basis: 'derived_estimate',
        }),
      ],
    });
  });

  it('sums per day and source, keeping unknown counters NULL and money exact', async () => {
    const rows = await store().report({ period: 'day', by: 'source' });
    expect(rows).toEqual([
      {
        periodStart: DAY_ONE,
        key: 'litellm',
        sourceSystem: 'litellm',
        sourceInstance: '',
        provider: null,
        model: null,
        label: null,
        inputTokens: 6_000_000_100,
        outputTokens: 80,
        cachedReadTokens: 5,
        cachedWriteTokens: null,
        cachedWrite1hTokens: null,
        reasoningTokens: null,
        requests: null,
        costUsd: '0.000000000000000003',
        flatFeeUsd: null,
        coveredUsd: null,
        unpricedRows: 1,
        unpricedTokens: 150,
        rowCount: 3,
      },
      {
        periodStart: DAY_ONE,
        key: 'subscription/team',
        sourceSystem: 'subscription',
        sourceInstance: 'team',
        provider: null,
        model: null,
        label: null,
        inputTokens: null,
        outputTokens: null,
        cachedReadTokens: null,
        cachedWriteTokens: null,
        cachedWrite1hTokens: null,
        reasoningTokens: null,
        requests: null,
        costUsd: '30',
        flatFeeUsd: '30',
        coveredUsd: null,
        unpricedRows: 0,
        unpricedTokens: 0,
        rowCount: 1,
      },
      expect.objectContaining({ periodStart: DAY_TWO, key: 'litellm', inputTokens: 1, costUsd: null, unpricedRows: 1, unpricedTokens: 1 }),
    ]);
  });

  it('groups by provider and by model', async () => {
    const byProvider = await store().report({ period: 'month', by: 'provider' });
    expect(byProvider.map((row) => [row.periodStart.toISOString(), row.key, row.provider, row.inputTokens, row.costUsd])).toEqual([
      ['2025-03-01T00:00:00.000Z', 'ollama', 'ollama', 100, null],
      ['2025-03-01T00:00:00.000Z', 'openai', 'openai', 6_000_000_001, '30.000000000000000003'],
    ]);
    const byModel = await store().report({ period: 'month', by: 'model' });
    expect(byModel.map((row) => [row.key, row.model, row.rowCount])).toEqual([
      ['chatgpt-team', 'chatgpt-team', 1],
      ['gpt-4o', 'gpt-4o', 3],
      ['llama3', 'llama3', 1],
    ]);
  });

  it('filters bucket_start on the half-open range [since, until)', async () => {
    const rows = await store().report({ period: 'day', by: 'provider', since: new Date('2025-03-01T11:00:00Z'), until: DAY_TWO });
    expect(rows.map((row) => [row.key, row.rowCount])).toEqual([
      ['ollama', 1],
      ['openai', 1],
    ]);
  });

  it('counts a flat fee once: the usage it covers is shown at its API-equivalent value, not added to the cost', async () => {
    const april = new Date('2025-04-01T00:00:00Z');
    await store().writeSourceWindow({
      source: 'plan',
      sourceSystem: 'subscription',
      rows: [usageRow({ source_system: 'subscription', granularity: 'month', bucket_start: april, provider: 'anthropic', model: '', cost_usd: '200', cost_source: 'fixed', measurement_basis: 'derived_estimate' })],
    });
    await store().writeSourceWindow({
      source: 'claude-code',
      sourceSystem: 'claude_code',
      rows: [
        usageRow({ source_system: 'claude_code', bucket_start: new Date('2025-04-01T09:00:00Z'), provider: 'anthropic', model: 'claude-sonnet-4-5', labels: { billing: 'subscription' }, input_tokens: 1000, cost_usd: '12.5', cost_source: 'computed' }),
        usageRow({ source_system: 'claude_code', bucket_start: new Date('2025-04-01T10:00:00Z'), provider: 'anthropic', model: 'claude-sonnet-4-5', labels: { billing: 'api' }, input_tokens: 10, cost_usd: '0.25', cost_source: 'computed' }),
      ],
    });
    for (const by of ['provider', 'label'] as const) {
      const rows = await store().report({ period: 'month', by, label: by === 'label' ? 'billing' : undefined, since: april });
      const total = (pick: (row: (typeof rows)[number]) => string | null) => rows.reduce((sum, row) => sum + Number(pick(row) ?? 0), 0);
      // Paid: the $200 fee and the $0.25 billed per token; the $12.50 of covered usage beside it.
      expect(total((row) => row.costUsd), by).toBe(200.25);
      expect(total((row) => row.flatFeeUsd), by).toBe(200);
      expect(total((row) => row.coveredUsd), by).toBe(12.5);
    }
    const byLabel = await store().report({ period: 'month', by: 'label', label: 'billing', since: april });
    // Priced usage that a plan covers costs $0 on top of the plan, not "unpriced".
    expect(byLabel.find((row) => row.key === 'subscription')).toMatchObject({ costUsd: '0', coveredUsd: '12.5', flatFeeUsd: null });
  });

  it('refuses an unknown period or grouping, naming the field', async () => {
    await expect(store().report({ period: 'week' as 'day', by: 'source' })).rejects.toThrow(StoreArgumentError);
    await expect(store().report({ period: 'day', by: 'team' as 'source' })).rejects.toThrow(/query\.by/);
    await expect(store().report({ period: 'day', by: 'source', since: DAY_TWO, until: DAY_ONE })).rejects.toThrow(/query\.until/);
  });
});
