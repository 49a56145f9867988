import { describe, expect, it } from 'vitest';
import { findPrice, type PriceTable } from './token-price';

const table: PriceTable = {
  'claude-sonnet-4': { input: 3, output: 15 },
  'Bedrock/Claude-Sonnet-4': { input: '3.3', output: '16.5' },
  'GPT-4o': { input: 2.5, output: 10 },
};

describe('findPrice', () => {
  it('prefers a provider-qualified key over the bare model', () => {
    expect(findPrice(table, 'bedrock', 'claude-sonnet-4')).toEqual({
      key: 'Bedrock/Claude-Sonnet-4',
      strategy: 'provider_qualified',
      price: { input: '3.3', output: '16.5' },
    });
  });

  it('falls back to the bare model for another provider', () => {
    expect(findPrice(table, 'anthropic', 'claude-sonnet-4')).toEqual({
      key: 'claude-sonnet-4',
      strategy: 'model_only',
      price: { input: 3, output: 15 },
    });
  });

  it('compares keys case-insensitively and reports the key as written', () => {
    expect(findPrice(table, 'openai', 'gpt-4o')).toMatchObject({ key: 'GPT-4o', strategy: 'model_only' });
    expect(findPrice(table, 'BEDROCK', 'CLAUDE-SONNET-4')).toMatchObject({ strategy: 'provider_qualified' });
  });

  it('is undefined for an unknown model', () => {
    expect(findPrice(table, 'openai', 'gpt-5')).toBeUndefined();
    expect(findPrice({}, 'openai', 'gpt-4o')).toBeUndefined();
  });
});
