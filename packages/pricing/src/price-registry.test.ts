import { beforeAll, describe, expect, it } from 'vitest';
import { loadBundledRegistry } from './bundled-registry';
import { explainPrice } from './explain-price';
import { createPriceRegistry, type PriceRegistry, type RegistryDataSet } from './price-registry';
import { type PriceInput, priceUsage } from './price-usage';

let bundled: RegistryDataSet;
beforeAll(async () => {
  bundled = await loadBundledRegistry();
});

const usage = (provider: string, model: string, at: string, tokens: Partial<PriceInput> = {}): PriceInput => ({
  provider,
  model,
  bucket_start: new Date(at),
  granularity: 'day',
  input_tokens: 1_000_000,
  output_tokens: null,
  cached_read_tokens: null,
  cached_write_tokens: null,
  cached_write_1h_tokens: null,
  ...tokens,
});

/** A one-model data set in genai-prices' data.json shape. */
const fileData = (inputPerMillion: number): RegistryDataSet => ({
  label: 'file@2026-11-01',
  providers: [
    { id: 'anthropic', models: [{ id: 'claude-sonnet-4-5', match: { starts_with: 'claude-sonnet-4-5' }, prices: { input_mtok: inputPerMillion, output_mtok: 15 } }] },
  ],
});

describe('price history', () => {
  it('prices Claude Sonnet 4.6 differently either side of its 2026-03-13 change', () => {
    const registry = createPriceRegistry({ bundled });
    // One 300k-token request: before the change the long-context tier applied (6/M), after it the flat 3/M.
    const before = priceUsage(registry, usage('anthropic', 'claude-sonnet-4-6', '2026-03-12T00:00:00Z', { input_tokens: 300_000, requests: 1 }));
    const after = priceUsage(registry, usage('anthropic', 'claude-sonnet-4-6', '2026-03-13T00:00:00Z', { input_tokens: 300_000, requests: 1 }));
    expect(before).toMatchObject({ status: 'priced', costUsd: '1.8', priceRef: 'genai-prices@0.1.8:anthropic/claude-sonnet-4-6@base;tier>200000' });
    expect(after).toMatchObject({ status: 'priced', costUsd: '0.9', priceRef: 'genai-prices@0.1.8:anthropic/claude-sonnet-4-6@2026-03-13' });
  });

  it('prices OpenAI o3 at the rate in force at bucket_start, not today', () => {
    const registry = createPriceRegistry({ bundled });
    expect(priceUsage(registry, usage('openai', 'o3', '2025-06-09T00:00:00Z'))).toMatchObject({ costUsd: '10', priceRef: 'genai-prices@0.1.8:openai/o3@base' });
    expect(priceUsage(registry, usage('openai', 'o3', '2025-06-10T00:00:00Z'))).toMatchObject({ costUsd: '2', priceRef: 'genai-prices@0.1.8:openai/o3@2025-06-10' });
  });
});

