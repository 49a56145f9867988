import {
  formatScaledInteger,
  type Granularity,
  toScaledInteger,
  type UsageAdapterV1PlanUsage,
  type UsageAdapterV1PriceInput,
  type UsageAdapterV1PricePlan,
} from '@utt/core';
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

/**
 * Why pricing gave a record no cost, stored in token_usage.unpriced_reason
 * (with a detail after a colon). Other reasons there were given by whoever
 * wrote the row (usage that never arrived, ambiguous buckets): no price
 * can fill those.
 */
export const UNPRICED_REASONS = ['no_tokens', 'no_price', 'missing_rate', 'service_tier', 'time_of_day'] as const;

export type UnpricedReason = (typeof UNPRICED_REASONS)[number];

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

/**
 * The rates chosen for one request (see UsageAdapterV1PricePlan): one object
 * per distinct plan, so the requests of a bucket can be grouped by it, their
 * tokens summed, and the sum priced once, to exactly the sum of their costs.
 */
export type PricePlan = UsageAdapterV1PricePlan;

/** A request's plan, or why it has no cost: the decision of priceUsage without its arithmetic. */
export type PriceQuote =
  | { readonly status: 'priced'; readonly plan: PricePlan; readonly resolution: PriceResolution }
  | Extract<PriceResult, { readonly status: 'unpriced' }>;

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
  const quote = quoteUsage(registry, input);
  if (quote.status !== 'priced') return quote;
  const plan = quote.plan as RatePlan;
  return { status: 'priced', costUsd: plan.costOfRecord(input), priceRef: plan.priceRef, resolution: quote.resolution };
}

/**
 * The plan priceUsage would price one record with, or the reason it would
 * leave it unpriced (the same reason). `plan.costUnits` of the record's
 * tokens is its cost; of the summed tokens of several records quoted the same
 * plan, the sum of their costs.
 */
export function quoteUsage(registry: PriceRegistry, input: PriceInput): PriceQuote {
  if (!hasTokens(input)) return unpriced('no_tokens');
  const resolution = registry.resolve(input.provider, input.model);
  if (!resolution) return unpriced('no_price');
  const dated = datedRates(resolution, input.bucket_start, input.granularity);
  if (dated === 'mixed') return unpriced('time_of_day', 'bucket spans several time-of-day prices', resolution);
  const tier = serviceTierOf(input.labels);
  const multiplier = multiplierOf(resolution.entry, tier, input.provider);
  if (multiplier === undefined) return unpriced('service_tier', tier, resolution);
  return quoteAtRates(resolution, dated, tier, multiplier, input);
}

/**
 * quoteUsage for a stream of records, remembering what records of the same
 * model, labels and bucket share (the registry lookup, the dated rates, the
 * service tier), so that a file of a million requests of one model pays for
 * them a few thousand times, not a million. Same results as quoteUsage.
 */
export function createQuoter(registry: PriceRegistry): (input: PriceInput) => PriceQuote {
  const plans = new PlanFinder(registry);
  return (input) => {
    const plan = plans.find(input);
    return plan instanceof RatePlan ? { status: 'priced', plan, resolution: plans.resolution as PriceResolution } : plan;
  };
}

/**
 * priceUsage for a stream of records (a cycle's rows, a file's requests), with
 * what createQuoter remembers: the registry is asked once per model, the rates
 * of a model become a plan once per price version, service tier and
 * long-context tier, and each record is then a few multiplications of its
 * token counts by the plan's rates. Same results as priceUsage, to the digit.
 */
export function createUsagePricer(registry: PriceRegistry): (input: PriceInput) => PriceResult {
  const plans = new PlanFinder(registry);
  return (input) => {
    const plan = plans.find(input);
    if (!(plan instanceof RatePlan)) return plan;
    return { status: 'priced', costUsd: plan.costOfRecord(input), priceRef: plan.priceRef, resolution: plans.resolution as PriceResolution };
  };
}

type Unpriced = Extract<PriceResult, { readonly status: 'unpriced' }>;

