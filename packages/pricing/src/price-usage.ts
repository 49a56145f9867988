import { formatScaledInteger, type Granularity, toScaledInteger, type UsageAdapterV1PriceInput } from '@utt/core';
import type { PriceEntry } from './price-entry';
import { versionAt } from './price-entry';
import { type PriceRates, TOKEN_RATE_NAMES, type TokenRate, type TokenRateName } from './price-rates';
import type { PriceRegistry, PriceResolution } from './price-registry';
import type { TimeOfDayWindow } from './registry-data';
import { serviceTierMultiplier, serviceTierOf } from './service-tier';

/**
 * What a price needs to know about one record (a token_usage row, or one
 * request of an import): the same shape the adapter contract's pricer takes,
 * so the two can never drift apart.
 */
export type PriceInput = UsageAdapterV1PriceInput;

/** Why a record has no cost. Stored in token_usage.unpriced_reason. */
export type UnpricedReason =
  | 'no_tokens'
  | 'no_price'
  | 'missing_rate'
  | 'service_tier'
  | 'time_of_day';

export type PriceResult =
  | {
      readonly status: 'priced';
      readonly costUsd: string;
      /** Source, key, effective date and modifiers: `genai-prices@0.1.8:anthropic/claude-sonnet-4-5@base;tier>200000`. */
      readonly priceRef: string;
      readonly resolution: PriceResolution;
    }
  | {
      readonly status: 'unpriced';
      readonly reason: UnpricedReason;
      /** The reason with its detail, as stored: `missing_rate:cacheWrite1h`. */
      readonly unpricedReason: string;
      readonly resolution?: PriceResolution;
    };

/** Cost units: 10^-12 USD per million tokens is 10^-18 USD per token; multipliers add 6 more decimals. */
const RATE_DECIMALS = 12;
const MULTIPLIER_DECIMALS = 6;
const COST_DECIMALS = RATE_DECIMALS + 6 + MULTIPLIER_DECIMALS;

const BUCKET_SECONDS: Readonly<Record<Granularity, number>> = { hour: 3600, day: 86_400, month: 31 * 86_400 };

/**
 * Prices one record, every bucket at its own rate: uncached input, output
 * (reasoning is inside it), cache reads, 5-minute and 1-hour cache writes, a
 * per-request fee and web searches where the price has them. Long-context
 * tiers move the whole request; a service tier (batch, flex) multiplies every
 * rate. Anything that cannot be priced exactly is "unpriced" with a reason,
 * never 0.
 */
export function priceUsage(registry: PriceRegistry, input: PriceInput): PriceResult {
  // The token buckets in TOKEN_RATE_NAMES order (input, output, cacheRead, cacheWrite, cacheWrite1h),
  // walked by index: this runs for every row of a cycle, and mostly before the JIT has optimised it.
  const counts: Array<number | null> = [
    input.input_tokens,
    input.output_tokens,
    input.cached_read_tokens,
    input.cached_write_tokens === null ? null : input.cached_write_tokens - (input.cached_write_1h_tokens ?? 0),
    input.cached_write_1h_tokens,
  ];
  if (counts[0] === null && counts[1] === null && counts[2] === null && counts[3] === null && counts[4] === null) return unpriced('no_tokens');
  const resolution = registry.resolve(input.provider, input.model);
  if (!resolution) return unpriced('no_price');
  const { entry } = resolution;

  const version = versionAt(entry, input.bucket_start);
  const modifiers: string[] = [];
  let rates: PriceRates = version.rates;
  if (entry.timeOfDay.length > 0) {
    const span = timeOfDaySpan(entry.timeOfDay, input.bucket_start, input.granularity);
    if (span === 'mixed') return unpriced('time_of_day', 'bucket spans several time-of-day prices', resolution);
    if (span !== undefined) {
      rates = span.rates;
      modifiers.push(`tod=${formatSecond(span.window.startSecond)}-${formatSecond(span.window.endSecond)}`);
    }
  }

  const tier = serviceTierOf(input.labels);
  // A bare config key has no provider of its own: the row's provider is the one that bills.
  const multiplier =
    serviceTierMultiplier(tier, entry.provider.toLowerCase(), entry.serviceTiers) ??
    serviceTierMultiplier(tier, input.provider.trim().toLowerCase(), undefined);
  if (multiplier === undefined) return unpriced('service_tier', tier, resolution);
  if (tier !== '') modifiers.push(`service_tier=${tier}x${multiplier}`);

  const prompt = (input.input_tokens ?? 0) + (input.cached_read_tokens ?? 0) + (input.cached_write_tokens ?? 0);
  const selection = selectTier(rates, prompt, input.requests ?? null, input.labels);
  if (selection.note) modifiers.push(selection.note);

  const plan = pricePlan(entry, version.from, rates, multiplier, selection.above, modifiers);
  const small = plan.small === undefined ? undefined : costInSmallUnits(plan.small, counts, input);
  if (small !== undefined && typeof small !== 'number') return unpriced('missing_rate', small.missing.join(','), resolution);
  if (small !== undefined && plan.small !== undefined) {
    return { status: 'priced', costUsd: formatSafeInteger(small, plan.small.decimals), priceRef: plan.priceRef, resolution };
  }
  let total = 0n;
  let missing: string[] | undefined;
  for (let index = 0; index < TOKEN_RATE_NAMES.length; index += 1) {
    const tokens = counts[index];
    if (tokens === null || tokens === undefined || tokens === 0) continue;
    const rate = plan.tokenRates[index];
    if (rate === undefined) (missing ??= []).push(TOKEN_RATE_NAMES[index] as TokenRateName);
    else total += BigInt(tokens) * rate;
  }
  if (plan.perRequest !== undefined) {
    if (input.requests === null || input.requests === undefined) (missing ??= []).push('requests');
    else total += BigInt(input.requests) * plan.perRequest;
  }
  if (input.web_searches) {
    if (plan.perWebSearch === undefined) (missing ??= []).push('perWebSearch');
    else total += BigInt(input.web_searches) * plan.perWebSearch;
  }
  if (missing !== undefined) return unpriced('missing_rate', missing.join(','), resolution);
  return { status: 'priced', costUsd: formatScaledInteger(total, COST_DECIMALS), priceRef: plan.priceRef, resolution };
}

