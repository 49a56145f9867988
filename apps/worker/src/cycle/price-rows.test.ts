import { toUsageRow } from '@utt/core';
import { describe, expect, it } from 'vitest';
import { priceRows } from './price-rows';

const row = (overrides: Record<string, unknown>) =>
  toUsageRow(
    { granularity: 'day', bucket_start: '2026-10-01T00:00:00Z', provider: 'anthropic', model: 'claude-sonnet-4-5', measurement_basis: 'exact', ...overrides },
    { sourceSystem: 'test', defaultInstance: 'test' },
  );

const pricing = {
  'anthropic/claude-sonnet-4-5': { input: 3, output: 15, cacheRead: 0.3, cacheWrite: 3.75, cacheWrite1h: 6 },
  'claude-sonnet-4-5': { input: 999, output: 999 },
};

describe('priceRows', () => {
  it('prices rows without a cost at the provider-qualified rate, each bucket at its own rate', () => {
    // 1M input × $3 + 100k output × $15 + 2M cache reads × $0.30 + 400k writes (100k of them 1h) → 3 + 1.5 + 0.6 + 300k×3.75/M + 100k×6/M
    const { rows, unpriced } = priceRows(
      [row({ input_tokens: 1_000_000, output_tokens: 100_000, cached_read_tokens: 2_000_000, cached_write_tokens: 400_000, cached_write_1h_tokens: 100_000 })],
      pricing,
    );
    expect(rows[0]).toMatchObject({ cost_usd: '6.825', cost_source: 'computed' });
    expect(unpriced).toEqual([]);
  });

  it('keeps an unknown model unpriced: cost NULL, never 0', () => {
    const { rows, unpriced } = priceRows([row({ provider: 'ollama', model: 'llama3.3:70b', input_tokens: 10, output_tokens: 5 })], pricing);
    expect(rows[0]).toMatchObject({ cost_usd: null, cost_source: null });
    expect(unpriced).toHaveLength(1);
  });

  it('leaves provider and fixed costs alone, and rows without tokens unpriced but not listed', () => {
    const provided = row({ input_tokens: 10, cost_usd: '1.25', cost_source: 'provider' });
    const requestsOnly = row({ requests: 4 });
    const { rows, unpriced } = priceRows([provided, requestsOnly], pricing);
    expect(rows).toEqual([provided, requestsOnly]);
    expect(unpriced).toEqual([]);
  });
});
