// Building a registry.
export { createPriceRegistry, type PriceRegistry, type PriceRegistryOptions, type PriceResolution, type RegistryDataSet } from './price-registry';
export { type LoadedPriceRegistry, loadPriceRegistry, type LoadPriceRegistryOptions, preparePriceRegistry } from './load-price-registry';
export { GENAI_PRICES_VERSION, loadBundledRegistry } from './bundled-registry';
export { type PriceOverride, type PriceOverrides, priceOverrideSchema } from './price-override';
export { parseRegistryData, type RegistryProvider, registryDataSchema } from './registry-data';
export { DEFAULT_PRICES_URL, type FetchPricesOptions, type PricesFile, readPricesFile, updatePricesFile } from './prices-file';

// Pricing.
export {
  createQuoter,
  createUsagePricer,
  type PriceInput,
  type PricePlan,
  type PriceQuote,
  type PriceResult,
  priceUsage,
  quoteUsage,
  rateAt,
  UNPRICED_REASONS,
  type UnpricedReason,
} from './price-usage';
export { createPricer, type QuotingPricer } from './create-pricer';
export { explainPrice, type PriceExplanation } from './explain-price';
export { BUILT_IN_SERVICE_TIERS, serviceTierOf } from './service-tier';
export { type MatchStrategy, modelIdForms } from './model-id-forms';

// Types.
export type { PriceEntry } from './price-entry';
export type { MatchRule } from './match-rule';
export {
  PRICE_SOURCES,
  type PriceRates,
  type PriceSource,
  type PriceVersion,
  type TieredTokenRate,
  TOKEN_RATE_NAMES,
  type TokenRate,
  type TokenRateName,
} from './price-rates';
export { VERSION } from './version';
