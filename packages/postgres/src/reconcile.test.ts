import type { ProviderCostRow } from '@utt/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { StoreArgumentError } from './store-argument-error';
import { TEST_BACKENDS, useTestStore } from './test-support/test-backends';
import { usageRow } from './test-support/usage-rows';

const DAY_ONE = new Date('2026-09-01T00:00:00Z');
const DAY_TWO = new Date('2026-09-02T00:00:00Z');

function cost(overrides: Partial<ProviderCostRow>): ProviderCostRow {
  return {
    source_system: 'openai_api',
    source_instance: 'org',
    bucket_start: DAY_ONE,
    provider: 'openai',
    account: '',
    model: '',
    line_item: 'total',
    amount_usd: '0',
    currency: 'USD',
    ...overrides,
  };
}

describe.each(TEST_BACKENDS)('reconcile on $name', (backend) => {
  const store = useTestStore(backend);

  beforeAll(async () => {
    await store().writeSourceWindow({
      source: 'openai',
      sourceSystem: 'openai_api',
      rows: [
        usageRow({ source_system: 'openai_api', bucket_start: new Date('2026-09-01T00:00:00Z'), model: 'a', input_tokens: 10, cost_usd: '0.30', cost_source: 'computed' }),
        usageRow({ source_system: 'openai_api', bucket_start: new Date('2026-09-01T23:00:00Z'), model: 'a', input_tokens: 10, cost_usd: '0.25', cost_source: 'computed' }),
        // Tokens without a price: counted as unpriced, not as $0.
        usageRow({ source_system: 'openai_api', bucket_start: new Date('2026-09-01T05:00:00Z'), model: 'b', input_tokens: 7 }),
        // Day two: usage but nothing billed.
        usageRow({ source_system: 'openai_api', bucket_start: new Date('2026-09-02T01:00:00Z'), model: 'a', input_tokens: 1, cost_usd: '0.01', cost_source: 'computed' }),
      ],
      providerCosts: [
        cost({ line_item: 'a, input', amount_usd: '0.42' }),
        cost({ line_item: 'a, output', amount_usd: '0.08' }),
      ],
    });
    // A source without billing never appears, whatever its costs.
    await store().writeSourceWindow({
      source: 'laptop',
      sourceSystem: 'claude_code',
      rows: [usageRow({ source_system: 'claude_code', provider: 'anthropic', bucket_start: DAY_ONE, input_tokens: 5, cost_usd: '9', cost_source: 'computed' })],
    });
    // Billed only: nothing computed for that day.
    await store().writeSourceWindow({
      source: 'anthropic',
      sourceSystem: 'anthropic_api',
      rows: [],
      providerCosts: [cost({ source_system: 'anthropic_api', provider: 'anthropic', amount_usd: '1.2345', line_item: 'Code Execution Usage' })],
    });
  });

  it('shows billed vs computed per day, source system and provider, with the gap in percent', async () => {
    expect(await store().reconcile({})).toEqual([
      // billed 0.42 + 0.08 = 0.50; computed 0.30 + 0.25 = 0.55: +10 %.
      { day: DAY_ONE, sourceSystem: 'anthropic_api', provider: 'anthropic', billedUsd: '1.2345', computedUsd: null, gapPercent: null, unpricedRows: 0 },
      { day: DAY_ONE, sourceSystem: 'openai_api', provider: 'openai', billedUsd: '0.5', computedUsd: '0.55', gapPercent: '10.00', unpricedRows: 1 },
      { day: DAY_TWO, sourceSystem: 'openai_api', provider: 'openai', billedUsd: null, computedUsd: '0.01', gapPercent: null, unpricedRows: 0 },
    ]);
  });

  it('limits the range to [since, until)', async () => {
    const rows = await store().reconcile({ since: DAY_TWO, until: new Date('2026-09-03T00:00:00Z') });
    expect(rows.map((row) => [row.day, row.sourceSystem])).toEqual([[DAY_TWO, 'openai_api']]);
  });

  it('refuses an empty range', async () => {
    await expect(store().reconcile({ since: DAY_TWO, until: DAY_ONE })).rejects.toSatisfy((error) => StoreArgumentError.isInstance(error));
  });
});
