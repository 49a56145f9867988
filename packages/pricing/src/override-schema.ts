/**
 * The config schema of a price override alone (`@utt/pricing/override-schema`):
 * a config that only validates prices does not load the registry, the prices
 * file reader and their schemas.
 */
export { type PriceOverride, type PriceOverrides, priceOverrideSchema } from './price-override';
