import { toUsageRow } from '@utt/core';
import { createPriceRegistry, loadBundledRegistry } from '@utt/pricing';
import { describe, expect, it } from 'vitest';
import { priceRows } from './price-rows';

const row = (overrides: Record<string, unknown>) =>
  toUsageRow(
    { granularity: 'day', bucket_start: '2026-10-01T00:00:00Z', provider: 'anthropic', model: 'claude-sonnet-4-5', measurement_basis: 'exact', ...overrides },
    { sourceSystem: 'test', defaultInstance: 'test' },
  );

const registry = createPriceRegistry({
  overrides: {
    'anthropic/claude-sonnet-4-5': { input: 3, output: 15, cacheRead: 0.3, cacheWrite: 3.75, cacheWrite1h: 6 },
    'claude-sonnet-4-5': { input: 999, output: 999 },
  },
});

describe('priceRows', () => {
  it('prices rows without a cost at the provider-qualified rate, each bucket at its own rate, and records the price used', () => {
    // 1M input × $3 + 100k output × $15 + 2M cache reads × $0.30 + 400k writes (100k of them 1h) → 3 + 1.5 + 0.6 + 300k×3.75/M + 100k×6/M
    const { rows, unpriced } = priceRows(
      [row({ input_tokens: 1_000_000, output_tokens: 100_000, cached_read_tokens: 2_000_000, cached_write_tokens: 400_000, cached_write_1h_tokens: 100_000 })],
      registry,
    );
    expect(rows[0]).toMatchObject({ cost_usd: '6.825', cost_source: 'computed', price_ref: 'config:anthropic/claude-sonnet-4-5@base', unpriced_reason: null });
    expect(unpriced).toEqual([]);
  });

  it('sets the price columns of the rows it is given, in place', () => {
    const unpricedRow = row({ input_tokens: 1_000_000 });
    const unknown = row({ model: 'never-heard-of-it', input_tokens: 1 });
    const { rows, unpriced } = priceRows([unpricedRow, unknown], registry);
    expect(rows[0]).toBe(unpricedRow);
    expect(unpricedRow).toMatchObject({ cost_usd: '3', cost_source: 'computed', unpriced_reason: null });
    expect(unpriced).toEqual([unknown]);
    expect(unknown).toMatchObject({ cost_usd: null, cost_source: null, unpriced_reason: 'no_price' });
  });

  it('keeps an unknown model unpriced: cost NULL with a reason, never 0', () => {
    const { rows, unpriced } = priceRows([row({ provider: 'ollama', model: 'llama3.3:70b', input_tokens: 10, output_tokens: 5 })], registry);
    expect(rows[0]).toMatchObject({ cost_usd: null, cost_source: null, unpriced_reason: 'no_price' });
    expect(unpriced).toHaveLength(1);
  });

  it('leaves provider and fixed costs alone, and rows without tokens unpriced but not listed', () => {
    const provided = row({ input_tokens: 10, cost_usd: '1.25', cost_source: 'provider' });
    const requestsOnly = row({ requests: 4 });
    const before = structuredClone([provided, requestsOnly]);
    const { rows, unpriced } = priceRows([provided, requestsOnly], registry);
    expect(rows).toStrictEqual(before);
    expect(unpriced).toEqual([]);
  });

  it('does not re-price a row an adapter already found unpriced per request', () => {
    const tried = row({ input_tokens: 10, unpriced_reason: 'missing_rate:cacheWrite1h' });
    const before = structuredClone(tried);
    const { rows, unpriced } = priceRows([tried], registry);
    expect(rows).toStrictEqual([before]);
    expect(unpriced).toStrictEqual([before]);
  });

  it('prices from the bundled registry when config has no entry', async () => {
    const bundled = createPriceRegistry({ bundled: await loadBundledRegistry() });
    // Gemini 2.5 Pro: $1.25/M input, $10/M output (https://ai.google.dev/gemini-api/docs/pricing).
    const { rows } = priceRows([row({ provider: 'google', model: 'gemini-2.5-pro', input_tokens: 100_000, output_tokens: 10_000 })], bundled);
    expect(rows[0]).toMatchObject({ cost_usd: '0.225', price_ref: 'genai-prices@0.1.8:google/gemini-2.5-pro@base' });
  });
});