/**
 * The cost in the plan's small units as a plain number, when every product and
 * the sum stay exact (below 2^53: all terms are non-negative, so a total that
 * is a safe integer proves every partial sum was); the missing rates; or
 * undefined when the numbers are too large and BigInt must do it.
 */
function costInSmallUnits(small: SmallRates, counts: ReadonlyArray<number | null>, input: PriceInput): number | { missing: string[] } | undefined {
  let total = 0;
  let missing: string[] | undefined;
  for (let index = 0; index < TOKEN_RATE_NAMES.length; index += 1) {
    const tokens = counts[index];
    if (tokens === null || tokens === undefined || tokens === 0) continue;
    const rate = small.tokenRates[index];
    if (rate === undefined) (missing ??= []).push(TOKEN_RATE_NAMES[index] as TokenRateName);
    else total += tokens * rate;
  }
  if (small.perRequest !== undefined) {
    if (input.requests === null || input.requests === undefined) (missing ??= []).push('requests');
    else total += input.requests * small.perRequest;
  }
  if (input.web_searches) {
    if (small.perWebSearch === undefined) (missing ??= []).push('perWebSearch');
    else total += input.web_searches * small.perWebSearch;
  }
  if (missing !== undefined) return { missing };
  return Number.isSafeInteger(total) && total >= 0 ? total : undefined;
}

/** A non-negative safe integer of 10^-decimals units as formatScaledInteger writes it. */
function formatSafeInteger(value: number, decimals: number): string {
  const digits = String(value).padStart(decimals + 1, '0');
  const whole = digits.slice(0, digits.length - decimals);
  let end = digits.length;
  while (end > whole.length && digits.charCodeAt(end - 1) === 48) end -= 1;
  return end > whole.length ? `${whole}.${digits.slice(whole.length, end)}` : whole;
}

/**
 * A price made ready for records: each rate as an integer of cost units with
 * the tier chosen and the service-tier multiplier applied, and the price_ref.
 * Records of one model in one price version share it, so a cycle of 16,000
 * rows parses and multiplies its rates a handful of times, not per row; each
 * row is then a few integer multiplications (exact: the multiplier distributes).
 */
type PricePlan = {
  /** In TOKEN_RATE_NAMES order; undefined where the price has no such rate. */
  readonly tokenRates: ReadonlyArray<bigint | undefined>;
  readonly perRequest?: bigint;
  readonly perWebSearch?: bigint;
  readonly priceRef: string;
  /** The same rates divided by their common power of ten, when they fit plain numbers: most rows need no BigInt. */
  readonly small?: SmallRates;
};

