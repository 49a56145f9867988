import { loadPriceRegistry, type PriceRegistry } from '@utt/pricing';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { createCallPricer, memoizeRegistry, priceCall } from './price-call';
import { testPrices } from './test-support/test-prices';

let bundled: PriceRegistry;
beforeAll(async () => {
  bundled = await loadPriceRegistry();
});

const count = fc.option(fc.integer({ min: 0, max: 3_000_000 }), { nil: null, freq: 4 });
const MODELS: ReadonlyArray<[string, string]> = [
  ['openai', 'gpt-4o-mini'],
  ['openai', 'gpt-4o-2024-08-06'],
  ['openai', 'gpt-test'],
  ['anthropic', 'claude-sonnet-4-5-20250929'],
  ['anthropic', 'claude-test'],
  ['anthropic', 'claude-3-haiku-20240307'],
  ['google', 'gemini-2.5-pro'],
  ['google', 'gemini-2.0-flash'],
  ['openai', 'no-such-model'],
  ['openai', 'text-embedding-test'],
];

describe('the compiled call pricer', () => {
  it('prices exactly as priceUsage does, on either path', () => {
    const registries = [memoizeRegistry(bundled), memoizeRegistry(testPrices())];
    const pricers = registries.map((registry) => createCallPricer(registry));
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 1 }),
        fc.constantFrom(...MODELS),
        fc.record({ inputTokens: count, outputTokens: count, cachedReadTokens: count, cachedWriteTokens: count }),
        fc.option(fc.integer({ min: 0, max: 100 }), { nil: null }),
        fc.constantFrom('', '', '', 'flex', 'batch', 'priority'),
        fc.date({ min: new Date('2024-01-01T00:00:00Z'), max: new Date('2027-01-01T00:00:00Z'), noInvalidDate: true }),
        fc.constantFrom(null, null, 0, 2),
        (which, [provider, model], tokens, oneHourPercent, serviceTier, occurredAt, webSearches) => {
          const cachedWrite1hTokens = tokens.cachedWriteTokens === null || oneHourPercent === null ? null : Math.floor((tokens.cachedWriteTokens * oneHourPercent) / 100);
          const call = { provider, model, occurredAt, serviceTier, webSearches, ...tokens, cachedWrite1hTokens };
          const { costNumber, ...priced } = (pricers[which] as ReturnType<typeof createCallPricer>)(call);
          expect(priced).toEqual(priceCall(registries[which] as PriceRegistry, call));
          // The cost as a number, where the pricer gives it, is the very double Number(costUsd) is.
          if (costNumber !== undefined) expect(costNumber).toBe(Number(priced.costUsd));
        },
      ),
      { numRuns: 3000 },
    );
  });
});
