import { toScaledInteger, type UsageAdapterV1PlanUsage } from '@utt/core';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { createPricer } from './create-pricer';
import { loadPriceRegistry } from './load-price-registry';
import type { PriceRegistry } from './price-registry';
import { createQuoter, createUsagePricer, type PriceInput, type PricePlan, priceUsage, quoteUsage } from './price-usage';

let registry: PriceRegistry;
beforeAll(async () => {
  registry = await loadPriceRegistry({
    overrides: {
      // Rates with 12 decimals (rounding would show), a long-context tier, a per-request fee and a batch multiplier.
      'acme/tiered': {
        input: '1.234567890123',
        output: 7,
        cacheRead: '0.1',
        cacheWrite: '1.5',
        cacheWrite1h: '2.000000000001',
        longContext: { above: 200_000, input: 2.5, output: 14, cacheRead: 0.2, cacheWrite: 3, cacheWrite1h: 4 },
        serviceTiers: { batch: '0.5' },
      },
      'acme/per-call': { input: 0.5, output: 1.5, perRequest: '0.000123' },
    },
  });
});

// Requests of several models, tiers, times and labels, with NULL buckets and rows that cannot be priced:
// an unknown model, a rate the price lacks (Gemini has no cache-write rate, OpenAI neither), an unknown
// service tier, no tokens at all, a fee per request with the request count unknown, a DeepSeek day
// bucket spanning its off-peak hours, o3 before and after its price cut.
const nullable = (max: number) => fc.option(fc.integer({ min: 0, max }), { nil: null, freq: 4 });
const requestArb = fc
  .record({
    key: fc.constantFrom('acme/tiered', 'acme/per-call', 'anthropic/claude-sonnet-4-5', 'google/gemini-2.5-pro', 'openai/o3', 'deepseek/deepseek-chat', 'nobody/unknown'),
    at: fc.constantFrom('2025-06-01T00:00:00Z', '2025-06-11T03:00:00Z', '2025-10-01T13:00:00Z'),
    granularity: fc.constantFrom<'hour' | 'day'>('hour', 'day'),
    labels: fc.constantFrom<Record<string, string>>({}, { service_tier: 'batch' }, { service_tier: 'mystery' }, { context_window: '200k-1M' }, { team: 'x' }),
    input_tokens: fc.oneof(nullable(60_000), fc.integer({ min: 150_000, max: 400_000 })),
    output_tokens: nullable(20_000),
    cached_read_tokens: nullable(60_000),
    cached_write_tokens: nullable(30_000),
    oneHour: fc.option(fc.double({ min: 0, max: 1, noNaN: true }), { nil: null }),
    requests: fc.option(fc.constantFrom(1, 1, 1, 2, 5), { nil: null, freq: 6 }),
  })
  .map(({ key, at, oneHour, cached_write_tokens, ...rest }): PriceInput => {
    const [provider, model] = key.split('/') as [string, string];
    return {
      ...rest,
      provider,
      model,
      bucket_start: new Date(at),
      cached_write_tokens,
      // Part of cached_write_tokens, as the record rule says.
      cached_write_1h_tokens: cached_write_tokens === null || oneHour === null ? null : Math.floor(cached_write_tokens * oneHour),
    };
  });

/** The sums a reader keeps per plan: every bucket, NULL as 0, the 5-minute writes apart from the 1-hour ones. */
function emptyUsage(): { -readonly [K in keyof UsageAdapterV1PlanUsage]: number } {
  return { input_tokens: 0, output_tokens: 0, cached_read_tokens: 0, cached_write_5m_tokens: 0, cached_write_1h_tokens: 0, requests: 0, web_searches: 0 };
}

function addTo(usage: ReturnType<typeof emptyUsage>, input: PriceInput): void {
  usage.input_tokens += input.input_tokens ?? 0;
  usage.output_tokens += input.output_tokens ?? 0;
  usage.cached_read_tokens += input.cached_read_tokens ?? 0;
  usage.cached_write_5m_tokens += input.cached_write_tokens === null ? 0 : input.cached_write_tokens - (input.cached_write_1h_tokens ?? 0);
  usage.cached_write_1h_tokens += input.cached_write_1h_tokens ?? 0;
  usage.requests += input.requests ?? 0;
}