/** Rates as integers of 10^-decimals USD per token (or per request, per search). */
type SmallRates = {
  readonly tokenRates: ReadonlyArray<number | undefined>;
  readonly perRequest?: number;
  readonly perWebSearch?: number;
  readonly decimals: number;
};

const plansByRates = new WeakMap<PriceEntry, WeakMap<PriceRates, Map<string, PricePlan>>>();

function pricePlan(entry: PriceEntry, from: string | null, rates: PriceRates, multiplier: string, above: number, modifiers: readonly string[]): PricePlan {
  let byRates = plansByRates.get(entry);
  if (byRates === undefined) plansByRates.set(entry, (byRates = new WeakMap()));
  let plans = byRates.get(rates);
  if (plans === undefined) byRates.set(rates, (plans = new Map()));
  const key = `${from}|${multiplier}|${above}|${modifiers.join(';')}`;
  let plan = plans.get(key);
  if (plan === undefined) {
    const scaledMultiplier = scaledMultiplierOf(multiplier);
    const tokenRates = TOKEN_RATE_NAMES.map((name) => {
      const rate = rates[name];
      return rate === undefined ? undefined : scaledRate(rateAt(rate, above)) * scaledMultiplier;
    });
    const perRequest = rates.perRequest === undefined ? undefined : scaledRate(rates.perRequest) * 1_000_000n * scaledMultiplier;
    const perWebSearch = rates.perWebSearch === undefined ? undefined : scaledRate(rates.perWebSearch) * 1_000_000n * scaledMultiplier;
    plan = {
      tokenRates,
      perRequest,
      perWebSearch,
      priceRef: [`${entry.sourceLabel}:${entry.key}@${from ?? 'base'}`, ...modifiers].join(';'),
      small: smallRates(tokenRates, perRequest, perWebSearch),
    };
    // Tiers chosen per request size could make many plans: keep the cache bounded.
    if (plans.size < 1_000) plans.set(key, plan);
  }
  return plan;
}

/** The rates divided by the largest power of ten that divides them all, if each is then a safe integer. */
function smallRates(
  tokenRates: ReadonlyArray<bigint | undefined>,
  perRequest: bigint | undefined,
  perWebSearch: bigint | undefined,
): SmallRates | undefined {
  const all = [...tokenRates, perRequest, perWebSearch].filter((rate): rate is bigint => rate !== undefined);
  if (all.some((rate) => rate < 0n)) return undefined;
  let shift = 0;
  let divisor = 1n;
  while (shift < COST_DECIMALS && all.every((rate) => rate % (divisor * 10n) === 0n)) {
    divisor *= 10n;
    shift += 1;
  }
  const toSmall = (rate: bigint | undefined) => (rate === undefined ? undefined : Number(rate / divisor));
  const small = tokenRates.map(toSmall);
  const result = { tokenRates: small, perRequest: toSmall(perRequest), perWebSearch: toSmall(perWebSearch), decimals: COST_DECIMALS - shift };
  const values = [...small, result.perRequest, result.perWebSearch].filter((rate): rate is number => rate !== undefined);
  return values.every((rate) => Number.isSafeInteger(rate)) ? result : undefined;
}

const scaledMultipliers = new Map<string, bigint>();

function scaledMultiplierOf(multiplier: string): bigint {
  let scaled = scaledMultipliers.get(multiplier);
  if (scaled === undefined) {
    scaled = toScaledInteger(multiplier, MULTIPLIER_DECIMALS);
    if (scaledMultipliers.size < 1_000) scaledMultipliers.set(multiplier, scaled);
  }
  return scaled;
}

function unpriced(reason: UnpricedReason, detail?: string, resolution?: PriceResolution): PriceResult {
  return { status: 'unpriced', reason, unpricedReason: detail ? `${reason}:${detail}` : reason, resolution };
}

type TierSelection = {
  /** The prompt size the tier is chosen for; 0 means the base rate. */
  readonly above: number;
  readonly note?: string;
};

/**
 * Tier thresholds apply per request. A single request (requests = 1) is
 * judged by its prompt; a bucket whose whole prompt is under the threshold
 * holds no request over it; Anthropic's `context_window` label ("200k-1M")
 * says which side a grouped row is on. Otherwise the request sizes are
 * unknown: the base rate is used and the price_ref says it was assumed.
 */
