import { collectAll, createTestContext, describeUsageAdapterConformance } from '@utt/adapter-testkit';
import { isUsageAdapterV1, validateWithSchema } from '@utt/core';
import { describe, expect, it } from 'vitest';
import defaultExport, { subscriptionAdapter } from './index';

const config = {
  plans: [
    { name: 'team-claude', plan: 'claude-max-5x', seats: 3, start: '2026-01-01' },
    { name: 'chatgpt', plan: 'chatgpt-plus', seats: 2, start: '2026-02-15', end: '2026-04-01', account: 'design' },
    { name: 'internal', provider: 'acme', monthlyUsd: '12.345', start: '2025-12-01' },
  ],
};
const window = { start: new Date('2026-01-01T00:00:00Z'), end: new Date('2026-05-01T00:00:00Z'), granularity: 'month' as const };

describeUsageAdapterConformance({ adapter: subscriptionAdapter, config, window });

describe('subscriptionAdapter', () => {
  it('is the default export and a v1 adapter with the declared capabilities', () => {
    expect(defaultExport).toBe(subscriptionAdapter);
    expect(isUsageAdapterV1(subscriptionAdapter)).toBe(true);
    expect(subscriptionAdapter).toMatchObject({
      id: 'subscription',
      sourceSystem: 'subscription',
      capabilities: {
        granularities: ['month'],
        cacheTokens: 'none',
        costSource: 'fixed',
        measurementBasis: 'derived_estimate',
        maxBackfillDays: null,
        windowed: true,
      },
    });
  });

  it('collects the month rows of a validated config through the contract', async () => {
    const validated = await validateWithSchema(subscriptionAdapter.configSchema, config);
    if (!validated.ok) throw new Error(validated.issues.join('\n'));
    const context = createTestContext({ config: validated.value });

    const records = await collectAll(subscriptionAdapter, window, context);

    expect(records.map((record) => [record.labels?.subscription, (record.bucket_start as Date).toISOString().slice(0, 7), record.cost_usd])).toEqual([
      ['team-claude', '2026-01', '300'],
      ['team-claude', '2026-02', '300'],
      ['team-claude', '2026-03', '300'],
      ['team-claude', '2026-04', '300'],
      ['chatgpt', '2026-02', '40'],
      ['chatgpt', '2026-03', '40'],
      ['internal', '2026-01', '12.345'],
      ['internal', '2026-02', '12.345'],
      ['internal', '2026-03', '12.345'],
      ['internal', '2026-04', '12.345'],
    ]);
    expect(context.logs).toEqual([]);
    expect(await subscriptionAdapter.check?.(context)).toEqual({ ok: true, detail: '3 plans configured; nothing to call' });
  });
});