/** The plan of each record of a stream, what records share remembered (createQuoter, createUsagePricer). */
class PlanFinder {
  #lastLabels: PriceInput['labels'] | null = null;
  #lastTier = '';
  #last: ModelContext | undefined;
  // Every model seen, so that a file interleaving a few models finds each one's context again (bounded).
  readonly #byModel = new Map<string, ModelContext>();
  /** The resolution of the record last given a plan (set whenever find returns a plan). */
  resolution: PriceResolution | undefined;

  constructor(readonly registry: PriceRegistry) {}

  find(input: PriceInput): RatePlan | Unpriced {
    if (!hasTokens(input)) return unpriced('no_tokens');
    let tier = this.#lastTier;
    if (input.labels !== this.#lastLabels) {
      // Only the service tier of the labels matters here; rows often bring labels of their own.
      tier = serviceTierOf(input.labels);
      this.#lastLabels = input.labels;
      this.#lastTier = tier;
    }
    let context = this.#last;
    if (context === undefined || !context.fits(input, tier)) {
      context = this.#byModel.get(input.model);
      if (context === undefined || !context.fits(input, tier)) {
        const resolution = this.registry.resolve(input.provider, input.model);
        if (!resolution) return unpriced('no_price');
        context = new ModelContext(input.provider, input.model, resolution, tier, multiplierOf(resolution.entry, tier, input.provider), input.granularity);
        if (this.#byModel.size >= 1_000) this.#byModel.clear();
        this.#byModel.set(input.model, context);
      }
      this.#last = context;
    }
    const dated = context.ratesAt(input.bucket_start, input.granularity);
    if (dated === 'mixed') return unpriced('time_of_day', 'bucket spans several time-of-day prices', context.resolution);
    if (context.multiplier === undefined) return unpriced('service_tier', tier, context.resolution);
    this.resolution = context.resolution;
    return planAtRates(context.resolution, dated, tier, context.multiplier, input, context.plansFor(dated, context.multiplier));
  }
}

/** What every record of one model, provider, service tier and granularity shares, whatever its bucket. */
class ModelContext {
  /** The rates by bucket start, for a price with several versions or time-of-day prices (bounded). */
  readonly #byBucket = new Map<number, DatedRates | 'mixed'>();
  readonly #fixed: DatedRates | undefined;
  #lastDated: DatedRates | undefined;
  #lastPlans: DatedPlans | undefined;

  constructor(
    readonly provider: string,
    readonly model: string,
    readonly resolution: PriceResolution,
    readonly tier: string,
    /** Undefined when nobody publishes a multiplier for the tier. */
    readonly multiplier: string | undefined,
    readonly granularity: Granularity | undefined,
  ) {
    const { entry } = resolution;
    if (entry.timeOfDay.length === 0 && entry.versions.length === 1) {
      this.#fixed = datedRates(resolution, new Date(0), granularity) as DatedRates;
    }
  }

  /** Whether a record of this provider, model, granularity and service tier shares this context. */
  fits(input: PriceInput, tier: string): boolean {
    return input.model === this.model && input.provider === this.provider && input.granularity === this.granularity && tier === this.tier;
  }