function selectTier(
  rates: PriceRates,
  prompt: number,
  requests: number | null,
  labels: Readonly<Record<string, string>> | undefined,
): TierSelection {
  const starts = tierStarts(rates);
  if (starts.length === 0) return { above: 0 };
  const lowest = starts.lowest;
  const window = labels?.context_window ?? labels?.contextWindow;
  const lowerBound = window === undefined ? undefined : parseWindowLowerBound(window);
  if (lowerBound !== undefined) {
    // "200k-1M" holds requests of more than 200k prompt tokens.
    const above = lowerBound >= lowest ? lowerBound + 1 : 0;
    return { above, note: above > 0 ? `tier>${largestStartBelow(starts, above)}` : undefined };
  }
  if (prompt <= lowest) return { above: 0 };
  if (requests === 1) return { above: prompt, note: `tier>${largestStartBelow(starts, prompt)}` };
  return { above: 0, note: 'tier=assumed-base' };
}

const tierStartsByRates = new WeakMap<PriceRates, readonly number[] & { readonly lowest: number }>();

/** The tier thresholds of a set of rates, found once per set (a file prices the same rates a million times). */
function tierStarts(rates: PriceRates): readonly number[] & { readonly lowest: number } {
  let starts = tierStartsByRates.get(rates);
  if (starts === undefined) {
    const found = Object.values(rates)
      .filter((rate): rate is Exclude<TokenRate, string> => typeof rate === 'object')
      .flatMap((rate) => rate.tiers.map((tier) => tier.start));
    starts = Object.assign(found, { lowest: found.length === 0 ? 0 : Math.min(...found) });
    tierStartsByRates.set(rates, starts);
  }
  return starts;
}

const scaledRates = new Map<string, bigint>();

/** A decimal rate as an integer of 10^-RATE_DECIMALS, parsed once per distinct rate. */
function scaledRate(rate: string): bigint {
  let scaled = scaledRates.get(rate);
  if (scaled === undefined) {
    scaled = toScaledInteger(rate, RATE_DECIMALS);
    if (scaledRates.size < 100_000) scaledRates.set(rate, scaled);
  }
  return scaled;
}

function largestStartBelow(starts: readonly number[], prompt: number): number {
  return Math.max(...starts.filter((start) => prompt > start));
}

function parseWindowLowerBound(label: string): number | undefined {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([kKmM]?)\s*-/.exec(label);
  if (!match) return undefined;
  const unit = match[2]?.toLowerCase() === 'k' ? 1_000 : match[2]?.toLowerCase() === 'm' ? 1_000_000 : 1;
  return Math.round(Number(match[1]) * unit);
}

/** genai-prices semantics: a request with a prompt larger than a tier's start pays that tier's price. */
export function rateAt(rate: TokenRate, prompt: number): string {
  if (typeof rate === 'string') return rate;
  let price = rate.base;
  for (const tier of rate.tiers) if (prompt > tier.start) price = tier.price;
  return price;
}

type TimeOfDayPrice = PriceEntry['timeOfDay'][number];

/**
 * The time-of-day price that applies to the whole bucket, undefined when none
 * does (the dated price applies), or 'mixed' when the bucket straddles a
 * boundary: a day bucket of a provider with off-peak prices cannot be priced
 * exactly from its totals.
 */
function timeOfDaySpan(prices: readonly TimeOfDayPrice[], start: Date, granularity: Granularity | undefined): TimeOfDayPrice | undefined | 'mixed' {
  const length = granularity === undefined ? 0 : BUCKET_SECONDS[granularity];
  const first = (start.getTime() / 1000) % 86_400;
  const inside = (window: TimeOfDayWindow, second: number) => {
    const at = ((second % 86_400) + 86_400) % 86_400;
    return window.endSecond < window.startSecond
      ? at >= window.startSecond || at < window.endSecond
      : at >= window.startSecond && at < window.endSecond;
  };
  const at = (second: number) => {
    // Later entries win, as in genai-prices.
    for (let index = prices.length - 1; index >= 0; index -= 1) {
      const price = prices[index] as TimeOfDayPrice;
      if (inside(price.window, second)) return price;
    }
    return undefined;
  };
  const chosen = at(first);
  if (length >= 86_400) {
    for (let second = 0; second < 86_400; second += 60) if (at(second) !== chosen) return 'mixed';
    return chosen;
  }
  for (let second = first; second < first + length; second += 60) if (at(second) !== chosen) return 'mixed';
  return chosen;
}

function formatSecond(second: number): string {
  const hours = Math.floor(second / 3600);
  const minutes = Math.floor((second % 3600) / 60);
  return `${String(hours).padStart(2, '0')}:${String(minutes).padStart(2, '0')}`;
}
