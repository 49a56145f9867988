import type { UsageAdapterV1Pricer } from '@utt/core';
import type { PriceRegistry } from './price-registry';
import { priceUsage } from './price-usage';

/** The registry as the pricer an adapter receives in its context. */
export function createPricer(registry: PriceRegistry): UsageAdapterV1Pricer {
  return {
    specificationVersion: 'v1',
    price(input) {
      const result = priceUsage(registry, input);
      return result.status === 'priced'
        ? { status: 'priced', costUsd: result.costUsd, priceRef: result.priceRef }
        : { status: 'unpriced', unpricedReason: result.unpricedReason };
    },
  };
}
