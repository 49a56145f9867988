import type { UsageAdapterV1Pricer } from '@utt/core';
import type { PriceRegistry } from './price-registry';
import { createQuoter, priceUsage } from './price-usage';

/** A pricer whose `quote` is always there (the one @utt/pricing builds). */
export type QuotingPricer = UsageAdapterV1Pricer & { quote: NonNullable<UsageAdapterV1Pricer['quote']> };

/**
 * The registry as the pricer an adapter receives in its context. `quote`
 * remembers what consecutive requests of one model share, so a reader that
 * quotes a file's requests one by one pays for the registry lookup once per
 * model rather than per request.
 */
export function createPricer(registry: PriceRegistry): QuotingPricer {
  const quoter = createQuoter(registry);
  return {
    specificationVersion: 'v1',
    price(input) {
      const result = priceUsage(registry, input);
      return result.status === 'priced'
        ? { status: 'priced', costUsd: result.costUsd, priceRef: result.priceRef }
        : { status: 'unpriced', unpricedReason: result.unpricedReason };
    },
    quote(input) {
      const result = quoter(input);
      return result.status === 'priced' ? { status: 'priced', plan: result.plan } : { status: 'unpriced', unpricedReason: result.unpricedReason };
    },
  };
}
