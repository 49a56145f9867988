import { createPriceRegistry, type PriceRegistry } from '@utt/pricing';

/**
 * Round test prices (USD per million tokens), so expected costs can be written
 * by hand: 1M uncached input of gpt-test costs $2, …
 */
export function testPrices(): PriceRegistry {
  return createPriceRegistry({
    overrides: {
      'openai/gpt-test': { input: 2, output: 8, cacheRead: 0.5, cacheWrite: 2.5 },
      'anthropic/claude-test': { input: 3, output: 15, cacheRead: 0.3, cacheWrite: 3.75, cacheWrite1h: 6, perWebSearch: 0.01 },
      'openai/text-embedding-test': { input: 0.1 },
      'openrouter/gpt-test': { input: 2, output: 8, cacheRead: 0.5 },
      'google/gemini-test': { input: 1.25, output: 10, cacheRead: 0.3125 },
    },
  });
}
