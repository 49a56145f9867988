import type { PriceEntry, PriceRates, PriceRegistry, PriceResolution } from '@utt/pricing';
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

export type CallPrice = {
  costUsd: string | null;
  priceRef: string | null;
  unpricedReason: string | null;
  /** Number(costUsd) when the pricer has it at hand (the same double: an integer count of 10^-12 USD divided by 10^12). */
  costNumber?: number;
};

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

/**
 * A model's price reduced to what one call needs when the price is linear:
 * each bucket's rate as an integer count of 10^-6 USD per million tokens
 * (10^-12 USD per token), valid while the same dated version is in force.
 */
type LinearPlan = {
  readonly rates: readonly [number | undefined, number | undefined, number | undefined, number | undefined, number | undefined];
  /** The lowest long-context tier start: a prompt above it is priced by priceUsage. */
  readonly lowestTier: number;
  readonly priceRef: string;
  readonly validFrom: number;
  readonly validUntil: number;
};

const RATE_SCALE = 1_000_000;
const UNITS_PER_USD = 1_000_000_000_000;
const BUCKETS = ['input', 'output', 'cacheRead', 'cacheWrite', 'cacheWrite1h'] as const;

function scaledRate(rate: string): number | undefined {
  const match = /^(\d+)(?:\.(\d{0,6}))?$/.exec(rate.trim());
  if (!match) return undefined;
  const value = Number(match[1]) * RATE_SCALE + Number((match[2] ?? '').padEnd(6, '0'));
  return Number.isSafeInteger(value) ? value : undefined;
}

function compilePlan(entry: PriceEntry, at: number): LinearPlan | null {
  if (entry.timeOfDay.length > 0) return null;
  let index = 0;
  for (let candidate = 0; candidate < entry.versions.length; candidate += 1) {
    const from = entry.versions[candidate]?.from;
    if (from === null || from === undefined || new Date(`${from}T00:00:00Z`).getTime() <= at) index = candidate;
  }
  const version = entry.versions[index];
  if (!version) return null;
  const rates: PriceRates = version.rates;
  if (rates.perRequest !== undefined) return null;
  let lowestTier = Number.POSITIVE_INFINITY;
  const scaled = BUCKETS.map((name) => {
    const rate = rates[name];
    if (rate === undefined) return undefined;
    if (typeof rate === 'string') return scaledRate(rate) ?? Number.NaN;
    for (const tier of rate.tiers) lowestTier = Math.min(lowestTier, tier.start);
    return scaledRate(rate.base) ?? Number.NaN;
  });
  if (scaled.some((rate) => Number.isNaN(rate))) return null;
  const next = entry.versions[index + 1]?.from;
  return {
    rates: scaled as unknown as LinearPlan['rates'],
    lowestTier,
    priceRef: `${entry.sourceLabel}:${entry.key}@${version.from ?? 'base'}`,
    validFrom: version.from ? new Date(`${version.from}T00:00:00Z`).getTime() : Number.NEGATIVE_INFINITY,
    validUntil: next ? new Date(`${next}T00:00:00Z`).getTime() : Number.POSITIVE_INFINITY,
  };
}

/** An integer count of 10^-12 USD as priceUsage writes it: a plain decimal without trailing zeros. */
function formatUnits(units: number): string {
  const whole = Math.floor(units / UNITS_PER_USD);
  const fraction = units - whole * UNITS_PER_USD;
  if (fraction === 0) return String(whole);
  const digits = String(fraction).padStart(12, '0');
  let end = digits.length;
  while (digits.charCodeAt(end - 1) === 48) end -= 1; // trailing '0's
  return `${whole}.${digits.slice(0, end)}`;
}

/**
 * Prices calls exactly as @utt/pricing's priceUsage does (every bucket at its
 * own rate, the dated version in force at the call's time), with the common
 * case compiled: a standard-tier call of a model whose price is linear at the
 * call's size costs a few integer multiplications. Everything else (service
 * tiers, long-context tiers, time-of-day prices, per-request fees, web
 * searches, missing rates, sums too large for exact integers) goes through
 * priceUsage itself. A test checks both paths agree.
 */
export function createCallPricer(registry: PriceRegistry) {
  // provider → model → plan: no key string is built per call.
  const plans = new Map<string, Map<string, LinearPlan | null>>();
  let planned = 0;
  // The last model's plan: a service's calls mostly go to one model, and two map lookups are two more cold structures per call.
  let lastProvider: string | undefined;
  let lastModel: string | undefined;
  let lastPlan: LinearPlan | null = null;
  const planFor = (provider: string, model: string, at: number): LinearPlan | null => {
    if (lastPlan !== null && model === lastModel && provider === lastProvider && at >= lastPlan.validFrom && at < lastPlan.validUntil) return lastPlan;
    const plan = lookUpPlan(provider, model, at);
    lastProvider = provider;
    lastModel = model;
    lastPlan = plan;
    return plan;
  };
  const lookUpPlan = (provider: string, model: string, at: number): LinearPlan | null => {
    let byModel = plans.get(provider);
    if (!byModel) {
      byModel = new Map();
      plans.set(provider, byModel);
    }
    let plan = byModel.get(model);
    if (plan === undefined || (plan !== null && (at < plan.validFrom || at >= plan.validUntil))) {
      const resolution = registry.resolve(provider, model);
      plan = resolution ? compilePlan(resolution.entry, at) : null;
      if (planned >= MAX_CACHED_MODELS) {
        plans.clear();
        planned = 0;
        byModel = new Map();
        plans.set(provider, byModel);
      }
      planned += 1;
      byModel.set(model, plan);
    }
    return plan;
  };
  return (call: PricedTokens): CallPrice => {
    if (call.serviceTier === '' && !call.webSearches) {
      const plan = planFor(call.provider, call.model, call.occurredAt.getTime());
      if (plan !== null) {
        const write1h = call.cachedWrite1hTokens;
        const counts = [
          call.inputTokens,
          call.outputTokens,
          call.cachedReadTokens,
          call.cachedWriteTokens === null ? null : call.cachedWriteTokens - (write1h ?? 0),
          write1h,
        ];
        const prompt = (call.inputTokens ?? 0) + (call.cachedReadTokens ?? 0) + (call.cachedWriteTokens ?? 0);
        let units = 0;
        let any = false;
        let linear = prompt <= plan.lowestTier;
        for (let index = 0; index < 5 && linear; index += 1) {
          const tokens = counts[index];
          if (tokens === null || tokens === undefined) continue;
          any = true;
          if (tokens === 0) continue;
          const rate = plan.rates[index];
          if (rate === undefined) linear = false;
          else units += tokens * rate;
        }
        if (linear && any && Number.isSafeInteger(units)) return { costUsd: formatUnits(units), priceRef: plan.priceRef, unpricedReason: null, costNumber: units / UNITS_PER_USD };
      }
    }
    return priceCall(registry, call);
  };
}

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