describe('quoteUsage', () => {
  it('summing the tokens of requests per plan and pricing each sum once equals pricing each request and summing', () => {
    fc.assert(
      fc.property(fc.array(requestArb, { minLength: 1, maxLength: 40 }), (requests) => {
        const quote = createQuoter(registry);
        let expected = 0n;
        const expectedUnpriced: string[] = [];
        const byPlan = new Map<PricePlan, ReturnType<typeof emptyUsage>>();
        const unpriced: string[] = [];
        for (const request of requests) {
          const priced = priceUsage(registry, request);
          if (priced.status === 'priced') expected += toScaledInteger(priced.costUsd, 24);
          else expectedUnpriced.push(priced.unpricedReason);

          const quoted = quote(request);
          expect(quoted.status).toBe(priced.status);
          if (quoted.status !== 'priced') {
            unpriced.push(quoted.unpricedReason);
            continue;
          }
          if (priced.status === 'priced') expect(quoted.plan.priceRef).toBe(priced.priceRef);
          let usage = byPlan.get(quoted.plan);
          if (usage === undefined) byPlan.set(quoted.plan, (usage = emptyUsage()));
          addTo(usage, request);
        }
        let total = 0n;
        for (const [plan, usage] of byPlan) total += plan.costUnits(usage) * 10n ** BigInt(24 - plan.costDecimals);
        expect(total).toBe(expected);
        expect(unpriced).toEqual(expectedUnpriced);
      }),
      { numRuns: 400 },
    );
  });

  it('gives every request the same answer as priceUsage, cached or not, and one plan object per distinct plan', () => {
    fc.assert(
      fc.property(fc.array(requestArb, { minLength: 1, maxLength: 30 }), (requests) => {
        const quote = createQuoter(registry);
        const plans = new Map<string, PricePlan>();
        for (const request of requests) {
          const priced = priceUsage(registry, request);
          const direct = quoteUsage(registry, request);
          const cached = quote(request);
          if (priced.status === 'unpriced') {
            expect(direct).toMatchObject({ status: 'unpriced', unpricedReason: priced.unpricedReason });
            expect(cached).toMatchObject({ status: 'unpriced', unpricedReason: priced.unpricedReason });
            continue;
          }
          expect(direct.status === 'priced' && cached.status === 'priced' && direct.plan === cached.plan).toBe(true);
          if (cached.status !== 'priced') continue;
          expect(cached.plan.priceRef).toBe(priced.priceRef);
          const usage = emptyUsage();
          addTo(usage, request);
          expect(cached.plan.costUnits(usage) * 10n ** BigInt(24 - cached.plan.costDecimals)).toBe(toScaledInteger(priced.costUsd, 24));
          // Requests of every prompt size past one threshold share one plan object.
          const seen = plans.get(cached.plan.priceRef);
          if (seen === undefined) plans.set(cached.plan.priceRef, cached.plan);
          else expect(seen).toBe(cached.plan);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('is what the pricer hands adapters as quote', () => {
    const pricer = createPricer(registry);
    const request: PriceInput = {
      provider: 'anthropic',
      model: 'claude-sonnet-4-5',
      bucket_start: new Date('2025-10-01T00:00:00Z'),
      granularity: 'hour',
      input_tokens: 250_000,
      output_tokens: 10_000,
      cached_read_tokens: null,
      cached_write_tokens: null,
      cached_write_1h_tokens: null,
      requests: 1,
    };
    const quoted = pricer.quote(request);
    const priced = pricer.price(request);
    expect(quoted.status).toBe('priced');
    expect(priced).toMatchObject({ status: 'priced', costUsd: '1.725' });
    if (quoted.status !== 'priced') return;
    expect(quoted.plan.priceRef).toMatch(/anthropic\/claude-sonnet-4-5@.*;tier>200000$/);
    const usage = { ...emptyUsage(), input_tokens: 500_000, output_tokens: 20_000, requests: 2 };
    // Two such requests, summed and priced once.
    expect(quoted.plan.costUnits(usage)).toBe(toScaledInteger('3.45', quoted.plan.costDecimals));
    expect(pricer.quote({ ...request, model: 'never-heard-of-it' })).toEqual({ status: 'unpriced', unpricedReason: 'no_price' });
    expect(pricer.quote({ ...request, input_tokens: null, output_tokens: null })).toEqual({ status: 'unpriced', unpricedReason: 'no_tokens' });
  });
});

describe('createUsagePricer', () => {
  // Some counts too large for the plain-number path, so that the BigInt one answers too.
  const huge = fc.option(fc.integer({ min: 2 ** 40, max: Number.MAX_SAFE_INTEGER }), { nil: undefined, freq: 8 });
  const streamArb = fc.array(fc.tuple(requestArb, huge), { minLength: 1, maxLength: 60 }).map((pairs) =>
    pairs.map(([request, count]) => (count === undefined || request.output_tokens === null ? request : { ...request, output_tokens: count })),
  );

  it('prices every record of a stream exactly as priceUsage does, to the digit, with the same reasons', () => {
    fc.assert(
      fc.property(streamArb, (requests) => {
        const price = createUsagePricer(registry);
        for (const request of requests) expect(price(request)).toStrictEqual(priceUsage(registry, request));
      }),
      { numRuns: 500 },
    );
  });
});
