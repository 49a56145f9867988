import type { PriceRegistry, PriceResolution } from '@utt/pricing';
import { priceUsage } from '@utt/pricing';

/** Resolutions kept per (provider, model); a service talks to a handful of models. */
const MAX_CACHED_MODELS = 4096;

/**
 * The registry with its model lookup memoised: resolving a model id walks
 * normalised id forms and match rules, which is most of what pricing one call
 * costs. Prices themselves are still chosen per call (dated versions, tiers).
 */
export function memoizeRegistry(registry: PriceRegistry): PriceRegistry {
  const cache = new Map<string, PriceResolution | undefined>();
  return {
    sources: registry.sources,
    entries: () => registry.entries(),
    resolve(provider, model) {
      const key = `${provider}\u0000${model}`;
      if (cache.has(key)) return cache.get(key);
      if (cache.size >= MAX_CACHED_MODELS) cache.clear();
      const resolution = registry.resolve(provider, model);
      cache.set(key, resolution);
      return resolution;
    },
  };
}

export type CallPrice = { costUsd: string | null; priceRef: string | null; unpricedReason: string | null };

export type PricedTokens = {
  readonly provider: string;
  readonly model: string;
  readonly occurredAt: Date;
  readonly serviceTier: string;
  readonly inputTokens: number | null;
  readonly outputTokens: number | null;
  readonly cachedReadTokens: number | null;
  readonly cachedWriteTokens: number | null;
  readonly cachedWrite1hTokens: number | null;
  readonly webSearches: number | null;
};

const NO_LABELS: Readonly<Record<string, string>> = Object.freeze({});

/** One call priced at its own time, every bucket at its own rate; unpriced keeps its reason, never $0. */
export function priceCall(registry: PriceRegistry, call: PricedTokens): CallPrice {
  const result = priceUsage(registry, {
    provider: call.provider,
    model: call.model,
    bucket_start: call.occurredAt,
    labels: call.serviceTier === '' ? NO_LABELS : { service_tier: call.serviceTier },
    input_tokens: call.inputTokens,
    output_tokens: call.outputTokens,
    cached_read_tokens: call.cachedReadTokens,
    cached_write_tokens: call.cachedWriteTokens,
    cached_write_1h_tokens: call.cachedWrite1hTokens,
    requests: 1,
    web_searches: call.webSearches,
  });
  return result.status === 'priced'
    ? { costUsd: result.costUsd, priceRef: result.priceRef, unpricedReason: null }
    : { costUsd: null, priceRef: null, unpricedReason: result.unpricedReason };
}
