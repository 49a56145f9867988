import { z } from '@utt/core';
import { toDecimalRate } from './decimal-rate';
import type { PriceRates, TokenRate } from './price-rates';

const rateSchema = z.union([z.number().nonnegative().finite(), z.string().regex(/^\d+(\.\d+)?$/, 'expected a decimal number')]);

const longContextSchema = z.strictObject({
  /** Prompt tokens (input + cache reads + writes) above which a request pays these rates. */
  above: z.number().int().positive(),
  input: rateSchema.optional(),
  output: rateSchema.optional(),
  cacheRead: rateSchema.optional(),
  cacheWrite: rateSchema.optional(),
  cacheWrite1h: rateSchema.optional(),
});

/**
 * A price in config, USD per million tokens. The first five fields are core's
 * `TokenPrice`, so the simple entries written before this package stay valid.
 */
export const priceOverrideSchema = z.strictObject({
  input: rateSchema.optional(),
  output: rateSchema.optional(),
  cacheRead: rateSchema.optional(),
  cacheWrite: rateSchema.optional(),
  cacheWrite1h: rateSchema.optional(),
  /** USD per request. */
  perRequest: rateSchema.optional(),
  /** USD per web search. */
  perWebSearch: rateSchema.optional(),
  longContext: longContextSchema.optional(),
  /** Multipliers by service tier, e.g. `{ batch: 0.5, priority: 2 }`; they add to or replace the built-in ones. */
  serviceTiers: z.record(z.string(), rateSchema).optional(),
});

export type PriceOverride = z.input<typeof priceOverrideSchema>;

/** Overrides keyed `provider/model` (wins) or bare `model`. */
export type PriceOverrides = Readonly<Record<string, PriceOverride>>;

export function overrideRates(override: PriceOverride, where: string): PriceRates {
  const long = override.longContext;
  const rate = (name: 'input' | 'output' | 'cacheRead' | 'cacheWrite' | 'cacheWrite1h'): TokenRate | undefined => {
    const base = override[name];
    const above = long?.[name];
    if (base === undefined) return undefined;
    const baseText = toDecimalRate(base, `${where}.${name}`);
    if (long === undefined || above === undefined) return baseText;
    return { base: baseText, tiers: [{ start: long.above, price: toDecimalRate(above, `${where}.longContext.${name}`) }] };
  };
  const rates: Record<string, TokenRate | undefined> = {
    input: rate('input'),
    output: rate('output'),
    cacheRead: rate('cacheRead'),
    cacheWrite: rate('cacheWrite'),
    cacheWrite1h: rate('cacheWrite1h'),
    perRequest: override.perRequest === undefined ? undefined : toDecimalRate(override.perRequest, `${where}.perRequest`),
    perWebSearch: override.perWebSearch === undefined ? undefined : toDecimalRate(override.perWebSearch, `${where}.perWebSearch`),
  };
  for (const key of Object.keys(rates)) if (rates[key] === undefined) delete rates[key];
  return rates as PriceRates;
}

export function overrideServiceTiers(override: PriceOverride, where: string): Readonly<Record<string, string>> | undefined {
  if (!override.serviceTiers) return undefined;
  return Object.fromEntries(
    Object.entries(override.serviceTiers).map(([tier, multiplier]) => [
      tier.toLowerCase(),
      toDecimalRate(multiplier, `${where}.serviceTiers.${tier}`),
    ]),
  );
}
