import { formatIssues, z } from '@utt/core';
import { toDecimalRate } from './decimal-rate';
import type { MatchRule } from './match-rule';
import type { PriceRates, PriceVersion, TokenRate } from './price-rates';

const matchRuleSchema: z.ZodType<MatchRule> = z.lazy(() =>
  z.union([
    z.object({ equals: z.string() }),
    z.object({ starts_with: z.string() }),
    z.object({ ends_with: z.string() }),
    z.object({ contains: z.string() }),
    z.object({ regex: z.string() }),
    z.object({ or: z.array(matchRuleSchema) }),
    z.object({ and: z.array(matchRuleSchema) }),
  ]),
);

const tieredSchema = z.object({
  base: z.number().nonnegative(),
  tiers: z.array(z.object({ start: z.number().int().nonnegative(), price: z.number().nonnegative() })),
});
const priceValueSchema = z.union([z.number().nonnegative(), tieredSchema]);
const modelPriceSchema = z.record(z.string(), priceValueSchema.optional());
const constraintSchema = z.union([
  z.object({ type: z.literal('start_date').optional(), start_date: z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'expected YYYY-MM-DD') }),
  z.object({ type: z.literal('time_of_date').optional(), start_time: z.string(), end_time: z.string() }),
]);

/** One provider of genai-prices' data.json (v2): unknown fields are kept out, not refused. */
export const registryProviderSchema = z.object({
  id: z.string().min(1),
  name: z.string().optional(),
  pricing_urls: z.array(z.string()).optional(),
  provider_match: matchRuleSchema.optional(),
  model_match: matchRuleSchema.optional(),
  fallback_model_providers: z.array(z.string()).optional(),
  models: z.array(
    z.object({
      id: z.string().min(1),
      name: z.string().optional(),
      match: matchRuleSchema,
      prices: z.union([modelPriceSchema, z.array(z.object({ constraint: constraintSchema.optional(), prices: modelPriceSchema }))]),
    }),
  ),
});
export type RegistryProvider = z.output<typeof registryProviderSchema>;

export const registryDataSchema = z.array(registryProviderSchema);

/** Validates registry data (the bundled copy or a downloaded data.json); errors name the path. */
export function parseRegistryData(data: unknown, where: string): RegistryProvider[] {
  const result = registryDataSchema.safeParse(data);
  if (!result.success) throw new Error(`${where}: not genai-prices provider data: ${formatIssues(result.error.issues).slice(0, 5).join('; ')}`);
  return result.data;
}

/** A window of the UTC day in seconds, [start, end), wrapping past midnight when end < start. */
export type TimeOfDayWindow = { readonly startSecond: number; readonly endSecond: number };

export type RegistryModelPrices = {
  readonly versions: PriceVersion[];
  /** Prices that apply only during a time of day, each with the start date of the version it belongs to. */
  readonly timeOfDay: ReadonlyArray<{ readonly window: TimeOfDayWindow; readonly rates: PriceRates }>;
};

/**
 * genai-prices' model prices as dated versions in our units. genai-prices
 * lists conditional prices in order and takes the last one whose condition
 * holds; start-date prices become versions, time-of-day prices are kept apart.
 */
export function toRegistryModelPrices(prices: RegistryProvider['models'][number]['prices'], where: string): RegistryModelPrices {
  if (!Array.isArray(prices)) return { versions: [{ from: null, rates: toPriceRates(prices, where) }], timeOfDay: [] };
  const versions: PriceVersion[] = [];
  const timeOfDay: Array<{ window: TimeOfDayWindow; rates: PriceRates }> = [];
  prices.forEach((conditional, index) => {
    const rates = toPriceRates(conditional.prices, `${where}[${index}]`);
    const constraint = conditional.constraint;
    if (constraint === undefined) versions.push({ from: null, rates });
    else if ('start_date' in constraint) versions.push({ from: constraint.start_date, rates });
    else timeOfDay.push({ window: { startSecond: secondOfDay(constraint.start_time), endSecond: secondOfDay(constraint.end_time) }, rates });
  });
  versions.sort((a, b) => (a.from ?? '').localeCompare(b.from ?? ''));
  return { versions, timeOfDay };
}

function toPriceRates(prices: z.output<typeof modelPriceSchema>, where: string): PriceRates {
  const token = (key: string): TokenRate | undefined => {
    const value = prices[key];
    if (value === undefined) return undefined;
    if (typeof value === 'number') return toDecimalRate(value, `${where}.${key}`);
    return {
      base: toDecimalRate(value.base, `${where}.${key}.base`),
      tiers: [...value.tiers]
        .sort((a, b) => a.start - b.start)
        .map((tier, index) => ({ start: tier.start, price: toDecimalRate(tier.price, `${where}.${key}.tiers[${index}]`) })),
    };
  };
  // `_kcount` prices are per 1,000.
  const perThousand = (key: string): string | undefined => {
    const value = prices[key];
    return typeof value === 'number' ? toDecimalRate(value / 1000, `${where}.${key}`) : undefined;
  };
  const rates: Record<string, TokenRate | string | undefined> = {
    input: token('input_mtok'),
    output: token('output_mtok'),
    cacheRead: token('cache_read_mtok'),
    cacheWrite: token('cache_write_mtok'),
    cacheWrite1h: token('cache_write_1h_mtok'),
    perRequest: perThousand('requests_kcount'),
    perWebSearch: perThousand('web_searches_kcount'),
  };
  for (const key of Object.keys(rates)) if (rates[key] === undefined) delete rates[key];
  return rates as PriceRates;
}

function secondOfDay(text: string): number {
  const match = /^(\d{2}):(\d{2}):(\d{2})(?:\.\d+)?(Z|[+-]\d{2}:\d{2})$/.exec(text);
  if (!match) throw new RangeError(`invalid time of day "${text}"`);
  const [, hours, minutes, seconds, zone] = match;
  let offset = 0;
  if (zone !== 'Z' && zone) offset = (zone.startsWith('-') ? -1 : 1) * (Number(zone.slice(1, 3)) * 3600 + Number(zone.slice(4, 6)) * 60);
  return (((Number(hours) * 3600 + Number(minutes) * 60 + Number(seconds) - offset) % 86_400) + 86_400) % 86_400;
}
