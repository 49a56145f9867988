import { beforeAll, describe, expect, it } from 'vitest';
import { StoreArgumentError } from './store-argument-error';
import { TEST_BACKENDS, useTestStore } from './test-support/test-backends';
import { usageRow } from './test-support/usage-rows';
import { usageBreakdown } from './usage-breakdown';
import { pricingCoverage, unpricedModels, usageDimensionValues } from './usage-quality';

describe.each(TEST_BACKENDS)('usage breakdown on $name', (backend) => {
  const store = useTestStore(backend);

  beforeAll(async () => {
    await store().writeSourceWindow({
      source: 'gateway',
      sourceSystem: 'litellm',
      rows: [
        // 23:30 UTC on 1 March is 2 March in Berlin.
        usageRow({ source_system: 'litellm', bucket_start: new Date('2025-03-01T23:00:00Z'), provider: 'openai', model: 'gpt-4o', user_id: 'alice', input_tokens: 100, output_tokens: 10, cached_read_tokens: 50, cost_usd: '0.10', cost_source: 'computed', price_ref: 'genai-prices@1:openai/gpt-4o@2025-01-01' }),
        usageRow({ source_system: 'litellm', bucket_start: new Date('2025-03-01T10:00:00Z'), provider: 'openai', model: 'gpt-4o', user_id: 'bob', input_tokens: 200, output_tokens: 20, cost_usd: '0.20', cost_source: 'computed', price_ref: 'override:openai/gpt-4o' }),
        // Unpriced: counted beside the money, never as $0.
        usageRow({ source_system: 'litellm', bucket_start: new Date('2025-03-01T10:00:00Z'), provider: 'mistral', model: 'mystery', input_tokens: 7, output_tokens: 3, unpriced_reason: 'no price for mistral/mystery' }),
      ],
      status: { status: 'ok' },
      now: new Date('2025-03-03T00:00:00Z'),
    });
    await store().writeSourceWindow({
      source: 'subscriptions',
      sourceSystem: 'subscription',
      rows: [
        usageRow({ source_system: 'subscription', granularity: 'month', bucket_start: new Date('2025-03-01T00:00:00Z'), provider: 'anthropic', model: '', labels: { subscription: 'team' }, cost_usd: '100', cost_source: 'fixed', measurement_basis: 'derived_estimate' }),
      ],
      status: { status: 'ok' },
      now: new Date('2025-03-03T00:00:00Z'),
    });
    await store().writeSourceWindow({
      source: 'claude-code',
      sourceSystem: 'claude_code',
      rows: [
        usageRow({ source_system: 'claude_code', source_instance: 'alice@laptop', bucket_start: new Date('2025-03-02T09:00:00Z'), provider: 'anthropic', model: 'claude-sonnet-4-5', labels: { billing: 'subscription', project: 'utt' }, input_tokens: 1000, output_tokens: 100, cost_usd: '3.5', cost_source: 'computed' }),
      ],
      status: { status: 'ok' },
      now: new Date('2025-03-03T00:00:00Z'),
    });
  });

  it('keeps flat fees, the usage they cover and metered usage apart', async () => {
    const [row] = await usageBreakdown(store(), { by: [] });
    expect(row).toMatchObject({
      period: null,
      groups: [],
      inputTokens: 1307,
      cachedReadTokens: 50,
      cachedWriteTokens: null,
      // Only the first row reports cache reads: 100 input + 50 read.
      cacheReportingInputTokens: 150,
      meteredUsd: '0.3',
      flatFeeUsd: '100',
      coveredUsd: '3.5',
      spendUsd: '100.3',
      unpricedRows: 1,
      unpricedTokens: 10,
      rowCount: 5,
    });
  });

  it('groups by dimensions and local days, leaving month rows in their UTC month', async () => {
    const utc = await usageBreakdown(store(), { by: ['provider'], period: 'day' });
    expect(utc.map((row) => [row.period, row.groups[0], row.spendUsd])).toEqual([
      ['2025-03-01', 'anthropic', '100'],
      ['2025-03-01', 'mistral', null],
      ['2025-03-01', 'openai', '0.3'],
      ['2025-03-02', 'anthropic', null],
    ]);
    const berlin = await usageBreakdown(store(), { by: ['provider'], period: 'day', timeZone: 'Europe/Berlin' });
    expect(berlin.map((row) => [row.period, row.groups[0], row.spendUsd])).toEqual([
      ['2025-03-01', 'anthropic', '100'],
      ['2025-03-01', 'mistral', null],
      ['2025-03-01', 'openai', '0.2'],
      ['2025-03-02', 'anthropic', null],
      ['2025-03-02', 'openai', '0.1'],
    ]);
    const la = await usageBreakdown(store(), {
      by: ['source'],
      timeZone: 'America/Los_Angeles',
      since: new Date('2025-03-01T08:00:00Z'),
      until: new Date('2025-03-02T08:00:00Z'),
    });
    // 1 March in Los Angeles: the fee of March and the two 1 March rows after 08:00 UTC.
    expect(la.map((row) => [row.groups[0], row.rowCount])).toEqual([
      ['litellm', 3],
      ['subscription', 1],
    ]);
  });

  it('filters and groups by machine and project', async () => {
    const rows = await usageBreakdown(store(), { by: ['machine', 'project', 'model'], sourceSystems: ['claude_code'] });
    expect(rows.map((row) => [...row.groups, row.coveredUsd])).toEqual([['alice@laptop', 'utt', 'claude-sonnet-4-5', '3.5']]);
    const users = await usageBreakdown(store(), { by: ['user'], providers: ['openai'], users: ['alice'] });
    expect(users.map((row) => [row.groups[0], row.inputTokens])).toEqual([['alice', 100]]);
  });

  it('refuses unknown dimensions and time zones', async () => {
    await expect(usageBreakdown(store(), { by: ['labels' as never] })).rejects.toThrow(StoreArgumentError);
    await expect(usageBreakdown(store(), { by: [], timeZone: 'Mars/Olympus' })).rejects.toThrow(/query.timeZone/);
  });

  it('lists unpriced models, pricing coverage and filter values', async () => {
    expect(await unpricedModels(store())).toEqual([
      { provider: 'mistral', model: 'mystery', reason: 'no price for mistral/mystery', rows: 1, tokens: 10, lastBucketStart: new Date('2025-03-01T10:00:00Z') },
    ]);
    const coverage = await pricingCoverage(store());
    expect(coverage.find((row) => row.priceSource === 'genai-prices')).toMatchObject({ costSource: 'computed', rows: 1, costUsd: '0.1' });
    expect(coverage.find((row) => row.priceSource === 'override')).toMatchObject({ costSource: 'computed', rows: 1, costUsd: '0.2' });
    expect(coverage.find((row) => row.costSource === 'fixed')).toMatchObject({ measurementBasis: 'derived_estimate', costUsd: '100' });
    expect(await usageDimensionValues(store())).toEqual({
      sourceSystems: ['claude_code', 'litellm', 'subscription'],
      providers: ['anthropic', 'mistral', 'openai'],
      models: ['claude-sonnet-4-5', 'gpt-4o', 'mystery'],
    });
  });
});
