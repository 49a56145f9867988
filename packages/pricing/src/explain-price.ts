import { versionAt } from './price-entry';
import { TOKEN_RATE_NAMES, type TokenRate, type TokenRateName } from './price-rates';
import type { PriceRegistry, PriceResolution } from './price-registry';
import { BUILT_IN_SERVICE_TIERS } from './service-tier';

export type PriceExplanation =
  | {
      readonly found: true;
      readonly provider: string;
      readonly model: string;
      readonly at: string;
      readonly source: string;
      readonly key: string;
      readonly strategy: PriceResolution['strategy'];
      readonly matchedId: string;
      readonly effectiveFrom: string | null;
      /** Every dated version, so a price change is visible. */
      readonly versions: ReadonlyArray<{ readonly from: string | null }>;
      /** USD per million tokens (or per request / per search) in force at `at`. */
      readonly rates: Readonly<Partial<Record<TokenRateName | 'perRequest' | 'perWebSearch', TokenRate>>>;
      /** Token rates the price does not have: tokens in those buckets leave a row unpriced. */
      readonly missingRates: readonly TokenRateName[];
      readonly serviceTiers: Readonly<Record<string, string>>;
      readonly timeOfDayPrices: number;
      readonly pricingUrls: readonly string[];
    }
  | {
      readonly found: false;
      readonly provider: string;
      readonly model: string;
      readonly at: string;
      /** The sources searched, in precedence order. */
      readonly searched: readonly string[];
    };

/** What `utt prices explain` prints: the matched source, key, strategy, rates and missing rates. */
export function explainPrice(registry: PriceRegistry, provider: string, model: string, at: Date): PriceExplanation {
  const resolution = registry.resolve(provider, model);
  if (!resolution) {
    return { found: false, provider, model, at: at.toISOString(), searched: registry.sources.map((source) => source.label) };
  }
  const { entry } = resolution;
  const version = versionAt(entry, at);
  const rates: Partial<Record<TokenRateName | 'perRequest' | 'perWebSearch', TokenRate>> = {};
  for (const [name, rate] of Object.entries(version.rates)) if (rate !== undefined) rates[name as TokenRateName] = rate;
  return {
    found: true,
    provider,
    model,
    at: at.toISOString(),
    source: entry.sourceLabel,
    key: entry.key,
    strategy: resolution.strategy,
    matchedId: resolution.matchedId,
    effectiveFrom: version.from,
    versions: entry.versions.map((candidate) => ({ from: candidate.from })),
    rates,
    missingRates: TOKEN_RATE_NAMES.filter((name) => version.rates[name] === undefined),
    serviceTiers: { ...BUILT_IN_SERVICE_TIERS[entry.provider.toLowerCase()], ...entry.serviceTiers },
    timeOfDayPrices: entry.timeOfDay.length,
    pricingUrls: entry.pricingUrls ?? [],
  };
}