describe('precedence and matching', () => {
  it('config overrides → prices file → bundled registry', () => {
    const registry = createPriceRegistry({ bundled, file: fileData(2), overrides: { 'openai/gpt-4o': { input: 1 } } });
    expect(priceUsage(registry, usage('openai', 'gpt-4o', '2025-10-01T00:00:00Z'))).toMatchObject({ costUsd: '1', priceRef: 'config:openai/gpt-4o@base' });
    expect(priceUsage(registry, usage('anthropic', 'claude-sonnet-4-5', '2025-10-01T00:00:00Z'))).toMatchObject({ costUsd: '2', priceRef: 'file@2026-11-01:anthropic/claude-sonnet-4-5@base' });
    // Not in the file: the bundled registry still answers.
    expect(priceUsage(registry, usage('anthropic', 'claude-haiku-4-5', '2025-10-01T00:00:00Z'))).toMatchObject({ costUsd: '1', priceRef: 'genai-prices@0.1.8:anthropic/claude-haiku-4-5@base' });
  });

  it('a provider-qualified key wins over a bare model key, even when the bare key is listed first', () => {
    const registry = createPriceRegistry({ overrides: { 'my-model': { input: 9 }, 'acme/my-model': { input: 4 } } });
    expect(registry.resolve('acme', 'my-model')).toMatchObject({ entry: { key: 'acme/my-model' }, strategy: 'exact' });
    expect(registry.resolve('other', 'my-model')).toMatchObject({ entry: { key: 'my-model' }, strategy: 'exact' });
    expect(priceUsage(registry, usage('acme', 'My-Model', '2025-10-01T00:00:00Z'))).toMatchObject({ costUsd: '4' });
  });

  it('reports how a model id was normalised to match', () => {
    const registry = createPriceRegistry({ bundled, overrides: { 'acme/widget': { input: 1 } } });
    expect(registry.resolve('acme', 'Widget')).toMatchObject({ strategy: 'case_folded' });
    expect(registry.resolve('acme', 'acme/widget')).toMatchObject({ strategy: 'provider_prefix_stripped' });
    expect(registry.resolve('acme', 'widget-20250101')).toMatchObject({ strategy: 'date_suffix_stripped' });
    expect(registry.resolve('openai', 'gpt-4o')).toMatchObject({ strategy: 'exact', entry: { key: 'openai/gpt-4o' } });
    expect(registry.resolve('anthropic', 'claude-sonnet-4-5@20250929')).toMatchObject({ strategy: 'registry_rule', entry: { key: 'anthropic/claude-sonnet-4-5' } });
    expect(registry.resolve('openai', 'gpt-4.1-mini-2099-01-01')).toMatchObject({ strategy: 'date_suffix_stripped', entry: { key: 'openai/gpt-4.1-mini' } });
    expect(registry.resolve('aws', 'anthropic.claude-sonnet-4-5-20250929-v1:0')).toMatchObject({ entry: { provider: 'aws' } });
    expect(registry.resolve('google', 'gemini-2.5-pro-preview-06-05')).toMatchObject({ strategy: 'registry_rule', entry: { key: 'google/gemini-2.5-pro' } });
    expect(registry.resolve('litellm', 'anthropic/claude-opus-4-1')).toMatchObject({ strategy: 'provider_from_model_prefix', entry: { key: 'anthropic/claude-opus-4-1' } });
    expect(registry.resolve('litellm', 'gpt-4o-mini')).toMatchObject({ strategy: 'provider_inferred', entry: { key: 'openai/gpt-4o-mini' } });
    // A local runtime's "gpt-oss" is not OpenAI's API: no vendor is guessed for a named non-gateway provider.
    expect(registry.resolve('ollama', 'llama3.3:70b')).toBeUndefined();
  });

  it('refuses a malformed override, naming it', () => {
    expect(() => createPriceRegistry({ overrides: { 'acme/x': { input: -1 } as never } })).toThrow(/pricing\.overrides\["acme\/x"\]: input/);
  });
});

describe('explainPrice', () => {
  it('answers for every model in the bundled registry', () => {
    const registry: PriceRegistry = createPriceRegistry({ bundled });
    const entries = registry.entries();
    expect(entries.length).toBeGreaterThan(1000);
    const unanswered = entries.filter((entry) => !explainPrice(registry, entry.provider, entry.modelId, new Date('2026-10-01T00:00:00Z')).found);
    expect(unanswered.map((entry) => entry.key)).toEqual([]);
  });

  it('names source, key, strategy, rates and missing rates', () => {
    const registry = createPriceRegistry({ bundled });
    expect(explainPrice(registry, 'openai', 'gpt-4o-2024-08-06', new Date('2026-10-01T00:00:00Z'))).toMatchObject({
      found: true,
      source: 'genai-prices@0.1.8',
      key: 'openai/gpt-4o',
      strategy: 'registry_rule',
      rates: { input: '2.5', output: '10', cacheRead: '1.25' },
      missingRates: ['cacheWrite', 'cacheWrite1h'],
      serviceTiers: { batch: '0.5', flex: '0.5' },
    });
    expect(explainPrice(registry, 'ollama', 'llama3', new Date('2026-10-01T00:00:00Z'))).toEqual({
      found: false,
      provider: 'ollama',
      model: 'llama3',
      at: '2026-10-01T00:00:00.000Z',
      searched: ['config', 'genai-prices@0.1.8'],
    });
  });
});
