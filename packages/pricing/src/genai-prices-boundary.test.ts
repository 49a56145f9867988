import { calcPrice } from '@pydantic/genai-prices';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadPriceRegistry } from './load-price-registry';
import type { PriceRegistry } from './price-registry';
import { type PriceInput, priceUsage } from './price-usage';

let registry: PriceRegistry;
beforeAll(async () => {
  registry = await loadPriceRegistry();
});

type Tokens = { input: number; cacheRead: number; cacheWrite: number; cacheWrite1h: number; output: number };

const CASES: ReadonlyArray<{ provider: string; model: string; at: string; tokens: Tokens }> = [
  { provider: 'anthropic', model: 'claude-sonnet-4-5', at: '2025-10-01', tokens: { input: 12_000, cacheRead: 48_000, cacheWrite: 6_000, cacheWrite1h: 2_000, output: 3_400 } },
  { provider: 'anthropic', model: 'claude-sonnet-4-5', at: '2025-10-01', tokens: { input: 150_000, cacheRead: 80_000, cacheWrite: 0, cacheWrite1h: 0, output: 1_000 } },
  { provider: 'openai', model: 'gpt-4.1', at: '2025-10-01', tokens: { input: 90_000, cacheRead: 10_000, cacheWrite: 0, cacheWrite1h: 0, output: 5_000 } },
  { provider: 'google', model: 'gemini-2.5-pro', at: '2025-10-01', tokens: { input: 180_000, cacheRead: 40_000, cacheWrite: 0, cacheWrite1h: 0, output: 2_000 } },
];

describe('the boundary with genai-prices', () => {
  // genai-prices counts input_tokens including cache reads and writes; utt's columns do not overlap.
  it.each(CASES)('prices $provider/$model like calcPrice does with cache tokens added back into input', ({ provider, model, at, tokens }) => {
    const input: PriceInput = {
      provider,
      model,
      bucket_start: new Date(`${at}T00:00:00Z`),
      input_tokens: tokens.input,
      output_tokens: tokens.output,
      cached_read_tokens: tokens.cacheRead,
      cached_write_tokens: tokens.cacheWrite,
      cached_write_1h_tokens: tokens.cacheWrite1h,
      requests: 1,
    };
    const ours = priceUsage(registry, input);
    const theirs = calcPrice(
      {
        input_tokens: tokens.input + tokens.cacheRead + tokens.cacheWrite,
        cache_read_tokens: tokens.cacheRead,
        cache_write_tokens: tokens.cacheWrite,
        cache_write_1h_tokens: tokens.cacheWrite1h,
        output_tokens: tokens.output,
      },
      model,
      { providerId: provider, timestamp: new Date(`${at}T00:00:00Z`) },
    );
    expect(ours.status).toBe('priced');
    expect(theirs).not.toBeNull();
    // genai-prices works in floats; ours is exact.
    expect(Number(ours.status === 'priced' ? ours.costUsd : Number.NaN)).toBeCloseTo(theirs?.total_price ?? Number.NaN, 12);
  });

  it('cannot take our input_tokens as its own (the mistake the conversion guards against)', () => {
    // Our 12k uncached input with 48k cache reads is, to genai-prices, 48k cached out of 12k in total.
    expect(() =>
      calcPrice({ input_tokens: 12_000, cache_read_tokens: 48_000, output_tokens: 0 }, 'claude-sonnet-4-5', { providerId: 'anthropic' }),
    ).toThrow(/cannot exceed input_tokens/);
  });
});

describe('per-request fees and web searches', () => {
  it('adds web searches at the per-search rate and refuses them where there is none', async () => {
    // Anthropic web search: $10 per 1,000 searches (https://docs.anthropic.com/en/docs/about-claude/pricing).
    const base = { bucket_start: new Date('2025-10-01T00:00:00Z'), input_tokens: 1_000_000, output_tokens: null, cached_read_tokens: null, cached_write_tokens: null, cached_write_1h_tokens: null };
    expect(priceUsage(registry, { ...base, provider: 'anthropic', model: 'claude-haiku-4-5', web_searches: 3 })).toMatchObject({ costUsd: '1.03' });
    const noRate = await loadPriceRegistry({ bundled: false, overrides: { 'acme/m': { input: 1 } } });
    expect(priceUsage(noRate, { ...base, provider: 'acme', model: 'm', web_searches: 3 })).toMatchObject({ status: 'unpriced', unpricedReason: 'missing_rate:perWebSearch' });
  });

  it('charges a per-request fee per request, and needs the request count', async () => {
    const registry = await loadPriceRegistry({ bundled: false, overrides: { 'acme/m': { input: 1, perRequest: '0.005' } } });
    const base = { provider: 'acme', model: 'm', bucket_start: new Date('2025-10-01T00:00:00Z'), input_tokens: 1_000_000, output_tokens: null, cached_read_tokens: null, cached_write_tokens: null, cached_write_1h_tokens: null };
    expect(priceUsage(registry, { ...base, requests: 4 })).toMatchObject({ costUsd: '1.02' });
    expect(priceUsage(registry, { ...base, requests: null })).toMatchObject({ status: 'unpriced', unpricedReason: 'missing_rate:requests' });
  });

  it('applies the billing provider’s batch discount to a bare config key', async () => {
    const registry = await loadPriceRegistry({ bundled: false, overrides: { 'my-model': { input: 2 } } });
    const row = { model: 'my-model', labels: { service_tier: 'batch' }, bucket_start: new Date('2025-10-01T00:00:00Z'), input_tokens: 1_000_000, output_tokens: null, cached_read_tokens: null, cached_write_tokens: null, cached_write_1h_tokens: null };
    expect(priceUsage(registry, { ...row, provider: 'openai' })).toMatchObject({ costUsd: '1' });
    expect(priceUsage(registry, { ...row, provider: 'acme' })).toMatchObject({ status: 'unpriced', unpricedReason: 'service_tier:batch' });
  });
});