  ratesAt(bucketStart: Date, granularity: Granularity | undefined): DatedRates | 'mixed' {
    if (this.#fixed !== undefined) return this.#fixed;
    const time = bucketStart.getTime();
    let dated = this.#byBucket.get(time);
    if (dated === undefined) {
      dated = datedRates(this.resolution, bucketStart, granularity);
      if (this.#byBucket.size >= 10_000) this.#byBucket.clear();
      this.#byBucket.set(time, dated);
    }
    return dated;
  }

  /** The plans of the tier here at these rates, the last ones asked for at hand. */
  plansFor(dated: DatedRates, multiplier: string): DatedPlans {
    if (dated !== this.#lastDated || this.#lastPlans === undefined) {
      this.#lastPlans = datedPlans(dated, this.tier, multiplier);
      this.#lastDated = dated;
    }
    return this.#lastPlans;
  }
}

function hasTokens(input: PriceInput): boolean {
  return (
    input.input_tokens !== null ||
    input.output_tokens !== null ||
    input.cached_read_tokens !== null ||
    input.cached_write_tokens !== null ||
    input.cached_write_1h_tokens !== null
  );
}

/** A bare config key has no provider of its own: the row's provider is the one that bills. */
function multiplierOf(entry: PriceEntry, tier: string, provider: string): string | undefined {
  return serviceTierMultiplier(tier, entry.provider.toLowerCase(), entry.serviceTiers) ?? serviceTierMultiplier(tier, provider.trim().toLowerCase(), undefined);
}

/** The rates in force for a bucket: its price version, or the time-of-day price that covers it. */
type DatedRates = {
  readonly from: string | null;
  readonly rates: PriceRates;
  readonly timeOfDay?: string;
};

function datedRates(resolution: PriceResolution, bucketStart: Date, granularity: Granularity | undefined): DatedRates | 'mixed' {
  const { entry } = resolution;
  const version = versionAt(entry, bucketStart);
  if (entry.timeOfDay.length === 0) return version;
  const span = timeOfDaySpan(entry.timeOfDay, bucketStart, granularity);
  if (span === 'mixed') return 'mixed';
  if (span === undefined) return version;
  return { from: version.from, rates: span.rates, timeOfDay: `tod=${formatSecond(span.window.startSecond)}-${formatSecond(span.window.endSecond)}` };
}

/** The per-request part of a quote: the long-context tier by the request's prompt, and the rates its tokens need. */
function quoteAtRates(resolution: PriceResolution, dated: DatedRates, tier: string, multiplier: string, input: PriceInput): PriceQuote {
  const plan = planAtRates(resolution, dated, tier, multiplier, input, datedPlans(dated, tier, multiplier));
  return plan instanceof RatePlan ? { status: 'priced', plan, resolution } : plan;
}

/** Plans of one set of dated rates and service tier, by tier thresholds passed, and the thresholds. */
type DatedPlans = {
  readonly starts: readonly number[] & { readonly lowest: number };
  readonly byPassed: Map<number, RatePlan>;
};

/** Plans by dated rates and service tier with its multiplier (a few per model). */
const plansByDated = new WeakMap<DatedRates, Map<string, DatedPlans>>();

function datedPlans(dated: DatedRates, tier: string, multiplier: string): DatedPlans {
  let byTier = plansByDated.get(dated);
  if (byTier === undefined) plansByDated.set(dated, (byTier = new Map()));
  // The multiplier too: a bare config key's tier multiplier comes from the row's provider.
  const key = tier === '' ? '' : `${tier}x${multiplier}`;
  let plans = byTier.get(key);
  if (plans === undefined) byTier.set(key, (plans = { starts: tierStarts(dated.rates), byPassed: new Map() }));
  return plans;
}

function planAtRates(resolution: PriceResolution, dated: DatedRates, tier: string, multiplier: string, input: PriceInput, plans: DatedPlans): RatePlan | Unpriced {
  const prompt = (input.input_tokens ?? 0) + (input.cached_read_tokens ?? 0) + (input.cached_write_tokens ?? 0);
  const starts = plans.starts;
  const labels = input.labels;
  const requests = input.requests ?? null;
  // The plan depends on the request only through the tier thresholds it passes (0: none; -1: base rate assumed):
  // found by that number, without building a key, a tier selection or a note per request.
  const passed =
    starts.length > 0 && (prompt > starts.lowest || labels?.context_window !== undefined || labels?.contextWindow !== undefined)
      ? thresholdsPassed(starts, prompt, requests, labels)
      : 0;
  let plan = plans.byPassed.get(passed);
  if (plan === undefined) {
    plan = pricePlan(resolution.entry, dated, tier === '' ? undefined : `service_tier=${tier}x${multiplier}`, multiplier, tierSelection(passed));
    plans.byPassed.set(passed, plan);
  }
  const missing = plan.missingRates(input);
  if (missing !== undefined) return unpriced('missing_rate', missing, resolution);
  return plan;
}

/**
 * A price made ready for records: each rate as an integer of cost units with
 * the tier chosen and the service-tier multiplier applied, and the price_ref.
 * Records of one model in one price version share it, so a cycle of 16,000
 * rows parses and multiplies its rates a handful of times, not per row; each
 * row is then a few integer multiplications (exact: the multiplier distributes).
 */
class RatePlan implements PricePlan {
  readonly costDecimals = COST_DECIMALS;
  /** The same rates divided by their common power of ten, when they fit plain numbers: most rows need no BigInt. */
  readonly #small: SmallRates | undefined;
  /** Every token rate present. */
  readonly #complete: boolean;

  constructor(
    readonly priceRef: string,
    /** In TOKEN_RATE_NAMES order; undefined where the price has no such rate. */
    readonly tokenRates: ReadonlyArray<bigint | undefined>,
    readonly perRequest: bigint | undefined,
    readonly perWebSearch: bigint | undefined,
  ) {
    this.#small = smallRates(tokenRates, perRequest, perWebSearch);
    this.#complete = tokenRates.every((rate) => rate !== undefined);
  }

  costUnits(usage: UsageAdapterV1PlanUsage): bigint {
    const counts = [usage.input_tokens, usage.output_tokens, usage.cached_read_tokens, usage.cached_write_5m_tokens, usage.cached_write_1h_tokens];
    let total = 0n;
    for (let index = 0; index < TOKEN_RATE_NAMES.length; index += 1) {
      const tokens = counts[index] as number;
      if (tokens === 0) continue;
      const rate = this.tokenRates[index];
      if (rate === undefined) throw new RangeError(`${this.priceRef} has no ${TOKEN_RATE_NAMES[index]} rate: quote each request before summing its tokens`);
      total += BigInt(tokens) * rate;
    }
    if (this.perRequest !== undefined) total += BigInt(usage.requests) * this.perRequest;
    if (usage.web_searches !== 0) {
      if (this.perWebSearch === undefined) throw new RangeError(`${this.priceRef} has no perWebSearch rate: quote each request before summing its tokens`);
      total += BigInt(usage.web_searches) * this.perWebSearch;
    }
    return total;
  }

  /** The rates one record needs and this plan lacks (comma-separated), or undefined. */
  missingRates(input: PriceInput): string | undefined {
    const rates = this.tokenRates;
    const cacheWrite = input.cached_write_tokens;
    // Most plans have every rate: nothing to look at then.
    if (this.#complete && (this.perRequest === undefined || (input.requests !== null && input.requests !== undefined)) && !input.web_searches) return undefined;
    let missing: string[] | undefined;
    const counts = [input.input_tokens, input.output_tokens, input.cached_read_tokens, cacheWrite === null ? null : cacheWrite - (input.cached_write_1h_tokens ?? 0), input.cached_write_1h_tokens];
    for (let index = 0; index < TOKEN_RATE_NAMES.length; index += 1) {
      const tokens = counts[index];
      if (tokens === null || tokens === undefined || tokens === 0) continue;
      if (rates[index] === undefined) (missing ??= []).push(TOKEN_RATE_NAMES[index] as TokenRateName);
    }
    if (this.perRequest !== undefined && (input.requests === null || input.requests === undefined)) (missing ??= []).push('requests');
    if (input.web_searches && this.perWebSearch === undefined) (missing ??= []).push('perWebSearch');
    return missing?.join(',');
  }

  /** The cost of one record quoted this plan, as a decimal string. */
  costOfRecord(input: PriceInput): string {
    const small = this.#small;
    if (small !== undefined) {
      const units = costInSmallUnits(small, input);
      if (units !== undefined) return formatSafeInteger(units, small.decimals);
    }
    const cacheWrite = input.cached_write_tokens;
    return formatScaledInteger(
      this.costUnits({
        input_tokens: input.input_tokens ?? 0,
        output_tokens: input.output_tokens ?? 0,
        cached_read_tokens: input.cached_read_tokens ?? 0,
        cached_write_5m_tokens: cacheWrite === null ? 0 : cacheWrite - (input.cached_write_1h_tokens ?? 0),
        cached_write_1h_tokens: input.cached_write_1h_tokens ?? 0,
        requests: input.requests ?? 0,
        web_searches: input.web_searches ?? 0,
      }),
      COST_DECIMALS,
    );
  }
}

/**
 * The cost in the plan's small units as a plain number, when every product and
 * the sum stay exact (below 2^53: all terms are non-negative, so a total that
 * is a safe integer proves every partial sum was), or undefined when the
 * numbers are too large and BigInt must do it. The rates the record's tokens
 * need are known present (missingRates); a NULL or 0 bucket adds nothing.
 */
function costInSmallUnits(small: SmallRates, input: PriceInput): number | undefined {
  const rates = small.tokenRates;
  let total = 0;
  const cacheWrite = input.cached_write_tokens;
  const oneHour = input.cached_write_1h_tokens;
  if (input.input_tokens) total += input.input_tokens * (rates[0] as number);
  if (input.output_tokens) total += input.output_tokens * (rates[1] as number);
  if (input.cached_read_tokens) total += input.cached_read_tokens * (rates[2] as number);
  if (cacheWrite !== null && cacheWrite !== undefined && cacheWrite - (oneHour ?? 0) !== 0) total += (cacheWrite - (oneHour ?? 0)) * (rates[3] as number);
  if (oneHour) total += oneHour * (rates[4] as number);
  if (small.perRequest !== undefined) total += (input.requests ?? 0) * small.perRequest;
  if (input.web_searches) total += input.web_searches * (small.perWebSearch as number);
  return Number.isSafeInteger(total) && total >= 0 ? total : undefined;
}

/** Powers of ten that doubles hold exactly (10^22 is the last). */
const POWERS_OF_TEN = Array.from({ length: 23 }, (_, power) => 10 ** power);

/**
 * A non-negative safe integer of 10^-decimals units as formatScaledInteger
 * writes it. Split by arithmetic, which is exact here (a remainder of doubles
 * is exact, and so is dividing an integer by a power of ten that divides it):
 * a row's cost costs one or two short strings, not five.
 */
export function formatSafeInteger(value: number, decimals: number): string {
  const scale = POWERS_OF_TEN[decimals];
  if (scale === undefined) return formatSafeIntegerAsText(value, decimals);
  let fraction = value % scale;
  const whole = (value - fraction) / scale;
  if (fraction === 0) return String(whole);
  let digits = decimals;
  while (fraction % 10 === 0) {
    fraction /= 10;
    digits -= 1;
  }
  const text = String(fraction);
  return `${whole}.${text.length < digits ? '0'.repeat(digits - text.length) : ''}${text}`;
}

function formatSafeIntegerAsText(value: number, decimals: number): string {
  const digits = String(value).padStart(decimals + 1, '0');
  const whole = digits.slice(0, digits.length - decimals);
  let end = digits.length;
  while (end > whole.length && digits.charCodeAt(end - 1) === 48) end -= 1;
  return end > whole.length ? `${whole}.${digits.slice(whole.length, end)}` : whole;
}

/** Rates as integers of 10^-decimals USD per token (or per request, per search). */
type SmallRates = {
  readonly tokenRates: ReadonlyArray<number | undefined>;
  readonly perRequest?: number;
  readonly perWebSearch?: number;
  readonly decimals: number;
};

const plansByRates = new WeakMap<PriceEntry, WeakMap<PriceRates, Map<string, RatePlan>>>();

/**
 * The plan for a price version (or time-of-day price), a service tier and a
 * long-context tier: one object per distinct plan. The tier is keyed by the
 * thresholds the prompt passed, not by the prompt, so requests of every size
 * above a threshold share one plan.
 */
function pricePlan(entry: PriceEntry, dated: DatedRates, serviceTier: string | undefined, multiplier: string, selection: TierSelection): RatePlan {
  const { rates, from } = dated;
  let byRates = plansByRates.get(entry);
  if (byRates === undefined) plansByRates.set(entry, (byRates = new WeakMap()));
  let plans = byRates.get(rates);
  if (plans === undefined) byRates.set(rates, (plans = new Map()));
  const above = selection.above;
  const key = `${from}|${multiplier}|${above}|${dated.timeOfDay ?? ''}|${serviceTier ?? ''}|${selection.note ?? ''}`;
  let plan = plans.get(key);
  if (plan === undefined) {
    const scaledMultiplier = scaledMultiplierOf(multiplier);
    const tokenRates = TOKEN_RATE_NAMES.map((name) => {
      const rate = rates[name];
      return rate === undefined ? undefined : scaledRate(rateAt(rate, above)) * scaledMultiplier;
    });
    const perRequest = rates.perRequest === undefined ? undefined : scaledRate(rates.perRequest) * 1_000_000n * scaledMultiplier;
    const perWebSearch = rates.perWebSearch === undefined ? undefined : scaledRate(rates.perWebSearch) * 1_000_000n * scaledMultiplier;
    const modifiers = [dated.timeOfDay, serviceTier, selection.note].filter((modifier): modifier is string => modifier !== undefined);
    plan = new RatePlan([`${entry.sourceLabel}:${entry.key}@${from ?? 'base'}`, ...modifiers].join(';'), tokenRates, perRequest, perWebSearch);
    // Keyed by thresholds, not sizes, the plans of one set of rates are few; the bound is a guard.
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

function unpriced(reason: UnpricedReason, detail?: string, resolution?: PriceResolution): Extract<PriceResult, { readonly status: 'unpriced' }> {
  return { status: 'unpriced', reason, unpricedReason: detail ? `${reason}:${detail}` : reason, resolution };
}

type TierSelection = {
  /** One more than the largest tier threshold the prompt passed (the smallest prompt of that tier); 0 means the base rate. */
  readonly above: number;
  readonly note?: string;
};

/**
 * Tier thresholds apply per request. A single request (requests = 1) is
 * judged by its prompt; a bucket whose whole prompt is under the threshold
 * holds no request over it; Anthropic's `context_window` label ("200k-1M")
 * says which side a grouped row is on. Otherwise the request sizes are
 * unknown: the base rate is used and the price_ref says it was assumed.
 *
 * The choice as a number, which is all a plan depends on: 0 for the base
 * rate, -1 for the base rate assumed, else one more than the largest
 * threshold passed.
 */
function thresholdsPassed(starts: readonly number[] & { readonly lowest: number }, prompt: number, requests: number | null, labels: Readonly<Record<string, string>> | undefined): number {
  const lowest = starts.lowest;
  const window = labels?.context_window ?? labels?.contextWindow;
  const lowerBound = window === undefined ? undefined : parseWindowLowerBound(window);
  if (lowerBound !== undefined) return lowerBound >= lowest ? largestStartBelow(starts, lowerBound + 1) + 1 : 0;
  if (prompt <= lowest) return 0;
  if (requests === 1) return largestStartBelow(starts, prompt) + 1;
  return -1;
}

/** The tier thresholdsPassed chose, with the note the price_ref carries. */
function tierSelection(passed: number): TierSelection {
  if (passed === 0) return { above: 0 };
  if (passed === -1) return { above: 0, note: 'tier=assumed-base' };
  return { above: passed, note: `tier>${passed - 1}` };
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

/** The largest threshold below the prompt (-Infinity if none), without an array per call. */
function largestStartBelow(starts: readonly number[], prompt: number): number {
  let largest = Number.NEGATIVE_INFINITY;
  for (const start of starts) if (prompt > start && start > largest) largest = start;
  return largest;
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
